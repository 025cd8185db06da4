import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DRAFT_STEP,
  type DraftingHarness,
  dana,
  lee,
  newThreadRef,
  startDraftingHarness,
} from "../support/drafting-harness.ts";
import { eventually } from "../support/puffle.ts";

let harness: DraftingHarness;

beforeAll(async () => {
  harness = await startDraftingHarness();
});
afterAll(() => harness.close());
beforeEach(() => harness.emulator.reset());

const brief = "Intro email for VPs of Sales, time-to-ROI angle";

describe("restart recovery", () => {
  it("a restart after dispatch delivers the result exactly once and sends nothing twice", async () => {
    harness.emulator.faults.inject({ kind: "slow_task", delayMs: 1200 });
    const first = await harness.start();
    const ref = newThreadRef();
    const started = await first.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: dana,
      text: brief,
    });
    if (started.status !== "accepted") throw new Error(started.status);
    await first.waitFor("dispatched", started.thread.id);
    await first.stop(); // the process goes away mid-turn

    const second = await harness.start();
    expect(second.resumed).toBe(1);
    await second.waitFor("result", started.thread.id, 1, 5000);
    // A duplicate would come from a loop still running: wait until there is none.
    await second.service.idle();
    expect(second.outcomesFor(started.thread.id, "result")).toHaveLength(1);
    expect(first.outcomesFor(started.thread.id, "result")).toHaveLength(0);
    const sessionId = (await second.store.getThreadById(started.thread.id))?.sessionId ?? "";
    expect(harness.emulator.state.turnRequests(sessionId)).toHaveLength(1);
    await second.stop();
  });

  it("a restart in the middle of the /turn call settles it by reading the session: sent once", async () => {
    const first = await harness.start();
    const ref = newThreadRef();
    const started = await first.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: dana,
      text: brief,
    });
    if (started.status !== "accepted") throw new Error(started.status);
    await first.waitFor("result", started.thread.id);
    // The next /turn takes effect, but its answer is lost with the process.
    harness.emulator.faults.inject({
      kind: "delay_response",
      ms: 5000,
      route: "sessions.turn",
      afterProcessing: true,
    });
    await first.service.submitMessage({ thread: ref, author: lee, text: "make it shorter" });
    const sessionId = (await first.store.getThreadById(started.thread.id))?.sessionId ?? "";
    await eventually(
      () => harness.emulator.state.turnRequests(sessionId).length === 2,
      5000,
      "the second /turn",
    );
    expect((await first.store.listTurns(started.thread.id, ["sending"])).map((t) => t.text)).toEqual([
      "make it shorter",
    ]);
    await first.stop();

    const second = await harness.start();
    const [result] = await second.waitFor("result", started.thread.id, 1, 5000);
    expect(result?.type === "result" && result.draftChanged).toBe(true);
    expect(harness.emulator.state.turnRequests(sessionId).map((r) => r.message)).toEqual([
      brief,
      "make it shorter",
    ]);
    await second.stop();
  });

  it("pending turns are sent on start, and a 'sending' turn Puffle never got is sent once, in order", async () => {
    const first = await harness.start();
    const ref = newThreadRef();
    const started = await first.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: dana,
      text: brief,
    });
    if (started.status !== "accepted") throw new Error(started.status);
    await first.waitFor("result", started.thread.id);
    await first.stop();

    // What a crash leaves behind: one turn marked "sending" that never reached Puffle, one pending.
    const store = (await harness.start()).store;
    const thread = await store.getThreadById(started.thread.id);
    const lost = await store.addTurn(
      {
        threadId: started.thread.id,
        kind: "chat",
        text: "warmer please",
        authorId: lee.id,
        authorName: lee.name,
      },
      { now: Date.now() },
    );
    const later = await store.addTurn(
      {
        threadId: started.thread.id,
        kind: "chat",
        text: "and shorter",
        authorId: dana.id,
        authorName: dana.name,
      },
      { now: Date.now() },
    );
    if (lost === "duplicate" || later === "duplicate") throw new Error("duplicate");
    await store.updateTurns([lost.id], {
      state: "sending",
      batchId: lost.id,
      sentText: "warmer please",
      attempts: 1,
      messageCountAtDispatch: thread?.messageCount ?? 0,
    });

    const second = await harness.start();
    expect(second.resumed).toBe(1);
    await second.waitFor("result", started.thread.id, 1, 8000);
    const sessionId = thread?.sessionId ?? "";
    expect(harness.emulator.state.turnRequests(sessionId).map((r) => r.message)).toEqual([
      brief,
      // Everything waiting goes as the next turn, in order.
      "Lee: warmer please\nDana: and shorter",
    ]);
    expect((await second.store.listTurns(started.thread.id)).map((t) => t.state)).toEqual([
      "done",
      "done",
      "done",
    ]);
    await second.stop();
  });

  it("deduplication keys survive a restart", async () => {
    const first = await harness.start();
    const ref = newThreadRef();
    const keys = ["event:Ev0001", `msg:${ref.channelId}:${ref.threadTs}`];
    const started = await first.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: dana,
      text: brief,
      dedupeKeys: keys,
    });
    expect(started.status).toBe("accepted");
    expect(await first.service.claimDelivery(["event:Ev0002"])).toBe(true);
    await first.service.idle();
    await first.stop();

    const second = await harness.start();
    expect(await second.service.claimDelivery(["event:Ev0002"])).toBe(false);
    expect(
      await second.service.startDraft({
        thread: ref,
        step: DRAFT_STEP,
        author: dana,
        text: brief,
        dedupeKeys: keys,
      }),
    ).toEqual({ status: "duplicate" });
    expect(
      await second.service.submitMessage({
        thread: ref,
        author: dana,
        text: brief,
        dedupeKeys: ["event:Ev0001"],
      }),
    ).toEqual({ status: "duplicate" });
    await second.stop();
  });
});

describe("scale", () => {
  it("200 sessions each running a turn at once all complete correctly", async () => {
    const bot = await harness.start();
    const threads = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const ref = newThreadRef(`C0SCALE${i % 7}`);
        const started = await bot.service.startDraft({
          thread: ref,
          step: DRAFT_STEP,
          author: dana,
          text: `Brief number ${i}: intro for segment ${i}`,
        });
        if (started.status !== "accepted") throw new Error(started.status);
        return { i, thread: started.thread };
      }),
    );
    await bot.waitFor("result", undefined, 200, 60_000);
    for (const { i, thread } of threads) {
      const results = bot.outcomesFor(thread.id, "result");
      expect(results).toHaveLength(1);
      const result = results[0];
      // Each thread got the answer to its own brief.
      expect(result?.type === "result" && result.replies.join(" ")).toContain(`Brief number ${i}:`);
      const sessionId = (await bot.store.getThreadById(thread.id))?.sessionId ?? "";
      expect(harness.emulator.state.turnRequests(sessionId).map((r) => r.message)).toEqual([
        `Brief number ${i}: intro for segment ${i}`,
      ]);
    }
    expect(new Set(threads.map((t) => t.thread.id)).size).toBe(200);
    expect(bot.outcomes.filter((o) => o.type === "failed")).toEqual([]);
    await bot.stop();
  }, 90_000);
});
