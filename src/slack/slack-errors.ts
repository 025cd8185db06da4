import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from "@slack/web-api";

/**
 * What a failed Slack call means for what to do next, read through the SDK's error types:
 * - "rate_limited": refused before anything happened; wait `retryAfterMs` and try again;
 * - "ambiguous": the answer was lost (a 5xx, a dropped connection, a timeout): the call may have
 *   taken effect; a post must be looked up before it is tried again;
 * - "refused": Slack answered with an error; the call did nothing.
 */
export type SlackFailure =
  | { kind: "rate_limited"; retryAfterMs: number; code: string }
  | { kind: "ambiguous"; code: string }
  | { kind: "refused"; code: string };

/** Slack's own errors that do not say whether the call took effect. */
const UNCLEAR_ERRORS = new Set(["internal_error", "fatal_error", "request_timeout", "service_unavailable"]);

export function classifySlackError(error: unknown): SlackFailure {
  if (error instanceof WebAPIRateLimitedError)
    return { kind: "rate_limited", retryAfterMs: Math.max(0, error.retryAfter) * 1000, code: "ratelimited" };
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    if (code === "ratelimited") return { kind: "rate_limited", retryAfterMs: 1000, code };
    return UNCLEAR_ERRORS.has(code) ? { kind: "ambiguous", code } : { kind: "refused", code };
  }
  if (error instanceof WebAPIHTTPError)
    return error.statusCode >= 500
      ? { kind: "ambiguous", code: `http_${error.statusCode}` }
      : { kind: "refused", code: `http_${error.statusCode}` };
  if (error instanceof WebAPIRequestError) return { kind: "ambiguous", code: "request_failed" };
  return { kind: "refused", code: error instanceof Error ? error.name : "unknown" };
}

/** A short, log-safe name for a Slack failure (an error code, never a token or a payload). */
export function slackErrorCode(error: unknown): string {
  if (error instanceof WebAPIRequestError) return `request_failed: ${error.original.message}`;
  if (
    error instanceof WebAPIPlatformError ||
    error instanceof WebAPIHTTPError ||
    error instanceof WebAPIRateLimitedError
  )
    return classifySlackError(error).code;
  return error instanceof Error ? error.message : String(error);
}

/** An error from a Web API call (as opposed to one of ours). */
export function isSlackApiError(error: unknown): boolean {
  return (
    error instanceof WebAPIPlatformError ||
    error instanceof WebAPIHTTPError ||
    error instanceof WebAPIRateLimitedError ||
    error instanceof WebAPIRequestError
  );
}

/** Slack refused with exactly this error code. */
export function isSlackError(error: unknown, code: string): boolean {
  return error instanceof WebAPIPlatformError && error.data.error === code;
}
