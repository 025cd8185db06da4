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

  it("with learned durations, reads rarely before the usual end, densely around it, and backs off after", () => {
    const window = { p10: 12_000, p90: 18_000 };
    const at = (elapsedMs: number) =>
      schedule.nextDelay({ elapsedMs, polls: 1, window, realtimeAlive: false });
    expect(at(0)).toBe(5000); // capped: still reads now and then
    expect(at(9000)).toBe(12_000 - 500 - 9000);
    expect(at(11_600)).toBe(500);
    expect(at(15_000)).toBe(500);
    expect(at(20_000)).toBe(500);
    expect(at(21_000)).toBeGreaterThanOrEqual(2000);
    expect(at(60_000)).toBe(5000);
  });

  it("keeps to the plain schedule while realtime follows the run", () => {
    const window = { p10: 12_000, p90: 18_000 };
    expect(schedule.nextDelay({ elapsedMs: 15_000, polls: 2, window, realtimeAlive: true })).toBe(2000);
  });

  it("spends no more reads than a fixed 2 s poller on a typical task", () => {
    // Tasks of 12-18 s: a fixed poller reads ceil(d/2) times; count ours for the same tasks.
    const window = { p10: 12_000, p90: 18_000 };
    for (const duration of [12_300, 15_000, 17_900]) {
      let elapsed = 0;
      let polls = 0;
      while (elapsed < duration) {
        elapsed += schedule.nextDelay({ elapsedMs: elapsed, polls, window, realtimeAlive: false });
        polls++;
      }
      const lateBy = elapsed - duration;
      expect(lateBy).toBeLessThanOrEqual(500);
      expect(polls).toBeLessThanOrEqual(Math.ceil(duration / 2000) + 8);
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
