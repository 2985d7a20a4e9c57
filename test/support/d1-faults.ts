/**
 * A real D1 binding with one injected fault: the next `times` batches that write the delivery log
 * fail like an overloaded D1. Statements are recognised by their SQL, so everything else passes.
 */
export function failingDeliveryLog(real: D1Database, times = 1) {
  const sqlOf = new WeakMap<object, string>();
  let remaining = times;
  const tag = (statement: D1PreparedStatement, query: string): D1PreparedStatement => {
    sqlOf.set(statement, query);
    const bind = statement.bind.bind(statement);
    statement.bind = (...values: unknown[]) => tag(bind(...values), query);
    return statement;
  };
  const db = new Proxy(real, {
    get(target, property) {
      if (property === "prepare") return (query: string) => tag(target.prepare(query), query);
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const writesLog = statements.some((s) => /insert into "deliveries"/i.test(sqlOf.get(s) ?? ""));
          if (writesLog && remaining > 0) {
            remaining--;
            throw new Error("D1_ERROR: D1 DB is overloaded. Requests queued for too long.");
          }
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, failuresLeft: () => remaining };
}
