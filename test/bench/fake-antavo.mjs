/**
 * The bench's Antavo: a loopback Node server answering `GET /customers/{id}` after a fixed latency
 * with a customer object that lacks `birth_date` (so a mapping of it can never be satisfied), and
 * counting the calls per customer; and taking the other direction's `POST /events` and
 * `POST /events/bulk` (<= 50 events), counting calls and events by their `data.bench_seq`. The signature is checked only for its shape (algorithm,
 * credential of the configured key and environment, a `date` header): the signer has its own tests.
 * Anything else is answered 404 and reported as unexpected.
 */
import { createServer } from "node:http";

const CUSTOMER_ROUTE = /^\/customers\/([^/?]+)$/;

export async function startFakeAntavo({ apiKey, environment, latencyMs = 30 }) {
  const credential = new RegExp(
    `^ANTAVO-HMAC-SHA256 Credential=${apiKey}/\\d{8}/${environment}/api/antavo_request, SignedHeaders=[a-z;-]*date[a-z;-]*, Signature=[0-9a-f]{64}$`,
  );
  const stats = {
    customerCalls: 0,
    /** customer id -> GET /customers/{id} calls */
    callsByCustomer: new Map(),
    badSignatures: 0,
    unexpected: [],
    /** POST /events and POST /events/bulk calls, and the events they carried by bench_seq. */
    eventCalls: 0,
    bulkCalls: 0,
    eventSeqCounts: new Map(),
    lastEventAt: undefined,
  };
  const flag = (message) => stats.unexpected.length < 50 && stats.unexpected.push(message);

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "POST" && (req.url === "/events" || req.url === "/events/bulk")) {
        if (!credential.test(req.headers.authorization ?? "") || !req.headers.date) {
          stats.badSignatures++;
          flag("bad signature");
          return reply(res, 401, { error: { type: "unauthorized", code: 401, message: "Invalid signature" } });
        }
        let body;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          flag(`${req.url}: not JSON`);
          return reply(res, 400, { error: { type: "invalid", code: 400, message: "Invalid JSON" } });
        }
        const bulk = req.url === "/events/bulk";
        const events = bulk ? body?.events : [body];
        if (!Array.isArray(events) || events.length === 0 || events.length > 50) {
          flag(`${req.url}: ${events?.length} events`);
          return reply(res, 400, { error: { type: "invalid", code: 400, message: "1..50 events" } });
        }
        stats.eventCalls++;
        if (bulk) stats.bulkCalls++;
        for (const event of events) {
          const seq = event?.data?.bench_seq;
          stats.eventSeqCounts.set(seq, (stats.eventSeqCounts.get(seq) ?? 0) + 1);
        }
        stats.lastEventAt = Date.now();
        return setTimeout(
          () =>
            reply(
              res,
              200,
              bulk
                ? { results: events.map((e) => ({ events: [e] })), total: events.length, errors: 0 }
                : { id: events[0].customer, events },
            ),
          latencyMs,
        );
      }
      const match = CUSTOMER_ROUTE.exec(req.url ?? "");
      if (req.method !== "GET" || !match) {
        flag(`${req.method} ${req.url}`);
        return reply(res, 404, { error: { type: "not_found", code: 404, message: "Not found" } });
      }
      if (!credential.test(req.headers.authorization ?? "") || !req.headers.date) {
        stats.badSignatures++;
        flag("bad signature");
        return reply(res, 401, { error: { type: "unauthorized", code: 401, message: "Invalid signature" } });
      }
      const id = decodeURIComponent(match[1]);
      stats.customerCalls++;
      stats.callsByCustomer.set(id, (stats.callsByCustomer.get(id) ?? 0) + 1);
      setTimeout(
        () =>
          reply(res, 200, {
            id,
            email: `${id}@bench.example`,
            first_name: "Bench",
            last_name: "Customer",
            status: "active",
            score: 120,
            spendable: 80,
            tiers: [{ id: "t1", name: "Silver" }],
            properties: {},
            // No birth_date: the field the bench maps is one this program does not have.
          }),
        latencyMs,
      );
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    maxCallsPerCustomer: () => Math.max(0, ...stats.callsByCustomer.values()),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
