import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { RetryOptions } from "@slack/web-api";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { createSealer } from "./crypto.ts";
import { createPuffleAccounts, type PuffleAccounts } from "./drafting/accounts.ts";
import { createDraftingService, type DraftingService } from "./drafting/drafting-service.ts";
import { createTriggerRunSubscriber, createTriggerStreamReader } from "./drafting/realtime.ts";
import type { Logger } from "./logger.ts";
import { createHttpServer, type HttpServer } from "./ops/http-server.ts";
import { createMetrics } from "./ops/metrics.ts";
import { type RetryAtStart, tryOnce } from "./ops/start-retry.ts";
import { storeTarget } from "./ops/startup.ts";
import { createRequestBudget } from "./puffle/budget.ts";
import { createPuffleClient } from "./puffle/client.ts";
import { createSlackApp, type SlackApp } from "./slack/app.ts";
import { createOAuthInstalls, INSTALL_PATH, REDIRECT_PATH } from "./slack/oauth/index.ts";
import { createSlackOutput } from "./slack/output.ts";
import { openStore, type Store } from "./store/index.ts";

/**
 * The composition root: config -> store -> Puffle client -> Slack output -> drafting -> Slack app.
 * main.ts runs it for real; tests and the benchmark run the same thing against local fakes.
 */
export interface Bot {
  config: Config;
  store: Store;
  /** The Puffle account of each workspace. */
  accounts: PuffleAccounts;
  drafting: DraftingService;
  slack: SlackApp;
  http: HttpServer;
  /** The HTTP port the process listens on (Slack's requests in HTTP mode, health checks in both). */
  port: number;
  /** This process's name among replicas (in leases and logs). */
  replicaId: string;
  /** Resolves when no delivery, turn or Slack write is in progress (tests). */
  idle(): Promise<void>;
  /** Graceful stop: no new events, loops stopped and threads handed over (turns stay in the store). */
  stop(): Promise<void>;
}

export interface BotOptions {
  logger: Logger;
  clock?: Clock;
  /** Slack Web API retries of the listeners' client (tests: short). */
  slackRetryConfig?: RetryOptions;
  minEditIntervalMs?: number;
  /** Puffle retry timing (tests: short). */
  puffleRetry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** "fixed": the plain 2-second poller the benchmark uses as its baseline. */
  pollMode?: "learned" | "fixed";
  /** The process's HTTP server when the caller started it already (main.ts, to answer /healthz at once). */
  http?: HttpServer;
  /** Overrides the generated replica name (tests). */
  replicaId?: string;
  /** How an unreachable store or Slack is tried again at start (main.ts: for at most 30 s); default once. */
  retryAtStart?: RetryAtStart;
}

/** host:pid:random, unique among replicas, readable in logs. */
function newReplicaId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

