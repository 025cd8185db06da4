import { afterDispatch, ERROR_POLICY } from "./error-policy.ts";
import { type PuffleError, RateLimitedError } from "./errors.ts";

/**
 * The one retry policy for Puffle calls, per kind of call, following ERROR_POLICY:
 * - "idempotent": GET, PUT, PATCH, DELETE and session create (an extra empty session is a
 *   free DB row): errors whose `readAgain` is set (429 honouring Retry-After, 5xx, connection
 *   errors, timeouts).
 * - "dispatch": /turn and /generate-examples start paid work: only what surely did not start it
 *   (`afterDispatch` = "retry": 429, 500, a connection that never left this machine). A 409 is the
 *   caller's to queue; an ambiguous failure is the caller's to settle by reading the session.
 */
export type CallKind = "idempotent" | "dispatch";

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we sleep through inside one call; longer waits are the caller's. */
  maxRetryAfterMs: number;
  /** [0, 1) source for jitter; injectable for tests. */
  random: () => number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
};

export type RetryDecision = { retry: false } | { retry: true; delayMs: number; reason: string };

/** Capped exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(attempt: number, options: RetryOptions): number {
  const capped = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(capped / 2 + (capped / 2) * options.random());
}

/**
 * `attempt` is the number of the attempt that just failed (1 for the first).
 */
export function decideRetry(
  kind: CallKind,
  error: PuffleError,
  attempt: number,
  options: RetryOptions = DEFAULT_RETRY,
): RetryDecision {
  if (attempt >= options.maxAttempts) return { retry: false };

  if (error instanceof RateLimitedError) {
    const wait = error.retryAfterMs ?? backoffDelay(attempt, options);
    if (wait > options.maxRetryAfterMs) return { retry: false };
    return { retry: true, delayMs: wait, reason: "rate_limited" };
  }

  if (kind === "idempotent") {
    if (!ERROR_POLICY[error.code].readAgain) return { retry: false };
    return { retry: true, delayMs: backoffDelay(attempt, options), reason: error.code };
  }

  if (afterDispatch(error) !== "retry") return { retry: false };
  if (error.code === "server_error") {
    // The claim was released: the first retry goes at once, later ones back off.
    return {
      retry: true,
      delayMs: attempt === 1 ? 0 : backoffDelay(attempt - 1, options),
      reason: "dispatch_500",
    };
  }
  return { retry: true, delayMs: backoffDelay(attempt, options), reason: "connection_not_sent" };
}

/** Parses Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const header = Array.isArray(value) ? value[0] : value;
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
