/**
 * Writes fenced by a lease: applied while the lease is the thread's current one, else refused with
 * LeaseLostError and nothing changed. Part of defineLeaseContract.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { DraftStore, Lease, LeaseRef, ThreadRecord, TurnRecord } from "../../src/drafting/store.ts";
import { expectLost, lease, newThread, newTurn, ref, T0, TTL } from "./replica-fixtures.ts";

export function defineFencedWriteContract(current: () => DraftStore): void {
  describe("fenced writes", () => {
    let store: DraftStore;
    let thread: ThreadRecord;
    let turns: TurnRecord[];
    let held: Lease;
    beforeEach(async () => {
      store = current();
      thread = await newThread(store);
      turns = [await newTurn(store, thread.id), await newTurn(store, thread.id)];
      held = await lease(store, thread.id, "r1");
    });

    /** What a refused write must leave exactly as it was. */
    async function snapshot() {
      return { thread: await store.getThreadById(thread.id), turns: await store.listTurns(thread.id) };
    }

    it("applies each write while the lease is current", async () => {
      const fence = ref(held);
      await store.updateThread(thread.id, { turnCount: 3, draftHash: "h1" }, fence);
      expect(await store.getThreadById(thread.id)).toMatchObject({ turnCount: 3, draftHash: "h1" });
      await store.updateTurns([turns[0]!.id], { state: "sending", attempts: 1 }, fence);
      expect(await store.getTurn(turns[0]!.id)).toMatchObject({ state: "sending", attempts: 1 });
      const other = await newThread(store);
      await store.moveTurns([turns[1]!.id], other.id, fence);
      expect((await store.getTurn(turns[1]!.id))?.threadId).toBe(other.id);
      await store.deleteThread(thread.id, fence);
      expect(await store.getThreadById(thread.id)).toBeUndefined();
    });

    /** Ways a lease stops being current; each answers the fence a late writer still holds. */
    const staleFences: [string, () => Promise<LeaseRef>][] = [
      [
        "after another replica took the lease over",
        async () => {
          await lease(store, thread.id, "r2", T0 + TTL);
          return ref(held);
        },
      ],
      [
        "with an older token of the same owner",
        async () => {
          await lease(store, thread.id, "r1", T0 + TTL);
          return ref(held);
        },
      ],
      [
        "after the lease was released",
        async () => {
          await store.releaseLeases([ref(held)]);
          return ref(held);
        },
      ],
      ["with a lease never taken", async () => ({ ...ref(held), owner: "r9" })],
    ];
    for (const [how, stale] of staleFences) {
      it(`refuses every write ${how}, changing nothing`, async () => {
        const fence = await stale();
        const other = await newThread(store);
        const before = await snapshot();
        await expectLost(store.updateThread(thread.id, { turnCount: 9 }, fence), thread.id);
        await expectLost(store.updateThread(thread.id, {}, fence), thread.id);
        await expectLost(store.updateTurns([turns[0]!.id], { state: "done" }, fence), thread.id);
        await expectLost(store.updateTurns([], { state: "done" }, fence), thread.id);
        await expectLost(store.moveTurns([turns[0]!.id], other.id, fence), thread.id);
        await expectLost(store.deleteThread(thread.id, fence), thread.id);
        expect(await snapshot()).toStrictEqual(before);
        expect(await store.listTurns(other.id)).toEqual([]);
      });
    }

    it("refuses a fenced turn update that names a turn of another thread, changing none", async () => {
      const other = await newThread(store);
      const foreign = await newTurn(store, other.id);
      const before = await snapshot();
      await expectLost(
        store.updateTurns([turns[0]!.id, foreign.id], { state: "done" }, ref(held)),
        thread.id,
      );
      await expectLost(store.updateTurns([987_654], { state: "done" }, ref(held)), thread.id);
      expect(await snapshot()).toStrictEqual(before);
      expect(await store.getTurn(foreign.id)).toStrictEqual(foreign);
    });

    it("still lets unfenced writes through (intake and 'check again' need no lease)", async () => {
      await lease(store, thread.id, "r2", T0 + TTL);
      await store.updateTurns([turns[0]!.id], { timedOutAt: null, deadlineAt: T0 + 1 });
      expect((await store.getTurn(turns[0]!.id))?.deadlineAt).toBe(T0 + 1);
    });
  });
}
