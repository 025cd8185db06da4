import { type Clock, sleep, systemClock } from "../clock.ts";
import type { Logger } from "../logger.ts";

/**
 * The start-up's patience (SPEC 10): Slack or the store unreachable at start is tried again, one log
 * line per try naming the host and the reason, for at most 30 s in all; then the start fails with
 * what failed and where to look next. A failure a retry cannot fix (a refused token) fails at once.
 */

/** The longest a start-up keeps trying, all targets together. */
export const START_RETRY_LIMIT_MS = 30_000;
/** One try never waits longer than this for an answer (a host that swallows packets). */
export const START_TRY_TIMEOUT_MS = 10_000;
const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 5_000;

/** Where a failed start sends the operator. */
export const DOCTOR_HINT = "Run `npm run doctor` to check the configuration and each connection.";

/** Why a try failed, when another try may go better. Without a reason, failureReason(error) is logged. */
export interface TransientFailure {
  reason?: string;
  /** The server asked for this pause (Retry-After). */
  retryAfterMs?: number;
}

/** Something the start-up must reach. */
export interface StartTarget {
  /** A log field: "slack", "store". */
  name: string;
  /** For people: "Slack", "the PostgreSQL store". */
  label: string;
  /** Host (and port, database), never credentials. */
  host: string;
  /** How a failure may pass with time; undefined when a retry will not help (the error is thrown as is). */
  transient(error: unknown): TransientFailure | undefined;
}

/** Runs `attempt` until it succeeds, fails for good, or the start-up is out of time. */
export type RetryAtStart = <T>(
  target: StartTarget,
  attempt: (timeoutMs: number) => Promise<T>,
  /** A value that arrives after its try timed out (a late connection) is handed here to be closed. */
  discard?: (late: T) => void,
) => Promise<T>;

/**
 * The start-up ran out of time on one target. Its last try is logged by whoever logs this error (one
 * line: the start failed, with the host and the reason), so that line is the process's last.
 */
export class StartFailedError extends Error {
  readonly target: string;
  readonly host: string;
  readonly reason: string;
  readonly tries: number;
  constructor(target: StartTarget, reason: string, tries: number, elapsedMs: number) {
    const label = target.label.charAt(0).toUpperCase() + target.label.slice(1);
    super(
      `${label} at ${target.host} still failed after ${tries} ${tries === 1 ? "try" : "tries"} ` +
        `in ${(elapsedMs / 1000).toFixed(1)} s (last: ${reason}).`,
    );
    this.name = "StartFailedError";
    this.target = target.name;
    this.host = target.host;
    this.reason = reason;
    this.tries = tries;
  }
}

/** A try that got no answer in its time. */
class TryTimedOut extends Error {
  constructor() {
    super("timeout");
    this.name = "TimeoutError";
  }
}

/** Error codes of a connection that may work a moment later. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
]);

/**
 * The network reason inside an error (ECONNREFUSED, ENOTFOUND, timeout), looking through `cause`
 * (fetch), `original` (the Web API client) and AggregateError's `errors` (a host with several addresses).
 */
export function networkReason(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== "object" || depth > 5) return undefined;
  const e = error as {
    code?: unknown;
    name?: unknown;
    cause?: unknown;
    original?: unknown;
    errors?: unknown;
  };
  if (typeof e.code === "string" && (NETWORK_CODES.has(e.code) || e.code.startsWith("UND_ERR_")))
    return e.code;
  if (e.name === "TimeoutError") return "timeout";
  for (const inner of [e.cause, e.original, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = networkReason(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** A short reason for a failed try: the network code, "timeout", or else the message of the innermost cause. */
export function failureReason(error: unknown): string {
  const network = networkReason(error);
  if (network) return network;
  let inner: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const next =
      (inner as { cause?: unknown; original?: unknown } | null)?.cause ??
      (inner as { original?: unknown } | null)?.original;
    if (!(next instanceof Error)) break;
    inner = next;
  }
  return inner instanceof Error ? inner.message.slice(0, 120) : String(inner).slice(0, 120);
}

/** START_RETRY_MS, for tests only: a shorter limit than the 30 s of a real start (never a longer one). */
export function startRetryLimitFrom(env: Record<string, string | undefined>): number {
  const value = env.START_RETRY_MS?.trim();
  if (!value || !/^\d+$/.test(value)) return START_RETRY_LIMIT_MS;
  return Math.min(Number(value), START_RETRY_LIMIT_MS);
}

/** One try and no retry: for callers without a start-up policy (tests that start the bot in-process). */
export const tryOnce: RetryAtStart = (_target, attempt) => attempt(START_TRY_TIMEOUT_MS);

export interface StartRetryOptions {
  logger: Logger;
  /** Total time for every retry of this start-up (default 30 s). */
  limitMs?: number;
  clock?: Clock;
}

/** The start-up's retry: one deadline shared by every target, counted from now. */
export function createStartRetry(options: StartRetryOptions): RetryAtStart {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const deadline = startedAt + (options.limitMs ?? START_RETRY_LIMIT_MS);
  const { logger } = options;

  return async function retryAtStart<T>(
    target: StartTarget,
    attempt: (timeoutMs: number) => Promise<T>,
    discard?: (late: T) => void,
  ): Promise<T> {
    for (let tries = 1; ; tries++) {
      // A try may run past the deadline by a little (a second at most), never by a whole try timeout.
      const timeoutMs = Math.min(START_TRY_TIMEOUT_MS, Math.max(1000, deadline - clock.now()));
      let failure: TransientFailure | undefined;
      let error: unknown;
      try {
        return await withTimeout(clock, attempt(timeoutMs), timeoutMs, discard);
      } catch (caught) {
        error = caught;
        failure = caught instanceof TryTimedOut ? { reason: "timeout" } : target.transient(caught);
      }
      if (!failure) throw error;
      const reason = failure.reason ?? failureReason(error);
      const pause = Math.max(
        Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (tries - 1)),
        failure.retryAfterMs ?? 0,
      );
      const now = clock.now();
      // The last try's line is the caller's: the failure of the start itself (see StartFailedError).
      if (now + pause >= deadline) throw new StartFailedError(target, reason, tries, now - startedAt);
      // One line per try: what, where, why, and when the next one comes.
      logger.warn(
        { target: target.name, host: target.host, reason, try: tries, retryInMs: pause },
        "start.try_failed",
      );
      await sleep(clock, pause);
    }
  };
}

/** The attempt, or TryTimedOut after `ms`; a late value goes to `discard`, a late failure nowhere. */
function withTimeout<T>(
  clock: Clock,
  promise: Promise<T>,
  ms: number,
  discard: ((late: T) => void) | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = clock.setTimeout(() => {
      settled = true;
      reject(new TryTimedOut());
    }, ms);
    promise.then(
      (value) => {
        if (settled) discard?.(value);
        else {
          settled = true;
          clock.clearTimeout(timer);
          resolve(value);
        }
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
