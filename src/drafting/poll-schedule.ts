import { CONTRACT } from "../puffle/contract.ts";

/**
 * When to read the session next while a Puffle task runs.
 *
 * A plain fixed poller finds a finished task on average half an interval late. We do better
 * with no more reads by learning how long tasks take: few reads while the task is surely still
 * running, reads spaced to the spread of durations in the window where it usually ends, and a
 * 2 s -> 5 s back-off after it. Until a few durations are known (and whenever realtime is following the
 * run, which wakes us at once), the schedule is the plain "about every 2 s at first, backing
 * off to 5 s".
 */

export interface PollScheduleOptions {
  /** The base interval (POLL_INTERVAL_MS): about 2 s in production. */
  baseMs: number;
  /**
   * "learned" (the product) or "fixed": a plain poller reading every baseMs, kept as the
   * baseline the benchmark compares against.
   */
  mode?: "learned" | "fixed";
}

export interface DurationWindow {
  /** Durations (ms from dispatch to completion) that 10% and 90% of recent tasks stayed under. */
  p10: number;
  p90: number;
}

export interface PollMoment {
  /** ms since the task was dispatched. */
  elapsedMs: number;
  /** Reads done so far in this watch. */
  polls: number;
  /** Learned durations for this kind of task, when enough are known. */
  window: DurationWindow | undefined;
  /** True while the realtime feed is alive for this run: it will wake us, so reads can be sparse. */
  realtimeAlive: boolean;
}

/** Polls at the base interval before backing off. */
const STEADY_POLLS = 5;
const BACKOFF_FACTOR = 1.25;
/** How far into the learned p10..p90 window the first read goes (at most half an interval in). */
const WINDOW_FIRST = 0.25;

export function createPollSchedule(options: PollScheduleOptions) {
  const base = options.baseMs;
  const max = Math.round(base * 2.5);
  const fast = Math.max(10, Math.round(base * CONTRACT.pollFastFraction));

  const plain = (polls: number) =>
    polls < STEADY_POLLS
      ? base
      : Math.min(max, Math.round(base * BACKOFF_FACTOR ** (polls - STEADY_POLLS + 1)));

  return {
    baseMs: base,
    maxMs: max,
    fastMs: fast,
    /** Milliseconds to wait before the next read. */
    nextDelay(moment: PollMoment): number {
      if (options.mode === "fixed") return base;
      if (moment.realtimeAlive || !moment.window) return plain(moment.polls);
      // Reads go where tasks end, with no more of them than a fixed poller would make: few before the
      // window (at most every `max`), the first a little into it, then as many as the fixed poller's
      // budget leaves, spaced so that on average they are spent by the window's middle (see the bench
      // and the unit test).
      const { p10, p90 } = moment.window;
      const spread = Math.max(0, p90 - p10);
      const middle = (p10 + p90) / 2;
      const first = p10 + Math.min(spread * WINDOW_FIRST, base / 2);
      const readsBefore = Math.ceil(first / max);
      const budget = middle / base + 0.5;
      const left = Math.max(1, budget - readsBefore - 1);
      const step = Math.round(Math.min(base, Math.max(fast, (middle - first) / left)));
      const end = p90 + step;
      if (moment.elapsedMs < first) return Math.max(fast, Math.min(max, first - moment.elapsedMs));
      if (moment.elapsedMs <= end) return step;
      return plain(Math.max(0, Math.round((moment.elapsedMs - end) / base)));
    },
  };
}

/**
 * Recent task durations per kind. In memory: a restart simply relearns within a few turns.
 */
export function createDurationModel(options: { keep?: number; minSamples?: number } = {}) {
  const keep = options.keep ?? 50;
  const minSamples = options.minSamples ?? 3;
  const samples = new Map<string, number[]>();
  const quantile = (sorted: number[], q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))] ?? 0;

  return {
    record(kind: string, durationMs: number) {
      if (!(durationMs > 0)) return;
      const list = samples.get(kind) ?? [];
      list.push(durationMs);
      if (list.length > keep) list.shift();
      samples.set(kind, list);
    },
    window(kind: string): DurationWindow | undefined {
      const list = samples.get(kind);
      if (!list || list.length < minSamples) return undefined;
      const sorted = [...list].sort((a, b) => a - b);
      return { p10: quantile(sorted, 0.1), p90: quantile(sorted, 0.9) };
    },
    /**
     * How likely a task of this kind running for `elapsedMs` has finished: the share of past tasks that
     * took no longer. Without enough history, simply older tasks first.
     */
    finishedShare(kind: string, elapsedMs: number): number {
      const list = samples.get(kind);
      if (!list || list.length < minSamples) return elapsedMs / (elapsedMs + 20_000);
      return list.filter((duration) => duration <= elapsedMs).length / list.length;
    },
  };
}

export type DurationModel = ReturnType<typeof createDurationModel>;
