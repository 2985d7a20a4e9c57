/**
 * Group commit: concurrent callers in one isolate share round trips. A caller that finds no flush
 * in flight flushes at once (no added latency when idle), taking every caller queued so far (up to
 * `maxItems`); callers arriving meanwhile wait for it and then flush together. Each caller gets its
 * own result only after its item is written.
 *
 * Workers cancel a request's I/O once that request has answered, so a flush is always performed by
 * a caller that is still waiting for its own result, never by one that may already have answered.
 */
export function groupCommit<Item, Result>(
  flush: (items: Item[]) => Promise<Result[]>,
  maxItems: number,
): (item: Item) => Promise<Result> {
  type Entry = { item: Item; done: boolean; result?: Result; error?: unknown };
  const queue: Entry[] = [];
  let inFlight: Promise<void> | undefined;

  const run = async (group: Entry[]) => {
    try {
      const results = await flush(group.map((e) => e.item));
      for (const [i, e] of group.entries()) Object.assign(e, { done: true, result: results[i] });
    } catch (error) {
      for (const e of group) Object.assign(e, { done: true, error });
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
