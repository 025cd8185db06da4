import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/index.ts";
import {
  DRAFT_STEP,
  type DraftingHarness,
  dana,
  newThreadRef,
  startDraftingHarness,
} from "../support/drafting-harness.ts";
import { eventually } from "../support/puffle.ts";

/**
 * Two drafting cores on one store, as two replicas would be. (Over SQLite in one process: wake-ups do
 * not cross store handles, so the sweep is what moves work; the PostgreSQL replica tests cover
 * wake-ups across processes.)
 */
let harness: DraftingHarness;
beforeAll(async () => {
  harness = await startDraftingHarness({ taskDelayMs: 1200 });
});
afterAll(async () => {
  await harness.close();
});

/** A store whose lease calls fail from the moment `cut` is set: the replica is cut off from it. */
function cutOff(state: { cut: boolean }) {
  const down = () => Promise.reject(new Error("database unreachable"));
  return (store: Store): Store => ({
    ...store,
    renewLeases: (leases, now, ttl) => (state.cut ? down() : store.renewLeases(leases, now, ttl)),
    acquireLease: (threadId, owner, now, ttl) =>
      state.cut ? down() : store.acquireLease(threadId, owner, now, ttl),
    threadsWithoutDriver: (now, limit) => (state.cut ? down() : store.threadsWithoutDriver(now, limit)),
  });
}

describe("replicas", () => {
  it("a replica that loses its lease stops; another takes the thread over and finishes the turn once", async () => {
    const state = { cut: false };
    const a = await harness.start({ leaseTtlMs: 600, wrapStore: cutOff(state) });
    const ref = newThreadRef();
    const started = await a.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: dana,
      text: "Intro for CFOs",
    });
    if (started.status !== "accepted") throw new Error(started.status);
    const threadId = started.thread.id;
    await a.waitFor("dispatched", threadId);
    const b = await harness.start({ leaseTtlMs: 600 });
    state.cut = true; // a can no longer renew: its lease lapses, b's sweep takes the thread

    await b.waitFor("result", threadId, 1, 8000);
    const sessionId = (await b.store.getThreadById(threadId))?.sessionId ?? "";
    expect(harness.emulator.state.turnRequests(sessionId)).toHaveLength(1);
    expect(a.outcomesFor(threadId, "result")).toHaveLength(0);
    expect(b.outcomesFor(threadId, "result")).toHaveLength(1);
    expect((await b.store.listTurns(threadId)).map((t) => t.state)).toEqual(["done"]);
    await a.stop();
    await b.stop();
  });

  it("a graceful stop hands a thread over at once: the other replica finishes the turn without waiting for a lapse", async () => {
    const a = await harness.start({ leaseTtlMs: 60_000 });
    const b = await harness.start({ leaseTtlMs: 60_000 });
    const ref = newThreadRef();
    const started = await a.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: dana,
      text: "Intro for CTOs",
    });
    if (started.status !== "accepted") throw new Error(started.status);
    await a.waitFor("dispatched", started.thread.id);
    const handedAt = Date.now();
    await a.stop();
    // A 60 s lease: only a hand-over explains b finishing within seconds.
    await b.waitFor("result", started.thread.id, 1, 8000);
    expect(Date.now() - handedAt).toBeLessThan(10_000);
    const sessionId = (await b.store.getThreadById(started.thread.id))?.sessionId ?? "";
    expect(harness.emulator.state.turnRequests(sessionId)).toHaveLength(1);
    await b.stop();
  });

  it("only the lease holder drives: a second replica kicked for the same thread does nothing", async () => {
    const a = await harness.start({ leaseTtlMs: 60_000 });
    const b = await harness.start({ leaseTtlMs: 60_000 });
    const ref = newThreadRef();
    const started = await a.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: dana,
      text: "Intro for COOs",
    });
    if (started.status !== "accepted") throw new Error(started.status);
    await a.waitFor("dispatched", started.thread.id);
    // b hears of the thread too (as every replica does) while a drives it.
    await b.service.submitMessage({ thread: ref, author: dana, text: "and shorter" });
    await eventually(
      () => a.outcomesFor(started.thread.id, "result").length >= 2 || undefined,
      12_000,
      "both turns",
    );
    expect(b.outcomes.filter((o) => o.thread.id === started.thread.id)).toEqual([]);
    const sessionId = (await a.store.getThreadById(started.thread.id))?.sessionId ?? "";
    expect(harness.emulator.state.turnRequests(sessionId).map((r) => r.message)).toEqual([
      "Intro for COOs",
      "and shorter",
    ]);
    await a.stop();
    await b.stop();
  });
});
