// The Puffle emulator: the API under /api, the Trigger.dev realtime run feed under /realtime/v1 (so
// TRIGGER_API_URL = url), and admin controls under /__admin. Request pipeline: route -> stats -> auth ->
// body -> fault -> handler -> write.
import { EventEmitter, setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { createAdminHandler } from "./admin.ts";
import { createApiHandlers } from "./api.ts";
import { createFaultAnswers, DROP, type Outcome } from "./fault-answers.ts";
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
import { createRealtimeFeed } from "./realtime.ts";
import { matchRoute, type RouteMatch, type RouteName } from "./routes.ts";
import { createRunTokens } from "./run-tokens.ts";
import { FaultControl } from "./scenarios.ts";
import {
  applySettings,
  type ChunkShape,
  DEFAULT_SETTINGS,
  type EmulatorSettings,
  type SettingsChange,
  type StreamVersion,
} from "./settings.ts";
import { EmulatorState } from "./state.ts";
import { createStreamFeed } from "./stream-feed.ts";
import { createTaskRunner, type TaskTiming } from "./tasks.ts";

export const DEFAULT_API_KEY = "pk_test_emulator_key";

export interface EmulatorOptions {
  /** 0 = a random free port (default). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Default "pk_test_emulator_key". */
  apiKey?: string;
  /** How long a chat turn task takes. Default 1500. */
  taskDelayMs?: number;
  /** A random extra per turn, uniform in [0, taskJitterMs). Default 0 (every turn takes taskDelayMs). */
  taskJitterMs?: number;
  /** Seed for the jitter, so a run can be repeated. Default 1. */
  seed?: number;
  /** How long an examples task takes. Default 2500. */
  examplesDelayMs?: number;
  /** Added to examplesDelayMs for each lead sent. Default 0. */
  examplesPerLeadMs?: number;
  /** How long a live long-poll is held with no change. Default 20000 (tests use ~1000). */
  realtimeHoldMs?: number;
  /** A run goes PENDING -> EXECUTING after this. Default min(50, taskDelayMs / 4). */
  executingAfterMs?: number;
  /** Chat turn runs write their reply word by word to a realtime stream. Default true. */
  streams?: boolean;
  /** The reply stream's key in the run's realtimeStreams. Default "reply". */
  streamKey?: string;
  /** Stream framing (X-Stream-Version). Default "v2"; emu.configure() changes it at run time. */
  streamVersion?: StreamVersion;
  /** Shape of the word chunks: "text-delta" (default), "string", "delta", "text" or "mixed". */
  chunkShape?: ChunkShape;
  /** Mix tool-call and finish chunks (no text) into reply streams. Default false. */
  nonTextChunks?: boolean;
  /** Request log, one line per answered request. Default silent. */
  log?: (line: string) => void;
}

/** Payload of the "request" event. status 0 = the connection was dropped without an answer. */
export interface RequestEvent {
  method: string;
  route: RouteName | "unknown";
  path: string;
  sessionId?: string;
  status: number;
}

export interface EmulatorStats {
  requests: Record<string, number>;
  getsBySession: Record<string, number>;
}

export interface Emulator {
  /** "http://127.0.0.1:PORT": the Puffle base URL and the Trigger.dev base URL. */
  url: string;
  port: number;
  apiKey: string;
  state: EmulatorState;
  faults: FaultControl;
  /** "task.started" and "task.completed" (TaskEvent), "request" (RequestEvent). */
  events: EventEmitter;
  stats(): EmulatorStats;
  resetStats(): void;
  finishTask(sessionId: string): boolean;
  /** Changes settings while running (also POST /__admin/config); answers all of them. */
  configure(change: SettingsChange): EmulatorSettings;
  /** Back to the seed data, with no faults, no running tasks and fresh stats. */
  reset(): void;
  /** Closes the server, cancels timers and ends held long-polls. */
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const host = options.host ?? "127.0.0.1";
  const taskDelayMs = options.taskDelayMs ?? 1500;
  const timing: TaskTiming = {
    taskDelayMs,
    taskJitterMs: options.taskJitterMs ?? 0,
    random: seededRandom(options.seed ?? 1),
    examplesDelayMs: options.examplesDelayMs ?? 2500,
    examplesPerLeadMs: options.examplesPerLeadMs ?? 0,
    executingAfterMs: options.executingAfterMs ?? Math.min(50, taskDelayMs / 4),
  };

  const state = new EmulatorState();
  const faults = new FaultControl();
  const events = new EventEmitter();
  const closing = new AbortController();
  // Every open request listens to it; many at once is normal, not a leak.
  setMaxListeners(0, closing.signal);
  const stats = createRequestStats();
  const tokens = createRunTokens();
  const settings: EmulatorSettings = { ...DEFAULT_SETTINGS, ...definedSettings(options) };
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
  };
  const configure = (change: SettingsChange) => applySettings(settings, change);
  const admin = createAdminHandler({
    state,
    faults,
    stats: stats.snapshot,
    reset,
    finishTask: tasks.finish,
    configure,
  });

  const hasApiKey = (req: IncomingMessage) => bearerToken(req.headers) === apiKey;

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

  const answer = async (
    req: IncomingMessage,
    url: URL,
    match: RouteMatch | undefined,
    signal: AbortSignal,
  ): Promise<Outcome> => {
    const method = req.method ?? "GET";
    const context = async (params: Record<string, string>): Promise<RequestContext> => ({
      method,
      url,
      params,
      headers: req.headers,
      rawBody: await readBody(req),
      signal,
    });
    if (url.pathname.startsWith("/__admin/")) {
      return hasApiKey(req) ? admin(await context({})) : errorReply(401, "Missing or invalid API key");
    }
    const sessionId = sessionIdOf(match);
    if (match) stats.count(match.name, sessionId);
    if (/^\/api(\/|$)/.test(url.pathname) && !hasApiKey(req))
      return errorReply(401, "Missing or invalid API key");
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
      if (url.pathname.startsWith("/__admin/")) return;
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
    resetStats: stats.reset,
    finishTask: tasks.finish,
    configure,
    reset,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        tasks.cancelAll();
        server.close(() => resolve());
        // Held long-polls and keep-alive sockets would otherwise keep close() waiting.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function createRequestStats() {
  let requests: Record<string, number> = {};
  let getsBySession: Record<string, number> = {};
  return {
    count(route: RouteName, sessionId: string | undefined) {
      requests[route] = (requests[route] ?? 0) + 1;
      if (route === "sessions.get" && sessionId)
        getsBySession[sessionId] = (getsBySession[sessionId] ?? 0) + 1;
    },
    snapshot(): EmulatorStats {
      return { requests: { ...requests }, getsBySession: { ...getsBySession } };
    },
    reset() {
      requests = {};
      getsBySession = {};
    },
  };
}

/** The settings among the options, without the ones left out (so the defaults stay). */
function definedSettings(options: EmulatorOptions): Partial<EmulatorSettings> {
  const { streams, streamKey, streamVersion, chunkShape, nonTextChunks } = options;
  const given = { streams, streamKey, streamVersion, chunkShape, nonTextChunks };
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
}

/** A wildcard bind address is reached through loopback; an IPv6 literal needs brackets in a URL. */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** mulberry32: a tiny seeded PRNG, so jittered task durations repeat from run to run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
