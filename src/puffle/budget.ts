import { AbortedError, type Clock, sleep } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { BudgetStore } from "./budget-store.ts";

/**
 * The Puffle request budget of one API key on this replica (SPEC 10). Every replica shares the key's
 * slots through the store, so together they send at most PUFFLE_MAX_RPM requests in any minute.
 *
 * Requests wait here in a queue; one pump per key reserves the next shared slot only while something
 * waits, sleeps until it, and then gives it to the most urgent request waiting at that moment: calls a
 * person or a dispatch waits on first (in order, a new draft's session after the calls of drafts
 * already under way), then reads of the tasks most likely to have finished.
 * So when the budget is short, polls stretch instead of bursting, and dispatches are never stuck behind
 * them. A 429 pauses the key on every replica until its Retry-After.
 */
export interface RequestBudget {
  /**
   * Waits for a slot. `likelihood` marks a task read (higher = more likely finished); without it, first.
   * `startsDraft` marks a call that opens a new draft's session: it waits behind the calls of drafts
   * already under way, so when the budget is short, started drafts finish instead of all waiting.
   */
  take(request?: {
    likelihood?: (() => number) | undefined;
    startsDraft?: boolean;
    signal?: AbortSignal | undefined;
  }): Promise<void>;
  /** Puffle answered 429: no request for this key before `until`, here or on any replica. */
  pause(until: number): Promise<void>;
  /** Requests waiting here now. */
  waiting(): number;
}

export interface RequestBudgetOptions {
  store: BudgetStore;
  /** The key's non-secret id (a hash). */
  keyId: string;
  maxRpm: number;
  clock: Clock;
  logger: Logger;
  /** How long each request waited, and each 429 pause (metrics). */
  onWait?: (ms: number) => void;
  onPause?: () => void;
}

/** Requests an idle key may send at once. */
const BURST = 4;
/** Spacing kept a little wider than the limit, so a request delayed on its way does not push a minute over. */
const MARGIN = 1.01;
/**
 * A read of a task that has likely finished, passed over by this many calls of the first lane in a row,
 * gets the next slot: when dispatches never stop coming (hundreds of new drafts on a short budget),
 * finished work is still read and shown, at one slot in five.
 */
const READ_PASSED_OVER = 4;
/** How likely finished a read must be for that (the share of past tasks that took no longer). */
const READ_DUE = 0.5;
/** When the store cannot hand out a slot, the pump tries again after this. */
const STORE_RETRY_MS = 1000;

/**
 * The GCRA spacing for `maxRpm`: with a burst of B lent to an idle key, slots are spaced so that no
 * 60 s window holds more than maxRpm of them: (n - B) * interval < 60 s gives n <= maxRpm when
 * interval = 60 s / (maxRpm - B + 1). The margin covers requests delayed in transit by up to ~1%.
 */
export function budgetSpacing(maxRpm: number): { intervalMs: number; toleranceMs: number } {
  const burst = maxRpm >= BURST * 4 ? BURST : 1;
  const intervalMs = Math.ceil((60_000 * MARGIN) / (maxRpm - burst + 1));
  return { intervalMs, toleranceMs: (burst - 1) * intervalMs };
}

interface Waiter {
  seq: number;
  likelihood: (() => number) | undefined;
  startsDraft: boolean;
  enqueuedAt: number;
  resolve(): void;
  reject(error: unknown): void;
}

export function createRequestBudget(options: RequestBudgetOptions): RequestBudget {
  const { store, keyId, clock, logger } = options;
  const { intervalMs, toleranceMs } = budgetSpacing(options.maxRpm);
  const queue: Waiter[] = [];
  let seq = 0;
  let pumping = false;
  let pausedUntil = 0;
  let lastStoreError = 0;
  /** First-lane grants in a row while a read of a likely finished task waited. */
  let readPassedOver = 0;

  /**
   * First the calls without a likelihood, in order (those of drafts under way before new drafts'); then
   * the read most likely to find its task done. A likely finished read passed over four times in a row
   * goes next.
   */
  function mostUrgent(): Waiter | undefined {
    let best: { waiter: Waiter; score: number } | undefined;
    let bestRead: { waiter: Waiter; score: number } | undefined;
    for (const waiter of queue) {
      const score = waiter.likelihood
        ? safeScore(waiter.likelihood)
        : waiter.startsDraft
          ? Number.MAX_VALUE
          : Number.POSITIVE_INFINITY;
      if (!best || score > best.score || (score === best.score && waiter.seq < best.waiter.seq)) {
        best = { waiter, score };
      }
      if (waiter.likelihood && score >= READ_DUE && (!bestRead || score > bestRead.score))
        bestRead = { waiter, score };
    }
    if (!best?.waiter.likelihood && bestRead) {
      if (readPassedOver >= READ_PASSED_OVER) {
        readPassedOver = 0;
        return bestRead.waiter;
      }
      readPassedOver++;
    } else if (best?.waiter.likelihood) readPassedOver = 0;
    return best?.waiter;
  }

  async function reserve(): Promise<number> {
    for (;;) {
      try {
        return await store.reserveSlot(keyId, clock.now(), intervalMs, toleranceMs);
      } catch (error) {
        const now = clock.now();
        if (now - lastStoreError > 60_000) {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, "budget.store_failed");
        }
        lastStoreError = now;
        await sleep(clock, STORE_RETRY_MS);
      }
    }
  }

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) {
        if (pausedUntil > clock.now()) await sleep(clock, pausedUntil - clock.now());
        const slot = await reserve();
        if (slot > clock.now()) await sleep(clock, slot - clock.now());
        // A 429 seen here while waiting for the slot: it falls inside the pause, wait that out first.
        if (slot < pausedUntil) continue;
        const next = mostUrgent();
        if (!next) break;
        queue.splice(queue.indexOf(next), 1);
        options.onWait?.(clock.now() - next.enqueuedAt);
        next.resolve();
      }
    } finally {
      pumping = false;
      // A request queued while the pump was finishing.
      if (queue.length > 0) void pump();
    }
  }

  return {
    take(request = {}) {
      const signal = request.signal;
      if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          seq: seq++,
          likelihood: request.likelihood,
          startsDraft: request.startsDraft ?? false,
          enqueuedAt: clock.now(),
          resolve: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
          reject,
        };
        const onAbort = () => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(new AbortedError(signal?.reason));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(waiter);
        void pump();
      });
    },
    async pause(until) {
      if (until <= pausedUntil) return;
      pausedUntil = until;
      options.onPause?.();
      logger.warn({ keyId, pauseMs: Math.max(0, until - clock.now()) }, "budget.paused");
      try {
        await store.pauseKey(keyId, until);
      } catch (error) {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, "budget.store_failed");
      }
    },
    waiting: () => queue.length,
  };
}

function safeScore(likelihood: () => number): number {
  try {
    const score = likelihood();
    return Number.isFinite(score) ? score : 0;
  } catch {
    return 0;
  }
}
