import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.ts";
import { MAX_BATCH } from "../../src/drafting/batches.ts";
import { createDraftingService } from "../../src/drafting/drafting-service.ts";
import type { TurnOutcome } from "../../src/drafting/outcomes.ts";
import { createDurationModel } from "../../src/drafting/poll-schedule.ts";
import { BUSY_WAIT_MS, MAX_UNCONFIRMED_SENDS } from "../../src/drafting/thread-driver.ts";
import { createSilentLogger } from "../../src/logger.ts";
import { createPuffleClient } from "../../src/puffle/client.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import {
  DRAFT_STEP,
  type DraftingHarness,
  type DraftingInstance,
  dana,
  emulatorAccounts,
  lee,
  newThreadRef,
  startDraftingHarness,
} from "../support/drafting-harness.ts";
import { eventually } from "../support/puffle.ts";

// Paths the other drafting tests do not take: a dispatch never confirmed, a session kept busy for good,
// and more messages waiting than one batch takes.
let harness: DraftingHarness;
let bot: DraftingInstance | undefined;

beforeAll(async () => {
  harness = await startDraftingHarness();
});
afterAll(() => harness.close());
beforeEach(() => {
  harness.emulator.reset();
});
afterEach(async () => {
  await bot?.stop();
  bot = undefined;
});

async function startThread(instance: Pick<DraftingInstance, "service" | "store">) {
  const ref = newThreadRef();
  const started = await instance.service.startDraft({
    thread: ref,
    step: DRAFT_STEP,
    author: dana,
    text: "Intro email for VPs of Sales, time-to-ROI angle",
  });
  if (started.status !== "accepted") throw new Error(`expected accepted, got ${started.status}`);
  const sessionId = () =>
    eventually(
      async () => (await instance.store.getThreadById(started.thread.id))?.sessionId ?? undefined,
      5000,
      "a session",
    );
  return { ref, thread: started.thread, sessionId };
}

describe("a dispatch that is never confirmed", () => {
  it(`fails as not_confirmed after ${MAX_UNCONFIRMED_SENDS} unconfirmed sends, with Retry`, async () => {
    bot = await harness.start();
    // Each /turn gets no answer within the client's 3 s (and the request never takes effect), so the
    // session never shows the message: sent again, and again, then given up.
    harness.emulator.faults.inject({
      kind: "delay_response",
      ms: 120_000,
      route: "sessions.turn",
      times: MAX_UNCONFIRMED_SENDS,
    });
    const { ref, thread, sessionId } = await startThread(bot);
    const [failed] = await bot.waitFor("failed", thread.id, 1, 25_000);
    expect(failed).toMatchObject({ code: "not_confirmed", retryable: true });
    expect(harness.emulator.stats().requests["sessions.turn"]).toBe(MAX_UNCONFIRMED_SENDS);
    expect(harness.emulator.state.turnRequests(await sessionId())).toEqual([]);
    expect(bot.outcomesFor(thread.id, "dispatched")).toEqual([]);
    expect((await bot.store.listTurns(thread.id)).map((t) => [t.state, t.failureCode, t.attempts])).toEqual([
      ["failed", "not_confirmed", MAX_UNCONFIRMED_SENDS],
    ]);

    // Retry sends the same message once more, and this time it goes through.
    const retried = await bot.service.retryTurn({
      thread: ref,
      turnId: failed?.turnIds[0] ?? 0,
      author: lee,
    });
    expect(retried.status).toBe("accepted");
    await bot.waitFor("result", thread.id);
    expect(harness.emulator.state.turnRequests(await sessionId()).map((r) => r.message)).toEqual([
      "Intro email for VPs of Sales, time-to-ROI angle",
    ]);
  }, 40_000);
});