export async function startBot(config: Config, options: BotOptions): Promise<Bot> {
  const clock = options.clock ?? systemClock;
  const replicaId = options.replicaId ?? newReplicaId();
  const logger = options.logger.child({ replica: replicaId });
  const http = options.http ?? createHttpServer({ logger: logger.child({ component: "http" }) });
  if (config.slack.mode === "http") http.expect("/slack/events");
  if (config.slack.oauth) http.expect(INSTALL_PATH, REDIRECT_PATH);
  const port = http.port ?? (await http.listen(config.port));
  logger.info({ port }, "http.listening");
  const retryAtStart = options.retryAtStart ?? tryOnce;
  let store: Store;
  try {
    store = await retryAtStart(
      storeTarget(config.databaseUrl),
      () => openStore(config.databaseUrl, { logger: logger.child({ component: "store" }) }),
      (late) => void late.close().catch(() => {}),
    );
  } catch (error) {
    if (!options.http) await http.close();
    throw error;
  }
  const metrics = config.metrics ? createMetrics() : undefined;
  const sealer = config.encryption ? createSealer(config.encryption) : undefined;
  const accounts = createPuffleAccounts({
    workspaces: store,
    sealer,
    defaultKey: config.puffle.apiKey,
    clientFor: (apiKey, keyId) => {
      const keyLogger = logger.child({ component: "puffle", keyId });
      return createPuffleClient({
        baseUrl: config.puffle.apiUrl,
        apiKey,
        logger: keyLogger,
        clock,
        budget: createRequestBudget({
          store,
          keyId,
          maxRpm: config.puffle.maxRpm,
          clock,
          logger: keyLogger,
          ...(metrics ? { onWait: metrics.budgetWait, onPause: metrics.budgetPaused } : {}),
        }),
        ...(metrics ? { onResponse: metrics.puffleRequest } : {}),
        ...(options.puffleRetry ? { retry: options.puffleRetry } : {}),
      });
    },
    clock,
    logger: logger.child({ component: "accounts" }),
  });
  // OAuth mode (SPEC 8): installations live in the store; every workspace has its own bot token.
  const oauth =
    config.slack.oauth && sealer
      ? createOAuthInstalls({
          oauth: config.slack.oauth,
          slackApiUrl: config.slack.apiUrl,
          store,
          sealer,
          replicaId,
          clock,
          logger,
          logLevel: config.logLevel,
        })
      : undefined;
  const output = createSlackOutput({
    config,
    logger,
    clock,
    messages: store,
    minEditIntervalMs: options.minEditIntervalMs,
    telemetry: metrics,
    tokenFor: oauth?.tokenFor,
  });
  const drafting = createDraftingService({
    store,
    accounts,
    clock,
    logger,
    emit: output.presenter.handle,
    pollIntervalMs: config.pollIntervalMs,
    turnTimeoutMs: config.turnTimeoutMs,
    subscriber: config.triggerApiUrl
      ? createTriggerRunSubscriber({
          baseUrl: config.triggerApiUrl,
          logger: logger.child({ component: "realtime" }),
        })
      : undefined,
    streams: config.triggerApiUrl ? createTriggerStreamReader({ baseUrl: config.triggerApiUrl }) : undefined,
    defaultStep: config.puffle.defaultStep,
    pollMode: options.pollMode ?? "learned",
    replicaId,
    leaseTtlMs: config.leaseTtlMs,
    ...(metrics ? { telemetry: metrics } : {}),
  });
  if (metrics) {
    metrics.watch({
      queuedTurns: () => store.countPendingTurns(),
      activeThreads: () => drafting.activeThreads(),
    });
    http.route("GET", "/metrics", async (_req, res) => {
      const body = await metrics.render();
      res.writeHead(200, { "content-type": metrics.contentType });
      res.end(body);
    });
  }
  let slack: SlackApp;
  try {
    slack = await createSlackApp({
      config,
      drafting,
      output,
      messages: store,
      logger,
      clock,
      ...(options.slackRetryConfig ? { retryConfig: options.slackRetryConfig } : {}),
      oauth,
      retryAtStart,
    });
  } catch (error) {
    await accounts.close();
    await store.close();
    if (!options.http) await http.close();
    throw error;
  }
  if (config.slack.mode === "http") http.route("POST", "/slack/events", slack.receiver.handleHttp);
  if (oauth) {
    http.route("GET", INSTALL_PATH, oauth.pages.install);
    http.route("GET", REDIRECT_PATH, oauth.pages.redirect);
  }
  try {
    await slack.start();
  } catch (error) {
    await accounts.close();
    await store.close();
    if (!options.http) await http.close();
    throw error;
  }
  const taken = await drafting.start();
  if (taken > 0) logger.info({ threads: taken }, "turns.resumed");
  http.setReadiness(async () => {
    await store.getThreadById(0);
    return true;
  });
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
    accounts,
    drafting,
    slack,
    http,
    port,
    replicaId,
    async idle() {
      // Each step can start work in the next: loop until all are quiet at once.
      for (let round = 0; round < 50; round++) {
        await slack.idle();
        await drafting.idle();
        await output.presenter.idle();
        if (!drafting.busy() && !slack.busy()) return;
      }
    },
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
        await output.presenter.close();
        await accounts.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
