import { describe, expect, it } from "vitest";
import type { RunSubscriber } from "../../src/drafting/realtime.ts";
import { createTaskWatcher } from "../../src/drafting/task-watcher.ts";
import { createSilentLogger } from "../../src/logger.ts";
import type { CallOptions, PuffleClient } from "../../src/puffle/client.ts";
import { NotFoundError, ServerError } from "../../src/puffle/errors.ts";
import type { Session } from "../../src/puffle/schemas.ts";
import { flush, ManualClock } from "../support/manual-clock.ts";

/** A Puffle stand-in whose session is busy until the test says otherwise. */
function stubPuffle(clock: ManualClock) {
  const state = {
    busy: true,
    reads: [] as number[],
    failNext: [] as Error[],
    /** How likely each read said it was to find the task done (read again when the read is sent). */
    likelihoods: [] as (() => number)[],
  };
  const session = (): Session =>
    ({ id: "s1", task_status: state.busy ? "chat_processing" : null, messages: [] }) as unknown as Session;
  const client = {
    async getSession(_id: string, options?: CallOptions) {
      state.reads.push(clock.now());
      if (options?.likelihood) state.likelihoods.push(options.likelihood);
      const failure = state.failNext.shift();
      if (failure) throw failure;
      return session();
    },
  } as unknown as PuffleClient;
  return { state, client };
}

const where = { method: "GET", path: "/api/campaigns/ai-chat-sessions/s1" };

/**
 * A watcher over the stub, on a fake clock, and a watch started at once. `outcome()` is the
 * watch's result so far (undefined while it runs; the error code if it failed).
 */
function startWatch(options: {
  pollIntervalMs?: number;
  subscriber?: RunSubscriber;
  deadlineMs?: number;
  onProgress?: (status: string) => void;
}) {
  const clock = new ManualClock();
  const { state, client } = stubPuffle(clock);
  const watcher = createTaskWatcher({
    clock,
    logger: createSilentLogger(),
    pollIntervalMs: options.pollIntervalMs ?? 2000,
    subscriber: options.subscriber,
  });
  const start = clock.now();
  const watch = () => {
    let result: { type: string; detectedBy?: string } | string | undefined;
    void watcher
      .watch({
        puffle: client,
        sessionId: "s1",
        kind: "chat",
        ...(options.subscriber ? { run: { runId: "run_1", publicAccessToken: "tok" } } : {}),
        startedAt: clock.now(),
        deadlineAt: clock.now() + (options.deadlineMs ?? 60_000),
        signal: new AbortController().signal,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      })
      .then(
        (r) => {
          result = r;
        },
        (error: { code?: string }) => {
          result = error.code ?? "error";
        },
      );
    return () => result;
  };
  return { clock, state, start, outcome: watch(), watchAgain: watch };
}

describe("task watcher (fake clock)", () => {
  it("ends with timed_out at the deadline, after one last read", async () => {
    const { clock, state, start, outcome } = startWatch({ deadlineMs: 30_000 });
    await clock.advance(29_000);
    expect(outcome()).toBeUndefined();
    await clock.advance(2000);
    expect(outcome()).toMatchObject({ type: "timed_out" });
    expect(state.reads.at(-1)).toBe(start + 30_000);
    // About every 2 s at first, then backing off: far fewer reads than 30 s / 2 s + 1.
    expect(state.reads.length).toBeLessThanOrEqual(12);
  });

  it("reports idle as soon as a read sees task_status null", async () => {
    const { clock, state, outcome } = startWatch({});
    await clock.advance(5000);
    // A poll's claim on the request budget grows with the task's age.
    const likelihood = state.likelihoods.at(-1) ?? (() => Number.NaN);
    const now = likelihood();
    expect(now).toBeGreaterThan(0);
    await clock.advance(500);
    const later = likelihood();
    expect(later).toBeGreaterThan(now);
    expect(later).toBeLessThan(1);
    state.busy = false;
    await clock.advance(499);
    expect(outcome()).toBeUndefined();
    await clock.advance(1);
    expect(outcome()).toMatchObject({ type: "idle", detectedBy: "poll" });
  });

  it("a realtime completion triggers an immediate read, long before the next poll", async () => {
    let finishRun: () => void = () => {};
    const subscriber: RunSubscriber = {
      follow: (_run, _signal, onUpdate) =>
        new Promise((resolve) => {
          onUpdate?.({ status: "EXECUTING", finished: false, streams: [] });
          finishRun = () => resolve({ status: "COMPLETED", finished: true, streams: [] });
        }),
    };
    const progress: string[] = [];
    const { clock, state, start, outcome } = startWatch({ subscriber, onProgress: (s) => progress.push(s) });
    await clock.advance(2500);
    state.busy = false;
    finishRun();
    await flush();
    expect(outcome()).toMatchObject({ type: "idle", detectedBy: "realtime" });
    expect(state.reads.at(-1)).toBe(start + 2500);
    expect(progress).toContain("EXECUTING");
    // Under the request budget, the read after realtime's word outranks every poll.
    expect(state.likelihoods.at(-1)?.()).toBe(2);
  });

  it("a realtime feed that hangs forever never delays the polling path", async () => {
    const subscriber: RunSubscriber = { follow: () => new Promise(() => {}) };
    const { clock, state, outcome } = startWatch({ subscriber });
    state.busy = false;
    await clock.advance(2000);
    expect(outcome()).toMatchObject({ type: "idle", detectedBy: "poll" });
  });

  it("keeps polling through transient read failures, and stops on a fatal one", async () => {
    const { clock, state, outcome, watchAgain } = startWatch({ pollIntervalMs: 1000 });
    state.failNext.push(
      new ServerError({ ...where, status: 503 }),
      new ServerError({ ...where, status: 503 }),
    );
    await clock.advance(2000);
    state.busy = false;
    await clock.advance(1000);
    expect(outcome()).toMatchObject({ type: "idle" });

    state.busy = true;
    state.failNext.push(new NotFoundError({ ...where, status: 404 }));
    const second = watchAgain();
    await clock.advance(1000);
    expect(second()).toBe("not_found");
  });
});
