import type { IncomingMessage, ServerResponse } from "node:http";
import { App, type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import { type RetryOptions, WebClient } from "@slack/web-api";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { DraftingService } from "../drafting/drafting-service.ts";
import type { Logger } from "../logger.ts";
import type { ListenerDeps } from "./listeners/deps.ts";
import { registerListeners } from "./listeners/index.ts";
import { createThreadPresenter, type ThreadPresenter } from "./thread-presenter.ts";
import { createUserNames } from "./user-names.ts";

/**
 * The Bolt app: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on PORT with
 * /slack/events (events, commands and interactivity), GET /healthz and GET /readyz.
 */
export interface SlackAppOptions {
  config: Config;
  drafting: DraftingService;
  logger: Logger;
  clock: Clock;
  /** Readiness beyond Slack auth (the store): checked on every GET /readyz. */
  isReady: () => Promise<boolean>;
  /** Web API retries; tests make them short so a failing fake does not look like a hang. */
  retryConfig?: RetryOptions;
  /** The status edit interval (2 s); tests may shorten it. */
  minEditIntervalMs?: number;
}

export interface SlackApp {
  app: App;
  presenter: ThreadPresenter;
  botUserId: string;
  teamId: string | undefined;
  /** Starts receiving; resolves once listening, with the HTTP port (PORT 0 picks a free one). */
  start(): Promise<number | undefined>;
  /** Stops receiving new events (in-flight acks finish) and flushes waiting status edits. */
  stop(): Promise<void>;
}

/** Thrown when Slack refuses the bot token at start: the operator must fix the config. */
export class SlackAuthError extends Error {
  constructor(code: string) {
    super(
      `Slack refused SLACK_BOT_TOKEN (${code}). Check the token in .env (OAuth & Permissions > Bot User OAuth Token).`,
    );
    this.name = "SlackAuthError";
  }
}

export async function createSlackApp(options: SlackAppOptions): Promise<SlackApp> {
  const { config, logger } = options;
  const boltLogger = toBoltLogger(logger.child({ component: "bolt" }), config.logLevel);
  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    logger: boltLogger,
    ...(options.retryConfig ? { retryConfig: options.retryConfig } : {}),
  };

  // Who we are (our user id strips our own mentions); a bad token stops the start here.
  const preflight = new WebClient(config.slack.botToken, clientOptions);
  let identity: { userId: string; botId: string | undefined; teamId: string | undefined };
  try {
    const auth = await preflight.auth.test();
    if (!auth.user_id) throw new Error("auth.test answered without a user id");
    identity = { userId: auth.user_id, botId: auth.bot_id, teamId: auth.team_id };
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    if (code) throw new SlackAuthError(code);
    throw error;
  }

  const routes = healthRoutes(options.isReady);
  const app = new App({
    token: config.slack.botToken,
    botId: identity.botId,
    botUserId: identity.userId,
    logger: boltLogger,
    clientOptions,
    customRoutes: routes,
    ...(config.slack.mode === "socket"
      ? { socketMode: true, appToken: config.slack.appToken, installerOptions: { port: config.port } }
      : { signingSecret: config.slack.signingSecret ?? "", port: config.port }),
  });

  const names = createUserNames({ client: app.client, logger });
  const presenter = createThreadPresenter({
    client: app.client,
    names,
    drafting: options.drafting,
    logger: logger.child({ component: "presenter" }),
    clock: options.clock,
    turnTimeoutMs: config.turnTimeoutMs,
    ...(options.minEditIntervalMs === undefined ? {} : { minEditIntervalMs: options.minEditIntervalMs }),
  });
  const deps: ListenerDeps = {
    drafting: options.drafting,
    presenter,
    names,
    logger: logger.child({ component: "slack" }),
    botUserId: identity.userId,
    allowedChannelIds: config.allowedChannelIds,
  };
  registerListeners(app, deps);
  app.error(async (error) => {
    logger.error({ err: error.message, code: (error as { code?: string }).code }, "slack.listener_error");
  });

  return {
    app,
    presenter,
    botUserId: identity.userId,
    teamId: identity.teamId,
    async start() {
      const server = (await app.start(config.port)) as { address?: () => unknown } | undefined;
      const address = server?.address?.();
      const port =
        address && typeof address === "object" && "port" in address ? Number(address.port) : undefined;
      logger.info(
        { mode: config.slack.mode, port: port ?? config.port, botUserId: identity.userId },
        "slack.started",
      );
      return port;
    },
    async stop() {
      await app.stop();
      await presenter.close();
    },
  };
}

function healthRoutes(isReady: () => Promise<boolean>) {
  const answer = (res: ServerResponse, status: number, body: object) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  return [
    {
      path: "/healthz",
      method: ["GET"],
      handler: (_req: IncomingMessage, res: ServerResponse) => answer(res, 200, { ok: true }),
    },
    {
      path: "/readyz",
      method: ["GET"],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        isReady().then(
          (ready) => answer(res, ready ? 200 : 503, { ok: ready }),
          () => answer(res, 503, { ok: false }),
        );
      },
    },
  ];
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
function toBoltLogger(logger: Logger, level: string): BoltLogger {
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
