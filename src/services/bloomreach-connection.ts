/**
 * Saving and testing the Bloomreach connection. Both can end a pause (after a 401/403, or while no
 * connection existed): saving because the admin fixed it, a passing test of the saved values
 * because it proves so. Either way the events parked meanwhile go back on the queue, and the answer
 * says how many, so the admin knows the fix did something.
 *
 * A test may be of values not saved yet (the form's): it never saves them, and a pause ends only
 * when the values tested are the saved ones, because delivery uses those.
 */
import { type ConnectionTestResult, createBloomreachClient, finishChecks } from "../bloomreach/client";
import { readBloomreachConnection, readMapping } from "../db/config-queries";
import { checkVendorBaseUrl, originOf } from "../domain/outbound-url";
import {
  type BloomreachConnectionInput,
  type ConnectionDeps,
  type LoadedBloomreachCredentials,
  loadBloomreachCredentials,
  putBloomreachConnection,
  resumeBloomreachDelivery,
} from "./config";
import { type DeliveriesDeps, requeueParked } from "./deliveries";

/** A customer id no real customer has; Bloomreach answers a lookup of it without side effects. */
const PROBE_CUSTOMER = "antavo-bloomreach-relay-connection-test";

export async function saveBloomreachConnection(
  deps: ConnectionDeps & DeliveriesDeps,
  input: BloomreachConnectionInput,
) {
  const before = await readBloomreachConnection(deps.db);
  const connection = await putBloomreachConnection(deps, input);
  const requeued = await requeueParked(deps);
  return {
    ...connection,
    ...(requeued > 0 ? { requeued } : {}),
    // Saving always leaves delivery active; say so only when it was paused, so the page can tell.
    ...(before?.deliveryState === "paused" ? { resumed: true as const } : {}),
  };
}

export type ConnectionTestAnswer = ConnectionTestResult & {
  /** `saved`: the stored connection was tested; `unsaved`: values given with the request, not saved. */
  tested: "saved" | "unsaved";
  /** Parked events queued again because a test of the saved values ended a pause. */
  resumed?: number;
};

type Candidate =
  | {
      ok: true;
      credentials: Omit<LoadedBloomreachCredentials, "paused">;
      isSaved: boolean;
      credentialsMissing?: string;
    }
  | { ok: false; result: ConnectionTestResult };

/**
 * Reachability (URL + token), credentials, and Get permission, each reported with its reason.
 * Without `input` the saved connection is tested; with it, those values (a missing secret means the
 * saved one, sent only to the host it was saved for). A base URL that would be refused today is not
 * called.
 */
export async function testBloomreachConnection(
  deps: ConnectionDeps & DeliveriesDeps & { fetch: typeof fetch },
  input?: BloomreachConnectionInput,
): Promise<ConnectionTestAnswer> {
  const saved = await loadBloomreachCredentials(deps);
  const candidate = input ? fromInput(deps, input, saved) : fromSaved(deps, saved);
  if (!candidate.ok) return { ...candidate.result, tested: input ? "unsaved" : "saved" };
  const mapping = await readMapping(deps.db);
  const client = createBloomreachClient({ ...candidate.credentials }, { fetch: deps.fetch });
  const result = await client.testConnection(
    { [mapping.hardId?.remoteId ?? "registered"]: PROBE_CUSTOMER },
    candidate.credentialsMissing === undefined ? {} : { credentialsMissing: candidate.credentialsMissing },
  );
  // Values equal to the saved ones are what delivery meets: only their pass ends a pause.
  const answer: ConnectionTestAnswer = { ...result, tested: candidate.isSaved ? "saved" : "unsaved" };
  if (result.ok && candidate.isSaved && saved?.paused) {
    await resumeBloomreachDelivery(deps);
    return { ...answer, resumed: await requeueParked(deps) };
  }
  return answer;
}

function notRun(check: { ok: false; message: string; skipped?: true }, skipReason: string): ConnectionTestResult {
  return finishChecks([{ name: "reachability", ...check }], skipReason);
}

function fromSaved(deps: ConnectionDeps, saved: LoadedBloomreachCredentials | undefined): Candidate {
  if (!saved) {
    const reason = "no connection is saved yet: enter the values and test them, or PUT /api/connection first";
    return { ok: false, result: notRun({ ok: false, skipped: true, message: `skipped: ${reason}` }, reason) };
  }
  const host = checkVendorBaseUrl("bloomreach", saved.baseUrl, { environment: deps.environment });
  if (!host.ok)
    return {
      ok: false,
      result: notRun(
        { ok: false, message: `not called: the saved base URL ${host.message}; save the connection again` },
        "the base URL is not accepted",
      ),
    };
  return { ok: true, credentials: saved, isSaved: true };
}

function fromInput(
  deps: ConnectionDeps,
  input: BloomreachConnectionInput,
  saved: LoadedBloomreachCredentials | undefined,
): Candidate {
  const host = checkVendorBaseUrl("bloomreach", input.baseUrl, { environment: deps.environment });
  if (!host.ok)
    return {
      ok: false,
      result: notRun(
        { ok: false, message: `not called: the base URL ${host.message}` },
        "the base URL is not accepted",
      ),
    };
  const baseUrl = host.origin;
  // The saved secret goes only to the host it was saved for, as when saving (services/config.ts).
  const sameHost = saved !== undefined && originOf(saved.baseUrl) === baseUrl;
  const apiSecret = input.apiSecret ?? (sameHost ? saved.apiSecret : undefined);
  const credentials = {
    baseUrl,
    projectToken: input.projectToken,
    apiKeyId: input.apiKeyId,
    apiSecret: apiSecret ?? "",
  };
  const isSaved =
    sameHost &&
    saved.projectToken === input.projectToken &&
    saved.apiKeyId === input.apiKeyId &&
    saved.apiSecret === apiSecret;
  if (apiSecret !== undefined) return { ok: true, credentials, isSaved };
  return {
    ok: true,
    credentials,
    isSaved: false,
    credentialsMissing: saved
      ? "not checked: the base URL names another host than the saved one, so the saved API secret is not sent there; enter the API secret to test it"
      : "not checked: no API secret is saved yet; enter it to test the credentials",
  };
}
