import { describe, expect, it } from "vitest";
import { createDurationModel, createPollSchedule } from "../../src/drafting/poll-schedule.ts";

describe("poll schedule", () => {
  const schedule = createPollSchedule({ baseMs: 2000 });

  it("polls about every 2 s at first, then backs off to 5 s", () => {
    const delays = Array.from({ length: 12 }, (_, polls) =>
      schedule.nextDelay({ elapsedMs: polls * 2000, polls, window: undefined, realtimeAlive: false }),
    );
    expect(delays.slice(0, 5)).toEqual([2000, 2000, 2000, 2000, 2000]);
    expect(delays[5]).toBeGreaterThan(2000);
    expect(Math.max(...delays)).toBe(5000);
    expect(delays.at(-1)).toBe(5000);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] ?? 0);
  });

  it("with learned durations, reads rarely before the usual end, spaced to the spread around it, and backs off after", () => {
    const window = { p10: 12_000, p90: 18_000 };
    const at = (elapsedMs: number) =>
      schedule.nextDelay({ elapsedMs, polls: 1, window, realtimeAlive: false });
    // A fixed poller reads about 8 times for these tasks; 3 go before the window (every 5 s), so the
    // first read is at 13 s and the rest every (15 s - 13 s) / 4 = 500 ms until p90 + a step.
    expect(at(0)).toBe(5000); // capped: still reads now and then
    expect(at(9000)).toBe(13_000 - 9000);
    expect(at(13_000)).toBe(500);
    expect(at(18_400)).toBe(500);
    expect(at(21_000)).toBeGreaterThanOrEqual(2000);
    expect(at(60_000)).toBe(5000);
    // Reads in the window are never closer than a quarter interval, nor wider than one.
    const tight = { p10: 10_000, p90: 10_400 };
    expect(schedule.nextDelay({ elapsedMs: 10_200, polls: 1, window: tight, realtimeAlive: false })).toBe(
      500,
    );
    const wide = { p10: 20_000, p90: 60_000 };
    const inWide = schedule.nextDelay({ elapsedMs: 30_000, polls: 1, window: wide, realtimeAlive: false });
    expect(inWide).toBeGreaterThan(500);
    expect(inWide).toBeLessThanOrEqual(2000);
  });

  it("keeps to the plain schedule while realtime follows the run", () => {
    const window = { p10: 12_000, p90: 18_000 };
    expect(schedule.nextDelay({ elapsedMs: 15_000, polls: 2, window, realtimeAlive: true })).toBe(2000);
  });

  it("spends no more reads than a fixed 2 s poller, and finds the task done in at most 0.6 of its time", () => {
    const fixed = createPollSchedule({ baseMs: 2000, mode: "fixed" });
    const watch = (plan: typeof schedule, window: { p10: number; p90: number }, duration: number) => {
      let elapsed = 0;
      let polls = 0;
      while (elapsed < duration) {
        elapsed += plan.nextDelay({ elapsedMs: elapsed, polls, window, realtimeAlive: false });
        polls++;
      }
      return { polls, late: elapsed - duration };
    };
    // Tasks spread evenly between two durations (the bench's 3-6 s, typical 12-18 s, a slow 10-12 s),
    // with the window the duration model would learn from them.
    for (const [low, high] of [
      [3000, 6000],
      [12_000, 18_000],
      [10_000, 12_000],
    ] as const) {
      const window = { p10: low + 0.1 * (high - low), p90: low + 0.9 * (high - low) };
      const totals = { ours: { polls: 0, late: 0 }, fixed: { polls: 0, late: 0 } };
      for (let duration = low; duration <= high; duration += 10) {
        const ours = watch(schedule, window, duration);
        const plain = watch(fixed, window, duration);
        totals.ours.polls += ours.polls;
        totals.ours.late += ours.late;
        totals.fixed.polls += plain.polls;
        totals.fixed.late += plain.late;
      }
      expect(totals.ours.polls, `${low}-${high} ms`).toBeLessThanOrEqual(totals.fixed.polls);
      expect(totals.ours.late, `${low}-${high} ms`).toBeLessThanOrEqual(0.6 * totals.fixed.late);
    }
  });
});

describe("duration model", () => {
  it("needs a few samples, then reports the 10th and 90th percentiles per kind", () => {
    const model = createDurationModel({ minSamples: 3, keep: 10 });
    model.record("chat", 1000);
    model.record("chat", 2000);
    expect(model.window("chat")).toBeUndefined();
    for (const d of [3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]) model.record("chat", d);
    expect(model.window("chat")).toEqual({ p10: 1000, p90: 9000 });
    expect(model.window("examples")).toBeUndefined();
    // Keeps only the most recent samples.
    for (let i = 0; i < 10; i++) model.record("chat", 50_000);
    expect(model.window("chat")).toEqual({ p10: 50_000, p90: 50_000 });
    model.record("chat", Number.NaN);
    model.record("chat", -5);
    expect(model.window("chat")).toEqual({ p10: 50_000, p90: 50_000 });
  });

  it("says how likely a running task has finished, from the durations seen (older tasks first without them)", () => {
    const model = createDurationModel({ minSamples: 3 });
    expect(model.finishedShare("chat", 5_000)).toBeLessThan(model.finishedShare("chat", 30_000));
    for (const ms of [10_000, 20_000, 30_000, 40_000]) model.record("chat", ms);
    expect(model.finishedShare("chat", 5_000)).toBe(0);
    expect(model.finishedShare("chat", 20_000)).toBe(0.5);
    expect(model.finishedShare("chat", 60_000)).toBe(1);
    expect(model.finishedShare("examples", 60_000)).toBeLessThan(1);
  });
});
