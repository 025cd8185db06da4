import { Agent, type Dispatcher, request } from "undici";
import type { z } from "zod";
import { AbortedError, type Clock, linkSignals, sleep, systemClock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { RequestBudget } from "./budget.ts";
import {
  BadResponseError,
  ConnectionError,
  errorForStatus,
  isPuffleError,
  RateLimitedError,
  serverMessageOf,
  TimeoutError,
} from "./errors.ts";
import {
  backoffDelay,
  type CallKind,
  DEFAULT_RETRY,
  decideRetry,
  parseRetryAfter,
  type RetryOptions,
} from "./retry.ts";
import { describeIssues } from "./schemas.ts";

/**
 * One Puffle call over HTTP, end to end: the request budget's slot, the attempt with its deadline, the
 * answer read (bounded) and checked against its schema, and the retry policy. The endpoints are in
 * client.ts.
 */

export interface CallOptions {
  /** Aborts the call (and its retries) from outside, e.g. on shutdown. */
  signal?: AbortSignal;
  /** Per-attempt deadline; defaults to the client's read or write timeout. */
  timeoutMs?: number;
  /**
   * A read of a running task: how likely it is to find the task finished (higher first). Under the
   * request budget such reads wait behind dispatches and the calls a person waits on.
   */
  likelihood?: () => number;
}
export interface TransportOptions {
  baseUrl: string;
  apiKey: string;
  logger: Logger;
  /** A pooled dispatcher; one is created (and closed by `close()`) when not given. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  retry?: Partial<RetryOptions>;
  /** Per-attempt deadline for reads and other idempotent calls. */
  readTimeoutMs?: number;
  /** Per-attempt deadline for calls that start work (/turn, /generate-examples). */
  dispatchTimeoutMs?: number;
  userAgent?: string;
  /** The key's share of the Puffle request budget; every attempt waits for a slot. */
  budget?: RequestBudget;
  /** Every answer (or failure to get one): the endpoint and the HTTP status, "timeout" or "connection". */
  onResponse?: (endpoint: Endpoint, status: string) => void;
}

/** Largest answer we read; a session with a long history stays far below this. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

/** Error codes that mean the request never left this machine. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "EHOSTUNREACH",
]);

/** 429s in a row one call sits through (each pausing the key) before it gives up. */
const MAX_RATE_LIMITED = 30;
/** A name for each kind of call, without ids: safe as a metrics label. */
export type Endpoint =
  | "sessions.create"
  | "sessions.list"
  | "sessions.get"
  | "sessions.patch"
  | "sessions.delete"
  | "sessions.turn"
  | "sessions.examples"
  | "campaigns.list"
  | "campaigns.get"
  | "campaigns.leads"
  | "campaigns.node";
export interface Call<T> {
  endpoint: Endpoint;
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  kind: CallKind;
  schema: z.ZodType<T>;
  options: CallOptions | undefined;
}
export function createTransport(options: TransportOptions) {
  const clock = options.clock ?? systemClock;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const readTimeoutMs = options.readTimeoutMs ?? 15_000;
  const dispatchTimeoutMs = options.dispatchTimeoutMs ?? 30_000;
  const ownsDispatcher = !options.dispatcher;
  const dispatcher =
    options.dispatcher ??
    new Agent({ connections: 64, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 });
  const base = options.baseUrl.replace(/\/+$/, "");
  const log = options.logger;

  const headers = (hasBody: boolean): Record<string, string> => ({
    authorization: `Bearer ${options.apiKey}`,
    accept: "application/json",
    "user-agent": options.userAgent ?? "puffle-drafter",
    ...(hasBody ? { "content-type": "application/json" } : {}),
  });

  async function attempt<T>(call: Call<T>, timeoutMs: number): Promise<T> {
    const url = new URL(base + call.path);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const where = { method: call.method, path: call.path };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const linked = call.options?.signal ? linkSignals(call.options.signal, deadline.signal) : undefined;
    const signal = linked?.signal ?? deadline.signal;
    const started = performance.now();
    try {
      const response = await request(url, {
        method: call.method,
        headers: headers(call.body !== undefined),
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        dispatcher,
        signal,
      });
      const raw = await readBody(response.body, { ...where, status: response.statusCode });
      options.onResponse?.(call.endpoint, String(response.statusCode));
      log.debug(
        { ...where, status: response.statusCode, ms: Math.round(performance.now() - started) },
        "puffle.response",
      );
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw errorForStatus(response.statusCode, {
          ...where,
          status: response.statusCode,
          serverMessage: serverMessageOf(raw),
          rawBody: raw,
          retryAfterMs: parseRetryAfter(response.headers["retry-after"], clock.now()),
        });
      }
      return parse(call.schema, raw, { ...where, status: response.statusCode });
    } catch (error) {
      if (isPuffleError(error)) throw error;
      if (call.options?.signal?.aborted) throw new AbortedError(call.options.signal.reason);
      if (deadline.signal.aborted) {
        options.onResponse?.(call.endpoint, "timeout");
        throw new TimeoutError({ ...where, timeoutMs, cause: error });
      }
      options.onResponse?.(call.endpoint, "connection");
      const code = (error as { code?: string }).code ?? "";
      throw new ConnectionError({ ...where, notSent: NOT_SENT_CODES.has(code), cause: error });
    } finally {
      clearTimeout(timer);
      linked?.dispose();
    }
  }

  async function run<T>(call: Call<T>): Promise<T> {
    const timeoutMs =
      call.options?.timeoutMs ?? (call.kind === "dispatch" ? dispatchTimeoutMs : readTimeoutMs);
    const budget = options.budget;
    let rateLimited = 0;
    for (let attemptNo = 1; ; attemptNo++) {
      try {
        // The budget wait comes before the attempt's own deadline starts.
        await budget?.take({
          likelihood: call.options?.likelihood,
          startsDraft: call.endpoint === "sessions.create",
          signal: call.options?.signal,
        });
        return await attempt(call, timeoutMs);
      } catch (error) {
        if (!isPuffleError(error)) throw error;
        if (budget && error instanceof RateLimitedError) {
          // Over the key's real limit: the whole key waits (every replica), and this call goes again
          // through the budget. A 429 is not a failed attempt; only an endless storm gives up.
          rateLimited++;
          const waitMs = error.retryAfterMs ?? backoffDelay(rateLimited, retry);
          if (waitMs > retry.maxRetryAfterMs || rateLimited > MAX_RATE_LIMITED) throw error;
          await budget.pause(clock.now() + waitMs);
          log.warn({ ...error.toLog(), rateLimited, waitMs }, "puffle.rate_limited");
          attemptNo--;
          continue;
        }
        const decision = decideRetry(call.kind, error, attemptNo, retry);
        if (!decision.retry) throw error;
        log.warn(
          { ...error.toLog(), attempt: attemptNo, delayMs: decision.delayMs, reason: decision.reason },
          "puffle.retry",
        );
        await sleep(clock, decision.delayMs, call.options?.signal);
      }
    }
  }

  return {
    run,
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

async function readBody(
  body: Dispatcher.ResponseData["body"],
  where: { method: string; path: string; status: number },
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new BadResponseError({
        ...where,
        problems: [`the answer is larger than ${MAX_BODY_BYTES} bytes`],
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parse<T>(
  schema: z.ZodType<T>,
  raw: string,
  where: { method: string; path: string; status: number },
): T {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new BadResponseError({ ...where, rawBody: raw, problems: ["the answer is not JSON"] });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new BadResponseError({ ...where, rawBody: raw, problems: describeIssues(result.error) });
  }
  return result.data;
}
