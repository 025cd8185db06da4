import { CONTRACT } from "../puffle/contract.ts";

/**
 * When to read the session next while a Puffle task runs.
 *
 * A plain fixed poller finds a finished task on average half an interval late. We do better
 * with no more reads by learning how long tasks take: few reads while the task is surely still
 * running, the first read a little into the window where tasks usually end, reads spaced to the
 * spread of durations in that window, and a 2 s -> 5 s back-off after it. Until a few durations are
 * known (and whenever realtime is following the run, which wakes us at once), the schedule is the
 * plain "about every 2 s at first, backing off to 5 s".
 *
 * Polling only brackets a duration (between the last read that found the task running and the one
 * that found it done), and a task already done at the first read says nothing about how much earlier
 * it ended. So the first read's place is learned on its own (see `recordPolled`): it moves so that
 * about a quarter of tasks are already done when it comes, whatever their durations below it.
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
  /** Where the first read goes, once learned from watches that polled (ms after dispatch). */
  first?: number;
  /** The recent durations themselves, ascending: the step between reads is fitted to them. */
  durations?: readonly number[];
  /** What is known of each: ended within [from, to] ms after dispatch (from = to when known exactly). */
  brackets?: readonly (readonly [from: number, to: number])[];
  /** The share of the fixed poller's reads to plan for, corrected by what plans actually spent. */
  readsShare?: number;
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

/**
 * The share of a fixed poller's reads that watches on the learned schedule should actually spend. The
 * plan is fitted to recent durations, but those are known only to the nearest read, and at a busy
 * moment the first to be known are the quickest: what a plan spends is measured and the plan corrected
 * (`readsShare` in the window).
 */
const READS_TARGET = 0.93;
/** The share planned before any plan was measured: lower, as the first durations known are the quickest. */
const READS_START = 0.9;
/** How far one watch corrects the planned share (a running average over some 50 watches). */
const READS_GAIN = 0.02;
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

  /** The first read of a watch on the learned schedule: learned, else a little into the window. */
  const firstRead = (window: DurationWindow) =>
    window.first ?? window.p10 + Math.min(Math.max(0, window.p90 - window.p10) * WINDOW_FIRST, base / 2);

  /** Reads this schedule makes for a task of `duration` ms, and those of a plain fixed poller. */
  const readsBefore = (first: number) => Math.ceil(first / max);
  const ourReads = (duration: number, first: number, step: number) =>
    readsBefore(first) + (duration <= first ? 0 : Math.ceil((duration - first) / step));
  const fixedReads = (duration: number) => Math.max(1, Math.ceil(duration / base));
  /** The mean of `reads` over a bracket of durations (eight points spread within it). */
  const across = ([from, to]: readonly [number, number], reads: (duration: number) => number) => {
    if (to <= from) return reads(to);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += reads(from + ((i + 0.5) / 8) * (to - from));
    return sum / 8;
  };

  /**
   * The tightest spacing in [fast, base] whose reads, over the recent durations, are no more than a
   * fixed poller's; Infinity when even `base` spends more (tasks mostly shorter than one interval). Without
   * the durations, the fixed poller's reads are spread to the window's middle.
   */
  const steps = new WeakMap<DurationWindow, number>();
  function stepFor(window: DurationWindow, first: number): number {
    const known = steps.get(window);
    if (known !== undefined) return known;
    let step: number;
    const brackets = window.brackets;
    if (brackets && brackets.length > 0) {
      // Each duration counts as spread over what polling knew of it, so a wide bracket is not taken
      // for an exact time.
      const allowed =
        (window.readsShare ?? READS_TARGET) * brackets.reduce((sum, b) => sum + across(b, fixedReads), 0);
      const spent = (candidate: number) =>
        brackets.reduce((sum, b) => sum + across(b, (d) => ourReads(d, first, candidate)), 0);
      let [low, high] = [fast, base];
      // Tasks this short: any read before the fixed poller's first costs one more; poll plainly.
      if (spent(high) > allowed) step = Number.POSITIVE_INFINITY;
      else {
        while (high - low > 10) {
          const mid = (low + high) / 2;
          if (spent(mid) <= allowed) high = mid;
          else low = mid;
        }
        step = Math.round(high);
      }
    } else {
      const middle = (window.p10 + window.p90) / 2;
      const left = Math.max(1, middle / base + 0.5 - readsBefore(first) - 1);
      step = Math.round(Math.min(base, Math.max(fast, (middle - first) / left)));
    }
    steps.set(window, step);
    return step;
  }

  return {
    baseMs: base,
    maxMs: max,
    fastMs: fast,
    firstRead,
    /** Reads a fixed poller would have made for a task that ended within [from, to] ms. */
    fixedReadsWithin: (from: number, to: number) => across([from, to], fixedReads),
    /** Milliseconds to wait before the next read. */
    nextDelay(moment: PollMoment): number {
      if (options.mode === "fixed") return base;
      if (moment.realtimeAlive || !moment.window) return plain(moment.polls);
      // Reads go where tasks end, with no more of them than a fixed poller would make: few before the
      // window (at most every `max`), the first where about a quarter of tasks are done, then spaced as
      // tightly as the fixed poller's reads for the same durations allow (see the unit test).
      const { p90 } = moment.window;
      const first = firstRead(moment.window);
      const step = stepFor(moment.window, first);
      if (!Number.isFinite(step)) return plain(moment.polls);
      const end = p90 + step;
      if (moment.elapsedMs < first) return Math.max(fast, Math.min(max, first - moment.elapsedMs));
      if (moment.elapsedMs <= end) return step;
      return plain(Math.max(0, Math.round((moment.elapsedMs - end) / base)));
    },
  };
}

