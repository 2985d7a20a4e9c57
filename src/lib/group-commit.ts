/**
 * Group commit: concurrent callers in one isolate share round trips. A caller that finds no flush
 * in flight flushes at once (no added latency when idle), taking every caller queued so far (up to
 * `maxItems`); callers arriving meanwhile wait for it and then flush together. Each caller gets its
 * own result only after its item is written.
 *
 * Workers cancel a request's I/O once that request has answered, so a flush is always performed by
 * a caller that is still waiting for its own result, never by one that may already have answered.
 *
 * A group whose flush fails is flushed again member by member (invariant 9): one bad item fails
 * alone instead of failing every caller that happened to share its round trip.
 */
export function groupCommit<Item, Result>(
  flush: (items: Item[]) => Promise<Result[]>,
  maxItems: number,
): (item: Item) => Promise<Result> {
  type Entry = { item: Item; done: boolean; result?: Result; error?: unknown };
  const queue: Entry[] = [];
  let inFlight: Promise<void> | undefined;

  const settle = async (group: Entry[]) => {
    const results = await flush(group.map((e) => e.item));
    for (const [i, e] of group.entries()) Object.assign(e, { done: true, result: results[i] });
  };
  const run = async (group: Entry[]) => {
    try {
      await settle(group);
    } catch (error) {
      if (group.length === 1) {
        Object.assign(group[0]!, { done: true, error });
        return;
      }
      // Any one member may be the cause: each gets a flush of its own, so only that one fails.
      await Promise.all(
        group.map((entry) => settle([entry]).catch((own: unknown) => Object.assign(entry, { done: true, error: own }))),
      );
    }
  };

  return async (item) => {
    const entry: Entry = { item, done: false };
    queue.push(entry);
    while (!entry.done) {
      if (inFlight) {
        await inFlight;
        continue;
      }
      // FIFO: this caller's entry may be past maxItems; then it waits for the next round.
      const group = queue.splice(0, maxItems);
      inFlight = run(group).finally(() => (inFlight = undefined));
      await inFlight;
    }
    if (entry.error !== undefined) throw entry.error;
    return entry.result as Result;
  };
}
