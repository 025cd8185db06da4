/**
 * What several replicas need from every DraftStore: leases with growing tokens, the sweep for threads
 * nobody drives, writes fenced by a lease (fencing-contract.ts) and wake-ups (wake-contract.ts). Each
 * store kind's test file calls defineLeaseContract with a factory that opens a fresh, empty store per
 * test.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DraftStore } from "../../src/drafting/store.ts";
import { defineFencedWriteContract } from "./fencing-contract.ts";
import { expectLost, lease, newThread, newTurn, type OpenedStore, ref, T0, TTL } from "./replica-fixtures.ts";
import { defineWakeUpContract } from "./wake-contract.ts";

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

    defineFencedWriteContract(() => store);
    defineWakeUpContract(() => store);
  });
}
