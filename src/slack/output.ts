import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { ThreadRecord } from "../drafting/store.ts";
import type { Logger } from "../logger.ts";
import type { SlackMessageStore } from "./message-store.ts";
import { createWorkspaceClients } from "./oauth/clients.ts";
import { createPoster, type Poster, type SlackClients } from "./poster.ts";
import { meteredFetch, NO_SLACK_TELEMETRY, type SlackTelemetry } from "./telemetry.ts";
import { createThreadPresenter, type ThreadPresenter } from "./thread-presenter.ts";
import { createUserNames, type UserNames } from "./user-names.ts";

/**
 * What the bot writes to Slack, built before the drafting service so that the presenter can be its
 * outcome sink (and needs nothing from it). The client never retries by itself: the poster decides
 * what is safe to repeat.
 */
export interface SlackOutput {
  /** Where Web API calls, stream fallbacks and feedback are counted. */
  telemetry: SlackTelemetry;
  clients: SlackClients;
  poster: Poster;
  presenter: ThreadPresenter;
  names: UserNames;
  /** Where the presenter's "what a thread shows changed" goes: set once, by app.ts (the Home tab). */
  onThreadChanged(listener: (thread: ThreadRecord) => void): void;
}

/** Slack's answer is late after this: the call counts as lost (and a post is looked up). */
const CALL_TIMEOUT_MS = 15_000;

export function createSlackOutput(options: {
  config: Config;
  logger: Logger;
  clock: Clock;
  messages: SlackMessageStore;
  minEditIntervalMs?: number | undefined;
  telemetry?: SlackTelemetry | undefined;
  /** OAuth mode: a workspace's current bot token (each workspace gets its own client). */
  tokenFor?: ((teamId: string) => Promise<string>) | undefined;
}): SlackOutput {
  const { config, logger, clock, messages } = options;
  const telemetry = options.telemetry ?? NO_SLACK_TELEMETRY;
  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    logger: toBoltLogger(logger.child({ component: "web-api" }), config.logLevel),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: CALL_TIMEOUT_MS,
    fetch: meteredFetch(telemetry),
  };
  const client = new WebClient(config.slack.botToken, clientOptions);
  const clients: SlackClients = options.tokenFor
    ? createWorkspaceClients({
        tokenFor: options.tokenFor,
        clientOptions,
        logger: logger.child({ component: "slack" }),
      })
    : { forTeam: async () => client };
  const poster = createPoster({ clients, messages, clock, logger: logger.child({ component: "poster" }) });
  const names = createUserNames({ clients, logger });
  // The Home tab is built after the drafting service, so the presenter's hook is bound late.
  let threadChanged: ((thread: ThreadRecord) => void) | undefined;
  const presenter = createThreadPresenter({
    clients,
    poster,
    messages,
    names,
    logger: logger.child({ component: "presenter" }),
    clock,
    turnTimeoutMs: config.turnTimeoutMs,
    onStreamFallback: (reason) => telemetry.streamFallback(reason),
    onThreadChanged: (thread) => threadChanged?.(thread),
    ...(options.minEditIntervalMs === undefined ? {} : { minEditIntervalMs: options.minEditIntervalMs }),
  });
  return {
    telemetry,
    clients,
    poster,
    presenter,
    names,
    onThreadChanged(listener) {
      threadChanged = listener;
    },
  };
}

const LEVELS: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/** Bolt and the Web API client log through our redacting pino logger. */
export function toBoltLogger(logger: Logger, level: string): BoltLogger {
  let current = LEVELS[level] ?? LogLevel.INFO;
  const text = (parts: unknown[]) =>
    parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ");
  return {
    debug: (...msg) => logger.debug(text(msg)),
    info: (...msg) => logger.info(text(msg)),
    warn: (...msg) => logger.warn(text(msg)),
    error: (...msg) => logger.error(text(msg)),
    setLevel: (next) => {
      current = next;
    },
    getLevel: () => current,
    setName: () => {},
  };
}
