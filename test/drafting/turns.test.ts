import { Writable } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { createLogger } from "../../src/logger.ts";
import {
  DRAFT_STEP,
  type DraftingHarness,
  type DraftingInstance,
  dana,
  lee,
  newThreadRef,
  startDraftingHarness,
} from "../support/drafting-harness.ts";
import { eventually } from "../support/puffle.ts";

let harness: DraftingHarness;
let bot: DraftingInstance;

beforeAll(async () => {
  harness = await startDraftingHarness();
});
afterAll(() => harness.close());
beforeEach(async () => {
  await bot?.stop();
  harness.emulator.reset();
  bot = await harness.start();
});

async function startThread(text = "Intro email for VPs of Sales, time-to-ROI angle") {
  const ref = newThreadRef();
  const started = await bot.service.startDraft({ thread: ref, step: DRAFT_STEP, author: dana, text });
  if (started.status !== "accepted") throw new Error(`expected accepted, got ${started.status}`);
  return { ref, thread: started.thread };
}

async function sessionIdOf(threadId: number) {
  return eventually(
    async () => (await bot.store.getThreadById(threadId))?.sessionId ?? undefined,
    5000,
    "a session",
  );
}

describe("a turn", () => {
  it("starts a draft: records the turn before Puffle is called, creates the session, answers turn 1", async () => {
    harness.emulator.faults.inject({ kind: "delay_response", ms: 400, route: "sessions.create" });
    const { thread } = await startThread();
    // Puffle has not answered the create yet, and the message is already safe in the store.
    const stored = await bot.store.listTurns(thread.id);
    expect(stored.map((t) => [t.state, t.text])).toEqual([
      ["pending", "Intro email for VPs of Sales, time-to-ROI angle"],
    ]);
    expect((await bot.store.getThreadById(thread.id))?.sessionId).toBeNull();

    const [dispatched] = await bot.waitFor("dispatched", thread.id);
    expect(dispatched).toMatchObject({ turnNumber: 1, requestedBy: [dana] });
    const [result] = await bot.waitFor("result", thread.id);
    if (result?.type !== "result") throw new Error("no result");
    expect(result.replies[0]).toMatch(/question/i);
    expect(result.draftChanged).toBe(false);
    expect((await bot.store.listTurns(thread.id)).map((t) => t.state)).toEqual(["done"]);
  });

  it("sends the campaign hints on every turn, fetched once per campaign", async () => {
    const { ref, thread } = await startThread();
    await bot.waitFor("result", thread.id);
    await bot.service.submitMessage({ thread: ref, author: dana, text: "Sender is our CRO" });
    await bot.waitFor("result", thread.id, 2);
    const sessionId = await sessionIdOf(thread.id);
    const requests = harness.emulator.state.turnRequests(sessionId);
    expect(requests).toHaveLength(2);
    for (const body of requests) {
      expect(body.availableVarNames).toEqual(expect.arrayContaining(["first_name", "company", "full_name"]));
      expect(body.sampleLeads).toHaveLength(5);
      expect(body.sequenceContext).toMatchObject({ position: 0, total_nodes: 3, prior_nodes: [] });
    }
    // Custom field keys of the leads are offered as variables too.
    const customKeys = Object.keys(
      harness.emulator.state.prospectsOf(SEED.draftCampaign.id)[0]?.custom_fields ?? {},
    );
    expect(requests[0]?.availableVarNames).toEqual(expect.arrayContaining(customKeys));
    expect(harness.emulator.stats().requests["campaigns.get"]).toBe(1);
    expect(harness.emulator.stats().requests["campaigns.leads"]).toBe(1);
  });

  it("sends the turn without hints, and logs a warning, when the campaign cannot be read", async () => {
    const lines: string[] = [];
    await bot.stop();
    bot = await harness.start({
      logger: createLogger({
        level: "warn",
        destination: new Writable({
          write(chunk, _e, done) {
            lines.push(String(chunk));
            done();
          },
        }),
      }),
    });
    harness.emulator.faults.inject({ kind: "status", status: 404, route: "campaigns.get", times: 5 });
    const { thread } = await startThread();
    await bot.waitFor("result", thread.id);
    const [body] = harness.emulator.state.turnRequests(await sessionIdOf(thread.id));
    expect(body?.message).toBe("Intro email for VPs of Sales, time-to-ROI angle");
    expect(body?.sampleLeads).toBeUndefined();
    expect(lines.join("")).toContain("hints.unavailable");
  });

  it("three messages during a busy turn all reach Puffle, in order, as one attributed turn", async () => {
    harness.emulator.faults.inject({ kind: "slow_task", delayMs: 600 });
    const { ref, thread } = await startThread();
    await bot.waitFor("dispatched", thread.id);
    for (const [author, text] of [
      [dana, "make it shorter"],
      [lee, "mention the Q3 webinar"],
      [dana, "and a softer ask"],
    ] as const) {
      const accepted = await bot.service.submitMessage({ thread: ref, author, text });
      expect(accepted).toMatchObject({ status: "accepted", queued: true });
    }
    // The thread's driver shows each new message queued (woken by the message being recorded).
    const last = (await bot.waitFor("queued", thread.id, 3)).at(-1);
    expect(last?.type === "queued" && last.waiting.map((w) => w.author.id)).toEqual([
      dana.id,
      lee.id,
      dana.id,
    ]);
    await bot.waitFor("result", thread.id, 2);
    const requests = harness.emulator.state.turnRequests(await sessionIdOf(thread.id));
    expect(requests.map((r) => r.message)).toEqual([
      "Intro email for VPs of Sales, time-to-ROI angle",
      "Dana: make it shorter\nLee: mention the Q3 webinar\nDana: and a softer ask",
    ]);
    const second = bot.outcomesFor(thread.id, "result")[1];
    expect(second?.type === "result" && second.requestedBy).toEqual([dana, lee]);
    expect((await bot.store.listTurns(thread.id)).every((t) => t.state === "done")).toBe(true);
  });

  it("one person's messages are merged without names", async () => {
    harness.emulator.faults.inject({ kind: "slow_task", delayMs: 500 });
    const { ref, thread } = await startThread();
    await bot.waitFor("dispatched", thread.id);
    await bot.service.submitMessage({ thread: ref, author: lee, text: "shorter" });
    await bot.service.submitMessage({ thread: ref, author: lee, text: "and warmer" });
    await bot.waitFor("result", thread.id, 2);
    const requests = harness.emulator.state.turnRequests(await sessionIdOf(thread.id));
    expect(requests[1]?.message).toBe("shorter\n\nand warmer");
  });

  it("409 from a task we did not start: the message is queued, visibly, and sent when the session is free", async () => {
    const { ref, thread } = await startThread();
    await bot.waitFor("result", thread.id);
    const sessionId = await sessionIdOf(thread.id);
    // Someone else (the Puffle web app, say) starts a task on the same session.
    harness.emulator.faults.inject({ kind: "slow_task", delayMs: 500, sessionId });
    await bot.puffle.sendTurn(sessionId, { message: "from the web app" });
    await bot.service.submitMessage({ thread: ref, author: dana, text: "our CRO sends it" });
    const [queued] = await bot.waitFor("queued", thread.id);
    expect(queued).toMatchObject({ reason: "session_busy" });
    await bot.waitFor("result", thread.id, 2);
    const messages = harness.emulator.state.turnRequests(sessionId).map((r) => r.message);
    expect(messages).toEqual([
      "Intro email for VPs of Sales, time-to-ROI angle",
      "from the web app",
      "our CRO sends it",
    ]);
  });

  it("a 500 on dispatch is retried at once and the turn goes through", async () => {
    harness.emulator.faults.inject({ kind: "dispatch_500", route: "sessions.turn" });
    const { thread } = await startThread();
    await bot.waitFor("result", thread.id);
    expect(harness.emulator.stats().requests["sessions.turn"]).toBe(2);
    expect(harness.emulator.state.turnRequests(await sessionIdOf(thread.id))).toHaveLength(1);
    expect(bot.outcomesFor(thread.id, "failed")).toEqual([]);
  });

  it("402 and 401 give failed outcomes with their codes and are not retried; 401 logs loudly", async () => {
    const lines: string[] = [];
    await bot.stop();
    bot = await harness.start({
      logger: createLogger({
        level: "error",
        destination: new Writable({
          write(chunk, _e, done) {
            lines.push(String(chunk));
            done();
          },
        }),
      }),
    });
    harness.emulator.faults.inject({
      kind: "status",
      status: 402,
      route: "sessions.turn",
      error: "Out of credits",
    });
    const first = await startThread();
    const [failed] = await bot.waitFor("failed", first.thread.id);
    expect(failed).toMatchObject({ code: "out_of_credits", retryable: true, detail: "Out of credits" });
    expect(harness.emulator.stats().requests["sessions.turn"]).toBe(1);
    expect((await bot.store.listTurns(first.thread.id)).map((t) => [t.state, t.failureCode])).toEqual([
      ["failed", "out_of_credits"],
    ]);

    harness.emulator.faults.inject({ kind: "status", status: 401, route: "sessions.turn" });
    const second = await startThread();
    const [unauthorized] = await bot.waitFor("failed", second.thread.id);
    expect(unauthorized).toMatchObject({ code: "unauthorized", retryable: false });
    expect(harness.emulator.stats().requests["sessions.turn"]).toBe(2);
    expect(lines.join("")).toMatch(/puffle\.unauthorized.*PUFFLE_API_KEY/);
    expect(lines.join("")).not.toContain(harness.emulator.apiKey);
  });

  it("Retry resends the same message after a failure", async () => {
    harness.emulator.faults.inject({ kind: "status", status: 402, route: "sessions.turn" });
    const { ref, thread } = await startThread();
    const [failed] = await bot.waitFor("failed", thread.id);
    const turnId = failed?.turnIds[0] ?? 0;
    const retried = await bot.service.retryTurn({ thread: ref, turnId, author: lee });
    expect(retried.status).toBe("accepted");
    await bot.waitFor("result", thread.id);
    expect(harness.emulator.state.turnRequests(await sessionIdOf(thread.id)).map((r) => r.message)).toEqual([
      "Intro email for VPs of Sales, time-to-ROI angle",
    ]);
    expect(await bot.service.retryTurn({ thread: ref, turnId, author: lee })).toMatchObject({
      reason: "not_failed",
    });
  });

  it("a task that ends with no new assistant message is a failed turn with Retry", async () => {
    harness.emulator.faults.inject({ kind: "no_assistant_message" });
    const { thread } = await startThread();
    const [failed] = await bot.waitFor("failed", thread.id);
    expect(failed).toMatchObject({ code: "no_reply", retryable: true });
  });

  it("a malformed answer while watching becomes a clear failure, not a crash", async () => {
    const { thread } = await startThread();
    await bot.waitFor("dispatched", thread.id);
    harness.emulator.faults.inject({
      kind: "malformed_json",
      route: "sessions.get",
      times: Number.POSITIVE_INFINITY,
    });
    const [failed] = await bot.waitFor("failed", thread.id);
    expect(failed).toMatchObject({ code: "bad_response" });
    harness.emulator.faults.clear();
  });

  it("a turn whose answer timed out is not resent blindly: the session shows it arrived", async () => {
    await bot.stop();
    bot = await harness.start();
    harness.emulator.faults.inject({
      kind: "delay_response",
      ms: 4000,
      route: "sessions.turn",
      afterProcessing: true,
    });
    const { thread } = await startThread();
    await bot.waitFor("result", thread.id, 1, 15_000);
    expect(harness.emulator.state.turnRequests(await sessionIdOf(thread.id))).toHaveLength(1);
  });
});