describe("a session someone else keeps busy", () => {
  it("the message waits, visibly, and after BUSY_WAIT_MS the turn fails as session_busy", async () => {
    // Time as the bot sees it can jump ahead: 30 minutes pass in an instant, everything else runs as usual.
    let skewMs = 0;
    const clock: Clock = {
      now: () => Date.now() + skewMs,
      setTimeout: (callback, ms) => {
        const handle = setTimeout(callback, ms);
        handle.unref?.();
        return handle;
      },
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    const core = await startCore(clock);
    try {
      const { ref, thread, sessionId } = await startThread(core);
      await core.waitFor("result", thread.id);
      const session = await sessionId();
      // A task started elsewhere (the Puffle web app, say) that never ends.
      harness.emulator.faults.inject({ kind: "never_finish", sessionId: session });
      await core.puffle.sendTurn(session, { message: "from the web app" });

      await core.service.submitMessage({ thread: ref, author: lee, text: "our CRO sends it" });
      const [queued] = await core.waitFor("queued", thread.id);
      expect(queued).toMatchObject({ reason: "session_busy" });
      // It keeps reading the session while it waits, and does not give up early.
      const reads = harness.emulator.stats().getsBySession[session] ?? 0;
      await eventually(
        () => (harness.emulator.stats().getsBySession[session] ?? 0) >= reads + 3,
        5000,
        "reads",
      );
      expect(core.outcomes.filter((o) => o.type === "failed")).toEqual([]);

      skewMs = BUSY_WAIT_MS + 1000;
      const [failed] = await core.waitFor("failed", thread.id);
      expect(failed).toMatchObject({ code: "session_busy", retryable: true });
      const turns = await core.store.listTurns(thread.id);
      expect(turns.map((t) => [t.text, t.state, t.failureCode])).toEqual([
        ["Intro email for VPs of Sales, time-to-ROI angle", "done", null],
        ["our CRO sends it", "failed", "session_busy"],
      ]);
      expect(harness.emulator.state.turnRequests(session).map((r) => r.message)).toEqual([
        "Intro email for VPs of Sales, time-to-ROI angle",
        "from the web app",
      ]);
    } finally {
      await core.stop();
    }
  });
});

describe("more messages waiting than one batch takes", () => {
  it(`25 waiting messages go as a batch of ${MAX_BATCH}, then a batch of 5, in order`, async () => {
    bot = await harness.start();
    // The first turn runs until the test ends it, so every message below waits behind it.
    harness.emulator.faults.inject({ kind: "never_finish" });
    const { ref, thread, sessionId } = await startThread(bot);
    await bot.waitFor("dispatched", thread.id);
    const notes = Array.from({ length: 25 }, (_, i) => `note ${i + 1}`);
    for (const text of notes) {
      const accepted = await bot.service.submitMessage({ thread: ref, author: dana, text });
      expect(accepted).toMatchObject({ status: "accepted", queued: true });
    }
    expect(bot.outcomesFor(thread.id, "dispatched")).toHaveLength(1);
    harness.emulator.finishTask(await sessionId());

    await bot.waitFor("result", thread.id, 3, 15_000);
    const sent = harness.emulator.state.turnRequests(await sessionId()).map((r) => r.message);
    expect(sent).toEqual([
      "Intro email for VPs of Sales, time-to-ROI angle",
      notes.slice(0, MAX_BATCH).join("\n\n"),
      notes.slice(MAX_BATCH).join("\n\n"),
    ]);
    const dispatched = bot.outcomesFor(thread.id, "dispatched") as Extract<
      TurnOutcome,
      { type: "dispatched" }
    >[];
    expect(dispatched.map((d) => [d.turnNumber, d.turnIds.length, d.stillWaiting.length])).toEqual([
      [1, 1, 0],
      [2, MAX_BATCH, 5],
      [3, 5, 0],
    ]);
    const turns = await bot.store.listTurns(thread.id);
    expect(turns.every((t) => t.state === "done")).toBe(true);
    expect(new Set(turns.slice(1, 1 + MAX_BATCH).map((t) => t.batchId)).size).toBe(1);
  }, 30_000);
});

/** The drafting core on the harness's emulator, with a clock of the test's choosing. */
async function startCore(clock: Clock) {
  const logger = createSilentLogger();
  const store = createSqliteStore({ url: "sqlite::memory:" });
  const puffle = createPuffleClient({
    baseUrl: harness.emulator.url,
    apiKey: harness.emulator.apiKey,
    logger,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
  const outcomes: TurnOutcome[] = [];
  const service = createDraftingService({
    store,
    accounts: emulatorAccounts(store, harness.emulator, logger, clock),
    clock,
    logger,
    emit: (outcome) => {
      outcomes.push(outcome);
    },
    pollIntervalMs: 100,
    turnTimeoutMs: 10_000,
    durations: createDurationModel(),
    replicaId: "skewed-clock",
    // Longer than the jump, so the thread's lease outlives it.
    leaseTtlMs: 4 * BUSY_WAIT_MS,
  });
  await service.start();
  return {
    service,
    store,
    puffle,
    outcomes,
    waitFor: (type: TurnOutcome["type"], threadId: number, count = 1) =>
      eventually(
        () => {
          const matching = outcomes.filter((o) => o.type === type && o.thread.id === threadId);
          return matching.length >= count ? matching : undefined;
        },
        8000,
        `${count} "${type}" outcome(s) (seen: ${outcomes.map((o) => o.type).join(", ")})`,
      ),
    async stop() {
      await service.stop();
      await puffle.close();
      await store.close();
    },
  };
}
