/**
 * Counts, from outside src/, what each consumer batch of the relay costs in round trips. The bench
 * serves the relay through a generated entry (see countingEntry) that re-exports the built bundle
 * with its queue handler and Durable Object classes wrapped:
 *   - the queue handler gets an env whose DB and Durable Object namespaces count: D1 round trips
 *     (each run/all/first/raw/exec, each batch) and statements (a batch counts each of its own),
 *     and RPC calls on each namespace's stubs (the DO round trips);
 *   - each Durable Object's storage counts its API calls (get, put, delete, list, alarms,
 *     transaction, sync, sql.exec; a call with many keys is one call).
 * After each batch the handler writes one stdout line `BENCH_COUNTS {json}` with the deltas, which
 * the bench reads from workerd's output. The fetch handler (ingest) is passed through untouched, so
 * the D1 figures are the consumer's own; storage counts are the isolate's (only the consumer calls
 * the objects during a burst). The wrapping is a few Proxy traps per call: microseconds against the
 * milliseconds of the calls it counts. Never part of src/.
 */

const counts = { d1Calls: 0, d1Statements: 0, storageOps: 0, doCalls: {} };

const bindTo = (target, value) => (typeof value === "function" ? value.bind(target) : value);

const EXECUTE = new Set(["run", "all", "first", "raw"]);
const unwrapped = new WeakMap();

function countingStatement(statement) {
  const proxy = new Proxy(statement, {
    get(target, prop) {
      if (prop === "bind") return (...args) => countingStatement(target.bind(...args));
      if (EXECUTE.has(prop))
        return (...args) => {
          counts.d1Calls++;
          counts.d1Statements++;
          return target[prop](...args);
        };
      return bindTo(target, Reflect.get(target, prop));
    },
  });
  unwrapped.set(proxy, statement);
  return proxy;
}

function countingDatabase(db) {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql) => countingStatement(target.prepare(sql));
      if (prop === "batch")
        return (statements) => {
          counts.d1Calls++;
          counts.d1Statements += statements.length;
          return target.batch(statements.map((s) => unwrapped.get(s) ?? s));
        };
      if (prop === "exec")
        return (sql) => {
          counts.d1Calls++;
          counts.d1Statements++;
          return target.exec(sql);
        };
      return bindTo(target, Reflect.get(target, prop));
    },
  });
}

const STUB_PLAIN = new Set(["id", "name", "then", "dup", "toJSON"]);

function countingStub(stub, binding) {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof prop === "symbol" || STUB_PLAIN.has(prop) || typeof value !== "function") return value;
      return (...args) => {
        counts.doCalls[binding] = (counts.doCalls[binding] ?? 0) + 1;
        return target[prop](...args);
      };
    },
  });
}

function countingNamespace(namespace, binding) {
  return new Proxy(namespace, {
    get(target, prop) {
      if (prop === "get" || prop === "getByName") return (...args) => countingStub(target[prop](...args), binding);
      return bindTo(target, Reflect.get(target, prop));
    },
  });
}

const envs = new WeakMap();

/** One counting env per real env, so the relay's per-env caches keep working. */
function countingEnv(env) {
  let wrapped = envs.get(env);
  if (!wrapped) {
    wrapped = { ...env };
    for (const [key, value] of Object.entries(env)) {
      if (value && typeof value.prepare === "function" && typeof value.batch === "function")
        wrapped[key] = countingDatabase(value);
      else if (value && typeof value.idFromName === "function") wrapped[key] = countingNamespace(value, key);
    }
    envs.set(env, wrapped);
  }
  return wrapped;
}

const snapshot = () => ({ ...counts, doCalls: { ...counts.doCalls } });

function delta(before) {
  const doCalls = {};
  for (const [k, n] of Object.entries(counts.doCalls)) doCalls[k] = n - (before.doCalls[k] ?? 0);
  return {
    d1Calls: counts.d1Calls - before.d1Calls,
    d1Statements: counts.d1Statements - before.d1Statements,
    storageOps: counts.storageOps - before.storageOps,
    doCalls,
  };
}

export function countingWorker(worker) {
  return {
    ...worker,
    async queue(batch, env, ctx) {
      const before = snapshot();
      const started = Date.now();
      try {
        return await worker.queue(batch, countingEnv(env), ctx);
      } finally {
        const counted = delta(before);
        const any =
          counted.d1Calls + counted.storageOps + Object.values(counted.doCalls).reduce((a, b) => a + b, 0) > 0;
        // A batch that called nothing (the bench's no-op hand-off consumers) writes no line.
        if (any)
          console.log(
            `BENCH_COUNTS ${JSON.stringify({ queue: batch.queue, size: batch.messages.length, ms: Date.now() - started, ...counted })}`,
          );
      }
    },
  };
}

const STORAGE_CALLS = [
  "get",
  "put",
  "delete",
  "deleteAll",
  "list",
  "getAlarm",
  "setAlarm",
  "deleteAlarm",
  "transaction",
  "sync",
];

/**
 * Counts the storage API calls of one object. The ctx must stay the runtime's own (the object's
 * base class refuses a Proxy), so the storage instance gets counting methods of its own instead.
 */
function countStorage(storage) {
  for (const name of STORAGE_CALLS) {
    const original = storage[name];
    if (typeof original !== "function") continue;
    storage[name] = (...args) => {
      counts.storageOps++;
      return original.apply(storage, args);
    };
  }
  const sql = storage.sql;
  if (sql && typeof sql.exec === "function") {
    const exec = sql.exec;
    sql.exec = (...args) => {
      counts.storageOps++;
      return exec.apply(sql, args);
    };
  }
}

export function countingObject(Base) {
  return class extends Base {
    constructor(ctx, env) {
      super(ctx, env);
      countStorage(ctx.storage);
    }
  };
}

/** The entry module's text: the bundle's exports, with the handler and the objects wrapped. */
export function countingEntry(bundleFile, classNames) {
  return [
    `import * as relay from "./${bundleFile}";`,
    `import { countingObject, countingWorker } from "./counting.mjs";`,
    "export default countingWorker(relay.default);",
    ...classNames.map((name) => `export const ${name} = countingObject(relay.${name});`),
    "",
  ].join("\n");
}
