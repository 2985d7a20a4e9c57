/**
 * A bounded pool: `task` runs for every item, at most `limit` at a time, items taken in order as
 * slots free up. Resolves when every task has finished; a task that throws rejects the whole run
 * (callers that must not stop at one failure catch inside their task).
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