/** How often the learned first read should find the task already done. */
const DONE_AT_FIRST = 0.25;
/** How far one watch moves the learned first read, as a share of the window's spread. */
const FIRST_STEP = 0.05;

/** What polling saw of one task: the last read that found it running, and the read that found it done. */
export interface PolledDuration {
  /** ms after dispatch; undefined when the first read already found the task done. */
  lastBusyMs: number | undefined;
  doneMs: number;
  /** The learned schedule's first read for this watch, when it followed one. */
  firstReadMs: number | undefined;
  /** On the learned schedule: the reads this watch made, and those a fixed poller would have made. */
  reads?: { made: number; fixed: number };
}

interface Sample {
  /** The duration as best known: exact, the middle of its bracket, or the read that found it done. */
  ms: number;
  /** It ended within [from, to] ms after dispatch (a task done at its first read: fitted as ending then). */
  from: number;
  to: number;
  /** Done at the first read: the task ended at most `ms` after dispatch, how much earlier is unknown. */
  doneBefore: boolean;
}

/**
 * Recent task durations per kind. In memory: a restart simply relearns within a few turns.
 */
export function createDurationModel(options: { keep?: number; minSamples?: number } = {}) {
  const keep = options.keep ?? 50;
  // A window from a handful of brackets would misplace the reads: wait for a few more.
  const minSamples = options.minSamples ?? 10;
  const samples = new Map<string, Sample[]>();
  const firsts = new Map<string, number>();
  const shares = new Map<string, number>();
  const spending = new Map<string, { made: number; fixed: number }>();
  const quantile = (sorted: number[], q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))] ?? 0;

  function add(kind: string, sample: Sample) {
    if (!(sample.ms > 0)) return;
    const list = samples.get(kind) ?? [];
    list.push(sample);
    if (list.length > keep) list.shift();
    samples.set(kind, list);
    windows.delete(kind);
  }

  /** Durations in order; tasks done at the first read ended before every task that was seen running. */
  function ordered(list: Sample[]): number[] {
    const early = list.filter((s) => s.doneBefore).map((s) => s.ms);
    const seen = list.filter((s) => !s.doneBefore).map((s) => s.ms);
    return [...early.sort((a, b) => a - b), ...seen.sort((a, b) => a - b)];
  }

  /** The window of each kind, until its next sample (the schedule keeps what it fits to a window). */
  const windows = new Map<string, DurationWindow>();
  function window(kind: string): DurationWindow | undefined {
    const cached = windows.get(kind);
    if (cached) return cached;
    const list = samples.get(kind);
    if (!list || list.length < minSamples) return undefined;
    const durations = ordered(list);
    const brackets = list.map((sample) => [sample.from, sample.to] as const);
    const first = firsts.get(kind);
    const computed: DurationWindow = {
      p10: quantile(durations, 0.1),
      p90: quantile(durations, 0.9),
      ...(first === undefined ? {} : { first }),
      readsShare: shares.get(kind) ?? READS_START,
      durations,
      brackets,
    };
    windows.set(kind, computed);
    return computed;
  }

  return {
    /** A duration known exactly (realtime said when the run ended). */
    record(kind: string, durationMs: number) {
      add(kind, { ms: durationMs, from: durationMs, to: durationMs, doneBefore: false });
    },
    /**
     * A duration seen by polling: the middle of its bracket, or (done at the first read) only its upper
     * bound. A watch on the learned schedule also moves the first read: later when the task was still
     * running then, earlier when it was done, so that about a quarter are done by then (a running
     * quantile estimate that needs no duration below the first read).
     */
    recordPolled(kind: string, seen: PolledDuration) {
      const before = window(kind);
      add(
        kind,
        seen.lastBusyMs === undefined
          ? { ms: seen.doneMs, from: seen.doneMs, to: seen.doneMs, doneBefore: true }
          : {
              ms: (seen.lastBusyMs + seen.doneMs) / 2,
              from: seen.lastBusyMs,
              to: seen.doneMs,
              doneBefore: false,
            },
      );
      if (seen.firstReadMs === undefined || !before) return;
      if (seen.reads && seen.reads.fixed > 0) {
        // Reads made against reads a fixed poller would have made, over recent watches (not per watch:
        // an average of ratios would count one extra read on a short task as much as three saved).
        const spent = spending.get(kind) ?? { made: 0, fixed: 0 };
        spent.made = spent.made * (1 - READS_GAIN) + seen.reads.made;
        spent.fixed = spent.fixed * (1 - READS_GAIN) + seen.reads.fixed;
        spending.set(kind, spent);
        const share = before.readsShare ?? READS_START;
        const corrected = share + READS_GAIN * (READS_TARGET - spent.made / spent.fixed);
        shares.set(kind, Math.min(1.5, Math.max(0.5, corrected)));
      }
      const doneAtFirst = seen.doneMs <= seen.firstReadMs ? 1 : 0;
      const step = FIRST_STEP * Math.max(before.p90 - before.p10, 500);
      const moved = (firsts.get(kind) ?? seen.firstReadMs) + step * (DONE_AT_FIRST - doneAtFirst);
      firsts.set(kind, Math.min(Math.max(moved, 0), Math.max(before.p90, 0)));
      windows.delete(kind);
    },
    window,
    /**
     * How likely a task of this kind running for `elapsedMs` has finished: the share of past tasks that
     * took no longer. Without enough history, simply older tasks first.
     */
    finishedShare(kind: string, elapsedMs: number): number {
      const list = samples.get(kind);
      if (!list || list.length < minSamples) return elapsedMs / (elapsedMs + 20_000);
      return list.filter((sample) => sample.ms <= elapsedMs).length / list.length;
    },
  };
}

export type DurationModel = ReturnType<typeof createDurationModel>;
