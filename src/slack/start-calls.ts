import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from "@slack/web-api";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { RetryAtStart, StartTarget, TransientFailure } from "../ops/start-retry.ts";
import { toBoltLogger } from "./output.ts";

/**
 * The calls to Slack that a start depends on (auth.test for the bot token, apps.connections.open for
 * Socket Mode's app token): each tried again while Slack is out of reach, a refused token named.
 */

/** Thrown when Slack refuses the bot token at start: the operator must fix the config. */
export class SlackAuthError extends Error {
  constructor(code: string) {
    super(
      `Slack refused SLACK_BOT_TOKEN (${code}). Check the token in .env (OAuth & Permissions > Bot User OAuth Token).`,
    );
    this.name = "SlackAuthError";
  }
}

/** Thrown when Slack refuses the app-level token of Socket Mode at start. */
export class SlackAppTokenError extends Error {
  constructor(code: string) {
    super(
      `Slack refused SLACK_APP_TOKEN (${code}) when opening the Socket Mode connection. Check the app-level ` +
        "token in .env (Basic Information > App-Level Tokens, an xapp- token with the connections:write scope), " +
        "or unset SLACK_APP_TOKEN to run in HTTP mode.",
    );
    this.name = "SlackAppTokenError";
  }
}

/** Slack's own errors that say "later", not "you are wrong". */
const SLACK_SIDE_ERRORS = new Set([
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "ratelimited",
]);

/** A refusal of the token the call was made with (any of Slack's errors but its own trouble). */
export function refusedToken(error: unknown): string | undefined {
  return error instanceof WebAPIPlatformError && !SLACK_SIDE_ERRORS.has(error.data.error)
    ? error.data.error
    : undefined;
}

/** Whether a failed start-up call to Slack may go better later, read through the SDK's error types. */
function slackTransient(error: unknown): TransientFailure | undefined {
  if (error instanceof WebAPIRateLimitedError)
    return { reason: "HTTP 429", retryAfterMs: Math.max(0, error.retryAfter) * 1000 };
  if (error instanceof WebAPIHTTPError)
    return error.statusCode >= 500 || error.statusCode === 429
      ? { reason: `HTTP ${error.statusCode}` }
      : undefined;
  // A connection that failed or timed out: the start-up's retry reads the reason (ECONNREFUSED, timeout).
  if (error instanceof WebAPIRequestError) return {};
  if (error instanceof WebAPIPlatformError && SLACK_SIDE_ERRORS.has(error.data.error))
    return { reason: error.data.error };
  return undefined;
}

/** Slack's Web API as a start-up target (host of SLACK_API_URL). */
export function slackTarget(apiUrl: string): StartTarget {
  return { name: "slack", label: "Slack", host: new URL(apiUrl).host, transient: slackTransient };
}

export type ClientOptions = NonNullable<ConstructorParameters<typeof WebClient>[1]>;

/**
 * A client for one start-up call: no retries of its own (the start-up's retry logs each try), a
 * timeout, a 429 answered at once, and a logger that keeps the client's per-failure warnings out.
 */
function startClientOptions(clientOptions: ClientOptions, logger: Logger, timeoutMs: number): ClientOptions {
  return {
    ...clientOptions,
    logger: toBoltLogger(logger.child({ component: "bolt" }, { level: "error" }), "error"),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: timeoutMs,
  };
}

/**
 * One start-up call to Slack with `token`, tried again while Slack is out of reach. A refused token
 * throws `refused(code)`; an HTTP error a retry does not fix means SLACK_API_URL is not Slack's Web API.
 */
export function callAtStart<T>(
  config: Config,
  options: { clientOptions: ClientOptions; logger: Logger; retryAtStart: RetryAtStart },
  token: string | undefined,
  method: string,
  call: (client: WebClient) => Promise<T>,
  refused: (code: string) => Error,
): Promise<T> {
  const target = slackTarget(config.slack.apiUrl);
  return options.retryAtStart(target, async (timeoutMs) => {
    try {
      return await call(
        new WebClient(token, startClientOptions(options.clientOptions, options.logger, timeoutMs)),
      );
    } catch (error) {
      const code = refusedToken(error);
      if (code) throw refused(code);
      if (error instanceof WebAPIHTTPError && !slackTransient(error))
        throw new Error(
          `Slack at ${target.host} answered HTTP ${error.statusCode} to ${method}: check SLACK_API_URL (default https://slack.com/api/).`,
        );
      throw error;
    }
  });
}
