/**
 * What several replicas need from every DraftStore: leases with growing tokens, writes fenced by a
 * lease, the sweep for threads nobody drives, and wake-ups. Each store kind's test file calls
 * defineLeaseContract with a factory that opens a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DraftStore,
  type Lease,
  LeaseLostError,
  type LeaseRef,
  type ThreadRecord,
  type TurnRecord,
  type TurnState,
} from "../../src/drafting/store.ts";

export interface OpenedStore<S> {
  store: S;
  cleanup: () => Promise<void>;
}

const T0 = 1_760_000_000_000;
const TTL = 15_000;

let tsCounter = 0;

async function newThread(store: DraftStore): Promise<ThreadRecord> {
  tsCounter++;
  const created = await store.createThread(
    {
      teamId: "T1",
      channelId: "C1",
      threadTs: `1760000000.${String(tsCounter).padStart(6, "0")}`,
      startedBy: "U1",
    },
    T0,
  );
  if (created === "thread_exists") throw new Error("test setup: thread already exists");
  return created;
}

async function newTurn(
  store: DraftStore,
  threadId: number,
  patch: { state?: TurnState; timedOutAt?: number } = {},
) {
  const turn = await store.addTurn({ threadId, kind: "chat", text: "shorter", authorId: "U2" }, { now: T0 });
  if (turn === "duplicate") throw new Error("test setup: duplicate turn");
  if (patch.state || patch.timedOutAt) await store.updateTurns([turn.id], patch);
  return (await store.getTurn(turn.id)) as TurnRecord;
}

async function lease(store: DraftStore, threadId: number, owner: string, now = T0): Promise<Lease> {
  const taken = await store.acquireLease(threadId, owner, now, TTL);
  if (!taken) throw new Error(`test setup: ${owner} could not take thread ${threadId}`);
  return taken;
}

const ref = (held: Lease): LeaseRef => ({ threadId: held.threadId, owner: held.owner, token: held.token });

async function expectLost(write: Promise<unknown>, threadId: number): Promise<void> {
  const error = await write.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(LeaseLostError);
  expect((error as LeaseLostError).threadId).toBe(threadId);
}

export function defineLeaseContract(name: string, open: () => Promise<OpenedStore<DraftStore>>): void {
  describe(`DraftStore leases, fencing and wake-ups: ${name}`, () => {
    let subject: OpenedStore<DraftStore>;
    let store: DraftStore;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe("leases", () => {
      it("takes a free lease, until now + ttl, from nobody", async () => {
        const thread = await newThread(store);
        const taken = await lease(store, thread.id, "replica-a");
        expect(taken).toStrictEqual({
          threadId: thread.id,
          owner: "replica-a",
          token: expect.any(Number),
          expiresAt: T0 + TTL,
          takenFrom: null,
        });
        expect(taken.token).toBeGreaterThan(0);
      });

      it("refuses a lease another owner holds until it lapses, then takes it over with a new token", async () => {
        const thread = await newThread(store);
        const first = await lease(store, thread.id, "replica-a");
        expect(await store.acquireLease(thread.id, "replica-b", T0 + 1, TTL)).toBeUndefined();
        expect(await store.acquireLease(thread.id, "replica-b", T0 + TTL - 1, TTL)).toBeUndefined();
        const second = await lease(store, thread.id, "replica-b", T0 + TTL);
        expect(second).toMatchObject({ owner: "replica-b", expiresAt: T0 + 2 * TTL, takenFrom: "replica-a" });
        expect(second.token).toBeGreaterThan(first.token);
        // Now the first owner is the one refused.
        expect(await store.acquireLease(thread.id, "replica-a", T0 + TTL + 1, TTL)).toBeUndefined();
      });

      it("renews its own unexpired lease on acquire, keeping the token", async () => {
        const thread = await newThread(store);
        const first = await lease(store, thread.id, "replica-a");
        const again = await lease(store, thread.id, "replica-a", T0 + 5_000);
        expect(again).toStrictEqual({ ...first, expiresAt: T0 + 5_000 + TTL });
      });

      it("gives its own lapsed lease a new token, so writes fenced by the old one are refused", async () => {
        const thread = await newThread(store);
        const first = await lease(store, thread.id, "replica-a");
        const again = await lease(store, thread.id, "replica-a", T0 + TTL);
        expect(again.token).toBeGreaterThan(first.token);
        expect(again.takenFrom).toBeNull();
        await expectLost(store.updateThread(thread.id, { turnCount: 1 }, ref(first)), thread.id);
      });

      it("grows the token with every new holder", async () => {
        const thread = await newThread(store);
        const tokens: number[] = [];
        for (const [i, owner] of ["a", "b", "c", "a"].entries())
          tokens.push((await lease(store, thread.id, owner, T0 + i * TTL)).token);
        expect([...tokens].sort((x, y) => x - y)).toEqual(tokens);
        expect(new Set(tokens).size).toBe(4);
      });

      it("answers undefined for a thread that does not exist", async () => {
        expect(await store.acquireLease(987_654, "replica-a", T0, TTL)).toBeUndefined();
      });

      it("renews the leases still held, in the order given, and drops the lost ones", async () => {
        const [a, b, c] = [await newThread(store), await newThread(store), await newThread(store)];
        const held = [
          await lease(store, c.id, "r1"),
          await lease(store, a.id, "r1"),
          await lease(store, b.id, "r1"),
        ];
        // b lapses and another replica takes it.
        await lease(store, b.id, "r2", T0 + TTL);
        expect(await store.renewLeases(held.map(ref), T0 + TTL, TTL)).toEqual([c.id, a.id]);
        // The renewed ones hold until the new expiry.
        expect(await store.acquireLease(a.id, "r2", T0 + 2 * TTL - 1, TTL)).toBeUndefined();
        expect(await store.acquireLease(c.id, "r2", T0 + 2 * TTL, TTL)).toMatchObject({ takenFrom: "r1" });
        expect(await store.renewLeases([], T0, TTL)).toEqual([]);
      });

      it("renews only with the current token", async () => {
        const thread = await newThread(store);
        const first = await lease(store, thread.id, "r1");
        const second = await lease(store, thread.id, "r1", T0 + TTL);
        expect(await store.renewLeases([ref(first)], T0 + TTL + 1, TTL)).toEqual([]);
        expect(await store.renewLeases([ref(second)], T0 + TTL + 1, TTL)).toEqual([thread.id]);
      });

      it("releases a lease at once, so that anyone takes it without a takeover", async () => {
        const thread = await newThread(store);
        const held = await lease(store, thread.id, "r1");
        await store.releaseLeases([ref(held)]);
        const next = await lease(store, thread.id, "r2", T0 + 1);
        expect(next.takenFrom).toBeNull();
        expect(next.token).toBeGreaterThan(held.token);
        await store.releaseLeases([]);
      });

      it("ignores a release by a lease that is no longer current", async () => {
        const thread = await newThread(store);
        const stale = await lease(store, thread.id, "r1");
        const current = await lease(store, thread.id, "r2", T0 + TTL);
        await store.releaseLeases([ref(stale)]);
        expect(await store.acquireLease(thread.id, "r3", T0 + TTL + 1, TTL)).toBeUndefined();
        expect(await store.renewLeases([ref(current)], T0 + TTL + 1, TTL)).toEqual([thread.id]);
      });
    });

    describe("threads without a driver", () => {
      it("lists threads with open turns whose lease is free or lapsed, by id, up to the limit", async () => {
        const free = await newThread(store);
        const held = await newThread(store);
        const lapsed = await newThread(store);
        const released = await newThread(store);
        const idle = await newThread(store);
        const sending = await newThread(store);
        for (const thread of [free, held, lapsed, released]) await newTurn(store, thread.id);
        await newTurn(store, idle.id, { state: "done" });
        await newTurn(store, sending.id, { state: "sending" });
        await lease(store, held.id, "r1", T0 + 10_000);
        await lease(store, lapsed.id, "r1", T0 - TTL);
        await store.releaseLeases([ref(await lease(store, released.id, "r1"))]);

        expect(await store.threadsWithoutDriver(T0, 10)).toEqual([
          free.id,
          lapsed.id,
          released.id,
          sending.id,
        ]);
        expect(await store.threadsWithoutDriver(T0, 2)).toEqual([free.id, lapsed.id]);
        // Once the held lease lapses, its thread is listed too.
        expect(await store.threadsWithoutDriver(T0 + 10_000 + TTL, 10)).toEqual([
          free.id,
          held.id,
          lapsed.id,
          released.id,
          sending.id,
        ]);
      });

      it("does not list a thread whose only open-looking turns timed out, nor one with nothing open", async () => {
        const timedOut = await newThread(store);
        await newTurn(store, timedOut.id, { state: "dispatched", timedOutAt: T0 });
        await newTurn(store, timedOut.id, { state: "failed" });
        const dispatched = await newThread(store);
        await newTurn(store, dispatched.id, { state: "dispatched" });
        await newThread(store);
        expect(await store.threadsWithoutDriver(T0, 10)).toEqual([dispatched.id]);
      });
    });

    defineFencedWrites(() => store);
    defineWakeUps(() => store);
  });
}

function defineFencedWrites(current: () => DraftStore): void {
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

function defineWakeUps(current: () => DraftStore): void {
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