describe("the watcher", () => {
  it("realtime wins: the result arrives long before the next poll would have fired", async () => {
    await bot.stop();
    bot = await harness.start({ pollIntervalMs: 5000 });
    harness.emulator.faults.inject({ kind: "slow_task", delayMs: 600 });
    let completedAt = 0;
    harness.emulator.events.once("task.completed", (event: { at: number }) => {
      completedAt = event.at;
    });
    const { thread } = await startThread();
    await bot.waitFor("result", thread.id, 1, 4000);
    const lag = performance.now() - completedAt;
    expect(completedAt).toBeGreaterThan(0);
    // The first poll would come 5 s after dispatch; the task ended at about 0.6 s.
    expect(lag).toBeLessThan(1000);
    expect(harness.emulator.stats().getsBySession[await sessionIdOf(thread.id)] ?? 0).toBeLessThanOrEqual(2);
  });

  it("realtime answering 401 does not delay polling", async () => {
    harness.emulator.faults.inject({ kind: "realtime_401", times: Number.POSITIVE_INFINITY });
    const { thread } = await startThread();
    await bot.waitFor("result", thread.id, 1, 4000);
  });

  it("a realtime feed that hangs does not delay polling", async () => {
    harness.emulator.faults.inject({ kind: "realtime_hang", times: Number.POSITIVE_INFINITY });
    const { thread } = await startThread();
    await bot.waitFor("result", thread.id, 1, 4000);
  });

  it("works with realtime off", async () => {
    await bot.stop();
    bot = await harness.start({ realtime: false });
    const { thread } = await startThread();
    await bot.waitFor("result", thread.id);
    expect(harness.emulator.stats().requests["realtime.run"] ?? 0).toBe(0);
  });

  it("the deadline gives timed_out and leaves the turn resumable: Check again delivers the result", async () => {
    await bot.stop();
    bot = await harness.start({ turnTimeoutMs: 700 });
    harness.emulator.faults.inject({ kind: "never_finish" });
    const { ref, thread } = await startThread();
    const [timedOut] = await bot.waitFor("timed_out", thread.id);
    const [turn] = await bot.store.listTurns(thread.id);
    expect(turn).toMatchObject({ state: "dispatched" });
    expect(turn?.timedOutAt).not.toBeNull();
    expect(bot.outcomesFor(thread.id, "failed")).toEqual([]);

    harness.emulator.finishTask(await sessionIdOf(thread.id));
    const check = await bot.service.checkAgain({ thread: ref, turnId: timedOut?.turnIds[0] ?? 0 });
    expect(check).toEqual({ status: "watching" });
    await bot.waitFor("result", thread.id);
    expect((await bot.store.listTurns(thread.id)).map((t) => t.state)).toEqual(["done"]);
  });

  it("a message after a timed-out turn waits for that task, and the late result is still shown", async () => {
    await bot.stop();
    bot = await harness.start({ turnTimeoutMs: 500 });
    harness.emulator.faults.inject({ kind: "slow_task", delayMs: 1500 });
    const { ref, thread } = await startThread();
    await bot.waitFor("timed_out", thread.id);
    await bot.service.submitMessage({ thread: ref, author: lee, text: "any news?" });
    await bot.waitFor("result", thread.id, 2, 8000);
    const messages = harness.emulator.state.turnRequests(await sessionIdOf(thread.id)).map((r) => r.message);
    expect(messages).toEqual(["Intro email for VPs of Sales, time-to-ROI angle", "any news?"]);
  });
});
