/** lib/concurrency: the bounded pool the send stage and the consumer's one-by-one fallback share. */
import { describe, expect, it } from "vitest";
import { forEachConcurrently } from "../src/lib/concurrency";

/** A task that waits until released, so the test sees how many run at once. */
function gatedTasks() {
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const releases: (() => void)[] = [];
  const task = async (item: number) => {
    started.push(item);
    running++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => releases.push(resolve));
    running--;
  };
  return { task, started, releases, most: () => most };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("forEachConcurrently", () => {
  it("runs at most `limit` tasks at once, starts them in order, and waits for all", async () => {
    const gate = gatedTasks();
    let finished = false;
    const run = forEachConcurrently([0, 1, 2, 3, 4, 5, 6], 3, gate.task).then(() => (finished = true));
    await tick();
    expect(gate.started).toEqual([0, 1, 2]);
    // Freeing one slot starts exactly the next item.
    gate.releases.shift()!();
    await tick();
    expect(gate.started).toEqual([0, 1, 2, 3]);
    while (!finished) {
      for (const release of gate.releases.splice(0)) release();
      await tick();
    }
    await run;
    expect(gate.started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(gate.most()).toBe(3);
  });

  it("passes each item's index and never starts more workers than items", async () => {
    const seen: [string, number][] = [];
    await forEachConcurrently(["a", "b"], 10, async (item, index) => {
      seen.push([item, index]);
    });
    expect(seen).toEqual([
      ["a", 0],
      ["b", 1],
    ]);
    await expect(forEachConcurrently([], 4, async () => {})).resolves.toBeUndefined();
  });

  it("rejects when a task throws", async () => {
    const run = forEachConcurrently([1, 2, 3], 2, async (item) => {
      if (item === 2) throw new Error("task 2 failed");
    });
    await expect(run).rejects.toThrow("task 2 failed");
  });
});
