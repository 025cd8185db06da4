/**
 * Typed Puffle errors with stable codes. Callers branch on `code`; turning a code into
 * words for a person happens in one place in the Slack layer.
 */
export type PuffleErrorCode =
  | "session_busy"
  | "no_framework"
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "out_of_credits"
  | "not_found"
  | "rate_limited"
  | "server_error"
  | "connection"
  | "timeout"
  | "bad_response";

export interface PuffleErrorDetails {
  /** HTTP method and path (never the full URL with a query that could carry data). */
  method: string;
  path: string;
  status?: number | undefined;
  /** The `error` text from Puffle's JSON body, when there was one. */
  serverMessage?: string | undefined;
  /** The raw response body (kept for bad answers and logs; capped). */
  rawBody?: string | undefined;
  cause?: unknown;
}

const RAW_BODY_LIMIT = 4000;

export class PuffleError extends Error {
  readonly code: PuffleErrorCode;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly serverMessage: string | undefined;
  readonly rawBody: string | undefined;

  constructor(code: PuffleErrorCode, message: string, details: PuffleErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.serverMessage = details.serverMessage;
    this.rawBody = details.rawBody?.slice(0, RAW_BODY_LIMIT);
  }

  /** A log-safe summary: no body, no secrets. */
  toLog() {
    return {
      code: this.code,
      status: this.status,
      method: this.method,
      path: this.path,
      message: this.message,
    };
  }
}

export class SessionBusyError extends PuffleError {
  constructor(d: PuffleErrorDetails) {
    super("session_busy", "The session is busy with another task", d);
  }
}
export class NoFrameworkError extends PuffleError {
  constructor(d: PuffleErrorDetails) {
    super("no_framework", "The session has no framework yet: chat first to create one", d);
  }
}
export class BadRequestError extends PuffleError {
  constructor(d: PuffleErrorDetails) {
    super("bad_request", `Puffle rejected the request: ${d.serverMessage ?? "validation failed"}`, d);
  }
}
export class UnauthorizedError extends PuffleError {
  constructor(d: PuffleErrorDetails) {
    super("unauthorized", "Puffle did not accept the API key", d);
  }
}
export class ForbiddenError extends PuffleError {
  constructor(d: PuffleErrorDetails) {
    super("forbidden", "Puffle refused access to this resource", d);
  }
}
export class OutOfCreditsError extends PuffleError {
  constructor(d: PuffleErrorDetails) {
    super("out_of_credits", "The Puffle workspace is out of credits", d);
  }
}
export class NotFoundError extends PuffleError {
  constructor(d: PuffleErrorDetails) {
    super("not_found", "Puffle could not find it (or it belongs to another workspace)", d);
  }
}
export class RateLimitedError extends PuffleError {
  /** How long Puffle asked us to wait, when it said (Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(d: PuffleErrorDetails & { retryAfterMs?: number | undefined }) {
    super("rate_limited", "Puffle is rate limiting requests", d);
    this.retryAfterMs = d.retryAfterMs;
  }
}
export class ServerError extends PuffleError {
  constructor(d: PuffleErrorDetails) {
    super("server_error", `Puffle had a server error (${d.status ?? "5xx"})`, d);
  }
}
export class ConnectionError extends PuffleError {
  /** True when the request surely never reached Puffle (refused, DNS): safe to send again. */
  readonly notSent: boolean;
  constructor(d: PuffleErrorDetails & { notSent: boolean }) {
    super("connection", "Could not reach Puffle", d);
    this.notSent = d.notSent;
  }
}
export class TimeoutError extends PuffleError {
  constructor(d: PuffleErrorDetails & { timeoutMs: number }) {
    super("timeout", `Puffle did not answer within ${d.timeoutMs} ms`, d);
  }
}
export class BadResponseError extends PuffleError {
  /** What did not match, in a few words per problem. */
  readonly problems: string[];
  constructor(d: PuffleErrorDetails & { problems: string[] }) {
    super(
      "bad_response",
      `Puffle sent an answer we could not read (${d.problems.slice(0, 3).join("; ")})`,
      d,
    );
    this.problems = d.problems;
  }
}

export function isPuffleError(error: unknown): error is PuffleError {
  return error instanceof PuffleError;
}

/** Reads `{ "error": "..." }` defensively; falls back to nothing. */
export function serverMessageOf(rawBody: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(rawBody);
    if (parsed && typeof parsed === "object" && "error" in parsed) {
      const error = (parsed as { error: unknown }).error;
      if (typeof error === "string" && error.trim()) return error.trim().slice(0, 500);
      if (error && typeof error === "object" && "message" in error) {
        const message = (error as { message: unknown }).message;
        if (typeof message === "string") return message.slice(0, 500);
      }
    }
  } catch {
    // not JSON: no server message
  }
  return undefined;
}

const NO_FRAMEWORK_HINT = /no framework|chat first/i;

/** Maps an HTTP error status to its typed error. */
export function errorForStatus(
  status: number,
  details: PuffleErrorDetails & { retryAfterMs?: number | undefined },
): PuffleError {
  switch (status) {
    case 400:
      return NO_FRAMEWORK_HINT.test(details.serverMessage ?? "")
        ? new NoFrameworkError(details)
        : new BadRequestError(details);
    case 401:
      return new UnauthorizedError(details);
    case 402:
      return new OutOfCreditsError(details);
    case 403:
      return new ForbiddenError(details);
    case 404:
      return new NotFoundError(details);
    case 409:
      return new SessionBusyError(details);
    case 429:
      return new RateLimitedError(details);
    default:
      if (status >= 500) return new ServerError(details);
      // Any other 4xx: treat as a request Puffle will not accept as sent.
      return new BadRequestError(details);
  }
}
