// The Puffle emulator: the API under /api, the Trigger.dev realtime run feed and streams under
// /realtime/v1 (so TRIGGER_API_URL = url), admin controls under /__admin, and a route list at /.
// Request pipeline: route -> stats -> auth (key -> workspace) -> budget -> body -> fault -> handler -> write.
import { EventEmitter, setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { createAdminHandler } from "./admin.ts";
import { createApiHandlers } from "./api.ts";
import { RequestBudget } from "./budget.ts";
import { directoryReply } from "./directory.ts";
import { createFaultAnswers, DROP, type Outcome, retryAfter } from "./fault-answers.ts";
import {
  bearerToken,
  errorReply,
  type Handler,
  HttpError,
  type Reply,
  type RequestContext,
  readBody,
  sendReply,
  writeReply,
} from "./http.ts";
import { type EmulatorOptions, keysFrom, settingsFrom, timingFrom } from "./options.ts";
import { createRealtimeFeed } from "./realtime.ts";
import { matchRoute, type RouteMatch, type RouteName } from "./routes.ts";
import { createRunTokens } from "./run-tokens.ts";
import { FaultControl } from "./scenarios.ts";
import { applySettings, type EmulatorSettings, type SettingsChange } from "./settings.ts";
import { EmulatorState } from "./state.ts";
import { createRequestStats, type EmulatorStats, type KeyStatsSnapshot } from "./stats.ts";
import { createStreamFeed } from "./stream-feed.ts";
import { createTaskRunner } from "./tasks.ts";
import { Workspaces } from "./workspaces.ts";

export { DEFAULT_API_KEY, type EmulatorOptions } from "./options.ts";
export type { EmulatorSettings } from "./settings.ts";
export type { EmulatorStats, KeyStats, KeyStatsSnapshot } from "./stats.ts";

/** Payload of the "request" event. status 0 = the connection was dropped without an answer. */
export interface RequestEvent {
  method: string;
  route: RouteName | "unknown";
  path: string;
  sessionId?: string;
  status: number;
}

export interface Emulator {
  /** "http://127.0.0.1:PORT": the Puffle base URL and the Trigger.dev base URL. */
  url: string;
  port: number;
  /** The default key: its workspace owns the seed user and `state.nodes`. */
  apiKey: string;
  state: EmulatorState;
  faults: FaultControl;
  /** "task.started" and "task.completed" (TaskEvent), "request" (RequestEvent). */
  events: EventEmitter;
  stats(): EmulatorStats;
  /** Per key label: requests, the most in any 60 s window, 429s from the budget; and the 429 total. */
  keyStats(): KeyStatsSnapshot;
  resetStats(): void;
  finishTask(sessionId: string): boolean;
  /** Accepts one more key (also POST /__admin/keys), a new empty workspace; returns its label. */
  addKey(key: string): string;
  /** Changes settings while running (also POST /__admin/config); answers all of them. */
  configure(change: SettingsChange): EmulatorSettings;
  /** Back to the seed data, with no faults, no running tasks, fresh stats and budgets (keys stay). */
  reset(): void;
  /** Closes the server, cancels timers and ends held long-polls and streams. */
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const keys = keysFrom(options);
  const apiKey = keys[0] ?? "";
  const host = options.host ?? "127.0.0.1";

  const state = new EmulatorState();
  const faults = new FaultControl();
  const events = new EventEmitter();
  const closing = new AbortController();
  // Every open request listens to it; many at once is normal, not a leak.
  setMaxListeners(0, closing.signal);
  const workspaces = new Workspaces(keys);
  const stats = createRequestStats();
  const tokens = createRunTokens();
  const settings = settingsFrom(options);
  const budget = new RequestBudget(() => settings.rateLimitPerMinute);
  const timing = timingFrom(options);
  const tasks = createTaskRunner({ state, faults, events, tokens, timing, settings });
  const feed = createRealtimeFeed({ state, tokens, holdMs: options.realtimeHoldMs ?? 20_000 });
  const streamFeed = createStreamFeed({ state, tokens, settings });
  const handlers: Record<RouteName, Handler> = {
    ...createApiHandlers({ state, faults, tasks }),
    "realtime.run": feed.run,
    "realtime.stream": streamFeed.serve,
  };
  const reset = () => {
    tasks.cancelAll();
    faults.clear();
    state.reset();
    stats.reset();
    budget.reset();
  };
  const configure = (change: SettingsChange) => applySettings(settings, change);
  const addKey = (key: string) => workspaces.add(key).label;
  const admin = createAdminHandler({
    state,
    faults,
    workspaces,
    stats: stats.snapshot,
    keyStats: stats.keySnapshot,
    reset,
    finishTask: tasks.finish,
    configure,
    addKey,
  });

  /** Waits `ms` unless the emulator closes first (then false: the connection is going away anyway). */
  const pause = (ms: number) =>
    sleep(ms, undefined, { signal: closing.signal }).then(
      () => true,
      () => false,
    );

  const answerWithFault = createFaultAnswers({ settings, pause });

  const runHandler = async (handler: Handler, ctx: RequestContext): Promise<Reply> => {
    try {
      return await handler(ctx);
    } catch (error) {
      if (error instanceof HttpError) return errorReply(error.status, error.message);
      throw error;
    }
  };

  const sessionIdOf = (match: RouteMatch | undefined): string | undefined => {
    if (match?.params.sessionId) return match.params.sessionId;
    return match?.params.runId ? state.runs.get(match.params.runId)?.sessionId : undefined;
  };

  const isApiPath = (url: URL) => /^\/api(\/|$)/.test(url.pathname);
  /** Index and admin requests are not Puffle traffic: no stats, no "request" events, no budget. */
  const isControlPath = (url: URL) => url.pathname === "/" || url.pathname.startsWith("/__admin/");

  const answer = async (
    req: IncomingMessage,
    url: URL,
    match: RouteMatch | undefined,
    signal: AbortSignal,
  ): Promise<Outcome> => {
    const method = req.method ?? "GET";
    const workspace = workspaces.find(bearerToken(req.headers));
    const context = async (params: Record<string, string>): Promise<RequestContext> => ({
      method,
      url,
      params,
      headers: req.headers,
      rawBody: await readBody(req),
      signal,
      ...(workspace && { workspace }),
    });
    if (url.pathname === "/" && method === "GET") return directoryReply(url);
    if (url.pathname.startsWith("/__admin/")) {
      return workspace ? admin(await context({})) : errorReply(401, "Missing or invalid API key");
    }
    const sessionId = sessionIdOf(match);
    if (match) stats.count(match.name, sessionId);
    if (isApiPath(url)) {
      if (!workspace) return errorReply(401, "Missing or invalid API key");
      const now = Date.now();
      stats.countKey(workspace.label, now);
      const decision = budget.take(workspace.id, now);
      if (!decision.allowed) {
        stats.countRateLimited(workspace.label);
        return errorReply(429, "rate limited", retryAfter(decision.retryAfterSeconds));
      }
    }
    if (!match) return errorReply(404, `Not found: ${method} ${url.pathname}`);
    const ctx = await context(match.params);
    const fault = faults.takeRequestFault(match.name, sessionId);
    const handler = handlers[match.name];
    return answerWithFault(fault, match.name, signal, (cut) =>
      runHandler(cut ? (c) => streamFeed.serve(c, cut) : handler, ctx),
    );
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const match = matchRoute(req.method ?? "GET", url.pathname);
    // Aborted when the client goes away or the emulator closes. Not AbortSignal.any: its composites can
    // pile up on the long-lived closing signal, and the bench sends many thousands of requests.
    const requestGone = new AbortController();
    const abort = () => requestGone.abort();
    closing.signal.addEventListener("abort", abort, { once: true });
    res.once("close", () => {
      closing.signal.removeEventListener("abort", abort);
      abort();
      if (isControlPath(url)) return;
      const status = res.headersSent ? res.statusCode : 0;
      const sessionId = sessionIdOf(match);
      const event: RequestEvent = {
        method: req.method ?? "GET",
        route: match?.name ?? "unknown",
        path: url.pathname,
        ...(sessionId && { sessionId }),
        status,
      };
      events.emit("request", event);
      options.log?.(
        `${event.method} ${event.path} -> ${status || "dropped"} (${Math.round(performance.now() - started)} ms)`,
      );
    });
    try {
      const outcome = await answer(req, url, match, requestGone.signal);
      if (outcome === DROP) req.socket.destroy();
      else await sendReply(res, outcome, requestGone.signal);
    } catch (error) {
      const reply =
        error instanceof HttpError
          ? errorReply(error.status, error.message)
          : errorReply(500, `Emulator error: ${error instanceof Error ? error.message : String(error)}`);
      writeReply(res, reply);
    }
  };

  const server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("emulator: server has no TCP address");

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost(host)}:${address.port}`,
    port: address.port,
    apiKey,
    state,
    faults,
    events,
    stats: stats.snapshot,
    keyStats: stats.keySnapshot,
    resetStats: stats.reset,
    finishTask: tasks.finish,
    addKey,
    configure,
    reset,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        tasks.cancelAll();
        server.close(() => resolve());
        // Held long-polls, open streams and keep-alive sockets would otherwise keep close() waiting.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** A wildcard bind address is reached through loopback; an IPv6 literal needs brackets in a URL. */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
