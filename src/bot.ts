import type { RetryOptions } from "@slack/web-api";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { createDraftingService, type DraftingService } from "./drafting/drafting-service.ts";
import type { OutcomeSink } from "./drafting/outcomes.ts";
import { createTriggerRunSubscriber } from "./drafting/realtime.ts";
import { openStore } from "./drafting/sqlite-store.ts";
import type { DraftStore } from "./drafting/store.ts";
import type { Logger } from "./logger.ts";
import { createHttpServer, type HttpServer } from "./ops/http-server.ts";
import { createPuffleClient, type PuffleClient } from "./puffle/client.ts";
import { createSlackApp, type SlackApp } from "./slack/app.ts";

/**
 * The composition root: config -> store -> Puffle client -> drafting -> Slack app. main.ts
 * runs it for real; tests and the benchmark run the same thing against local fakes.
 */
export interface Bot {
  config: Config;
  store: DraftStore;
  puffle: PuffleClient;
  drafting: DraftingService;
  slack: SlackApp;
  http: HttpServer;
  /** The HTTP port the process listens on (Slack's requests in HTTP mode, health checks in both). */
  port: number;
  /** Graceful stop: no new events, loops stopped (turns stay in the store), everything closed. */
  stop(): Promise<void>;
}

export interface BotOptions {
  logger: Logger;
  clock?: Clock;
  /** Slack Web API retries (tests: short). */
  slackRetryConfig?: RetryOptions;
  minEditIntervalMs?: number;
  /** Puffle retry timing (tests: short). */
  puffleRetry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** "fixed": the plain 2-second poller the benchmark uses as its baseline. */
  pollMode?: "learned" | "fixed";
  /** The process's HTTP server when the caller started it already (main.ts, to answer /healthz at once). */
  http?: HttpServer;
}

export async function startBot(config: Config, options: BotOptions): Promise<Bot> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const http = options.http ?? createHttpServer({ logger: logger.child({ component: "http" }) });
  if (config.slack.mode === "http") http.expect("/slack/events");
  const port = http.port ?? (await http.listen(config.port));
  let store: DraftStore;
  try {
    store = await openStore(config.databaseUrl);
  } catch (error) {
    if (!options.http) await http.close();
    throw error;
  }
  const puffle = createPuffleClient({
    baseUrl: config.puffle.apiUrl,
    apiKey: config.puffle.apiKey,
    logger: logger.child({ component: "puffle" }),
    clock,
    ...(options.puffleRetry ? { retry: options.puffleRetry } : {}),
  });
  // The presenter needs the drafting service and the drafting service needs somewhere to send
  // outcomes: the sink is wired once both exist.
  let sink: OutcomeSink = () => {};
  const drafting = createDraftingService({
    store,
    puffle,
    clock,
    logger,
    emit: (outcome) => sink(outcome),
    pollIntervalMs: config.pollIntervalMs,
    turnTimeoutMs: config.turnTimeoutMs,
    subscriber: config.triggerApiUrl
      ? createTriggerRunSubscriber({
          baseUrl: config.triggerApiUrl,
          logger: logger.child({ component: "realtime" }),
        })
      : undefined,
    defaultStep: config.puffle.defaultStep,
    pollMode: options.pollMode ?? "learned",
  });
  let slack: SlackApp;
  try {
    slack = await createSlackApp({
      config,
      drafting,
      logger,
      clock,
      ...(options.slackRetryConfig ? { retryConfig: options.slackRetryConfig } : {}),
      ...(options.minEditIntervalMs === undefined ? {} : { minEditIntervalMs: options.minEditIntervalMs }),
    });
  } catch (error) {
    await puffle.close();
    await store.close();
    if (!options.http) await http.close();
    throw error;
  }
  sink = slack.presenter.handle;
  if (config.slack.mode === "http") http.route("POST", "/slack/events", slack.receiver.handleHttp);
  await slack.start();
  http.setReadiness(async () => {
    await store.getThreadById(0);
    return true;
  });
  const resumed = await drafting.resume();
  if (resumed > 0) logger.info({ threads: resumed }, "turns.resumed");
  const pruner = setInterval(
    () => {
      store.pruneDeliveries(clock.now()).catch((error: unknown) => {
        logger.warn({ err: (error as Error).message }, "store.prune_failed");
      });
    },
    60 * 60 * 1000,
  );
  pruner.unref();

  let stopping: Promise<void> | undefined;
  return {
    config,
    store,
    puffle,
    drafting,
    slack,
    http,
    port,
    stop() {
      stopping ??= (async () => {
        clearInterval(pruner);
        http.setReadiness(undefined);
        // No new deliveries; the ones being answered finish.
        await http.close();
        await slack
          .stop()
          .catch((error: unknown) => logger.warn({ err: (error as Error).message }, "slack.stop_failed"));
        await drafting.stop();
        await slack.presenter.close();
        await puffle.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
