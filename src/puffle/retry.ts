import { ConnectionError, type PuffleError, RateLimitedError } from "./errors.ts";

/**
 * The one retry policy for Puffle calls, per kind of call:
 * - "idempotent": GET, PUT, PATCH, DELETE and session create (an extra empty session is a
 *   free DB row). Retries 429 (honouring Retry-After), 5xx, connection errors and timeouts.
 * - "dispatch": /turn and /generate-examples start paid work. Retries 429 (refused before
 *   any claim), 500 (Puffle documents that the claim was released), and connection errors
 *   that surely never reached Puffle. Never a 409 (busy is queued by the caller, not retried),
 *   never a timeout, a reset connection or a 502/503/504: the turn may have been dispatched,
 *   so the caller re-reads the session instead.
 * 400/401/402/403/404 and bad answers are never retried.
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
    if (error.code === "server_error" || error.code === "connection" || error.code === "timeout") {
      return { retry: true, delayMs: backoffDelay(attempt, options), reason: error.code };
    }
    return { retry: false };
  }

  // dispatch
  if (error.code === "server_error" && error.status === 500) {
    // The claim was released: the first retry goes at once, later ones back off.
    return {
      retry: true,
      delayMs: attempt === 1 ? 0 : backoffDelay(attempt - 1, options),
      reason: "dispatch_500",
    };
  }
  if (error instanceof ConnectionError && error.notSent) {
    return { retry: true, delayMs: backoffDelay(attempt, options), reason: "connection_not_sent" };
  }
  return { retry: false };
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
