/** Wake-ups: every listener hears every wake-up, until it unsubscribes. Part of defineLeaseContract. */
import { describe, expect, it } from "vitest";
import type { DraftStore } from "../../src/drafting/store.ts";

export function defineWakeUpContract(current: () => DraftStore): void {
  describe("wake-ups", () => {
    /** Resolves with the next `count` thread ids a listener hears. */
    function hear(store: DraftStore, count: number) {
      const heard: number[] = [];
      let stop = () => {};
      const done = new Promise<number[]>((resolve) => {
        stop = store.onWake((threadId) => {
          heard.push(threadId);
          if (heard.length === count) resolve(heard);
        });
      });
      return { done, heard, stop: () => stop() };
    }

    it("reaches every listener, in the order sent", async () => {
      const store = current();
      const first = hear(store, 2);
      const second = hear(store, 2);
      await store.wake(7);
      await store.wake(8);
      expect(await first.done).toEqual([7, 8]);
      expect(await second.done).toEqual([7, 8]);
      first.stop();
      second.stop();
    });

    it("stops calling a listener once it unsubscribed", async () => {
      const store = current();
      const gone = hear(store, 1);
      const staying = hear(store, 2);
      await store.wake(1);
      await gone.done;
      gone.stop();
      await store.wake(2);
      expect(await staying.done).toEqual([1, 2]);
      expect(gone.heard).toEqual([1]);
      staying.stop();
    });
  });
}
