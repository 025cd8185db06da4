import { App } from "@slack/bolt";
import type { RetryOptions } from "@slack/web-api";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { DraftingService } from "../drafting/drafting-service.ts";
import type { Logger } from "../logger.ts";
import { type RetryAtStart, tryOnce } from "../ops/start-retry.ts";
import { createBackground } from "./background.ts";
import { createHomeTab } from "./home/home-tab.ts";
import type { HomeViewers } from "./home/viewers.ts";
import type { ListenerDeps } from "./listeners/deps.ts";
import { registerListeners } from "./listeners/index.ts";
import type { LifecycleDeps } from "./listeners/lifecycle.ts";
import { registerUnknownPayloads } from "./listeners/unknown.ts";
import type { SlackMessageStore } from "./message-store.ts";
import { createBotUserScope, NoInstallationError, type OAuthInstalls } from "./oauth/index.ts";
import { type SlackOutput, toBoltLogger } from "./output.ts";
import { createIntakeReceiver, type IntakeReceiver } from "./receiver.ts";
import { callAtStart, refusedToken, SlackAppTokenError, SlackAuthError } from "./start-calls.ts";
import { meteredFetch } from "./telemetry.ts";
import type { ThreadPresenter } from "./thread-presenter.ts";

/**
 * The Bolt app: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP, where the process's HTTP
 * server hands `POST /slack/events` (events, commands and interactivity) to `receiver.handleHttp`.
 */
export interface SlackAppOptions {
  config: Config;
  drafting: DraftingService;
  output: SlackOutput;
  /** The store: what the Slack layer remembers of its messages, and who opened the Home tab. */
  messages: SlackMessageStore & HomeViewers;
  logger: Logger;
  clock: Clock;
  /** Web API retries of the listeners' client; tests make them short so a failing fake does not look like a hang. */
  retryConfig?: RetryOptions;
  /** OAuth mode: each delivery is authorized with its workspace's installation (no bot token of our own). */
  oauth?: Pick<OAuthInstalls, "authorize" | "uninstall" | "installerOf"> | undefined;
  /** How the start-up's calls to Slack (auth.test, apps.connections.open) are tried again (default: once). */
  retryAtStart?: RetryAtStart;
}

export interface SlackApp {
  app: App;
  presenter: ThreadPresenter;
  receiver: IntakeReceiver;
  botUserId: string;
  teamId: string | undefined;
  /** Socket Mode: connects. HTTP: nothing to do (the HTTP server routes to the receiver). */
  start(): Promise<void>;
  /** Stops receiving, lets answered deliveries and their follow-up work finish, flushes status edits. */
  stop(): Promise<void>;
  /** Resolves when no delivery or follow-up work is pending (tests). */
  idle(): Promise<void>;
  busy(): boolean;
}

export async function createSlackApp(options: SlackAppOptions): Promise<SlackApp> {
  const { config, logger } = options;
  const boltLogger = toBoltLogger(logger.child({ component: "bolt" }), config.logLevel);
  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    logger: boltLogger,
    fetch: meteredFetch(options.output.telemetry),
    ...(options.retryConfig ? { retryConfig: options.retryConfig } : {}),
  };

  const { oauth } = options;
  const retryAtStart = options.retryAtStart ?? tryOnce;
  // Who we are (our user id strips our own mentions); a bad token stops the start here. In OAuth mode
  // each workspace has its own bot user, known per delivery.
  const starting = { clientOptions, logger, retryAtStart };
  const identity = oauth
    ? { userId: "", botId: undefined, teamId: undefined }
    : await callAtStart(
        config,
        starting,
        config.slack.botToken,
        "auth.test",
        async (client) => {
          const auth = await client.auth.test();
          if (!auth.user_id) throw new Error("auth.test answered without a user id");
          return { userId: auth.user_id, botId: auth.bot_id, teamId: auth.team_id };
        },
        (code) => new SlackAuthError(code),
      );
  const botUser = oauth ? createBotUserScope() : undefined;

  const receiver = createIntakeReceiver({
    logger: logger.child({ component: "intake" }),
    signingSecret: config.slack.mode === "http" ? config.slack.signingSecret : undefined,
    appToken: config.slack.mode === "socket" ? config.slack.appToken : undefined,
    slackApiUrl: config.slack.apiUrl,
  });
  const app = new App({
    receiver,
    ...(oauth
      ? { authorize: oauth.authorize }
      : { token: config.slack.botToken, botId: identity.botId, botUserId: identity.userId }),
    logger: boltLogger,
    clientOptions,
  });
  if (botUser) app.use(botUser.middleware);

  const background = createBackground(logger.child({ component: "slack" }));
  const { presenter, names, poster } = options.output;
  // The App Home: published on open, and again when a draft of its viewer changes.
  const home = createHomeTab({
    drafting: options.drafting,
    viewers: options.messages,
    clients: options.output.clients,
    clock: options.clock,
    logger: logger.child({ component: "home" }),
    installerOf: oauth?.installerOf,
  });
  options.output.onThreadChanged(home.threadChanged);
  const deps: ListenerDeps & LifecycleDeps = {
    drafting: options.drafting,
    messages: options.messages,
    poster,
    names,
    home,
    logger: logger.child({ component: "slack" }),
    telemetry: options.output.telemetry,
    get botUserId() {
      return botUser ? botUser.current() : identity.userId;
    },
    allowedChannelIds: config.allowedChannelIds,
    later: background.run,
    uninstall: oauth?.uninstall,
  };
  registerUnknownPayloads(app, deps);
  registerListeners(app, deps);
  app.error(async (error) => {
    const original = (error as { original?: unknown }).original ?? error;
    if (original instanceof NoInstallationError) {
      // Not installed (or just uninstalled) there: answered, since delivering it again changes nothing.
      logger.warn({ err: original.message }, "slack.no_installation");
      return;
    }
    logger.error(
      { err: original instanceof Error ? original.message : String(original), code: error.code },
      "slack.listener_error",
    );
    // The receiver decides what Slack hears: before the answer, a failure makes Slack deliver again.
    throw original;
  });

  return {
    app,
    presenter,
    receiver,
    botUserId: identity.userId,
    teamId: identity.teamId,
    async start() {
      if (config.slack.mode === "socket") {
        // Tried here first: the Socket Mode client takes some refusals of the app token (not_allowed_token_type)
        // for passing trouble and tries them again for ever.
        await callAtStart(
          config,
          starting,
          config.slack.appToken,
          "apps.connections.open",
          (client) => client.apps.connections.open({}),
          (code) => new SlackAppTokenError(code),
        );
        try {
          await app.start();
        } catch (error) {
          const code = refusedToken(error);
          throw code ? new SlackAppTokenError(code) : error;
        }
      }
      logger.info({ mode: config.slack.mode, botUserId: identity.userId }, "slack.started");
    },
    async stop() {
      if (config.slack.mode === "socket") await app.stop();
      await receiver.idle();
      await background.idle();
      await home.close();
      await presenter.close();
    },
    async idle() {
      await receiver.idle();
      await background.idle();
      await home.idle();
    },
    busy() {
      return receiver.inFlight > 0 || background.size > 0;
    },
  };
}
