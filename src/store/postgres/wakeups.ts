/**
 * Wake-ups between replicas over LISTEN/NOTIFY. `wake` notifies through the pool; the first `onWake`
 * opens one dedicated connection that LISTENs, so every replica (this one too) hears every wake-up.
 * When that connection drops, it is opened again with growing pauses. Wake-ups sent while it was down
 * are lost: the engine's periodic sweep for threads nobody drives is the safety net for those.
 */
import type pg from "pg";
import { createListenerClient, type StoreLogger, scrub } from "./pool.ts";
import { QUERIES, run } from "./queries.ts";

export const WAKE_CHANNEL = "puffle_drafter_wake";

export interface WakeChannelOptions {
  pool: pg.Pool;
  url: string;
  logger: StoreLogger;
  /** Pause before the first reconnection attempt, doubled after each failure up to `maxRetryMs`. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /**
   * How often the listening connection is checked with a query (default 30 s), which fails when no
   * answer comes within this time too (at most 10 s). A connection that died without a word (a network
   * partition) would otherwise look alive for many minutes.
   */
  heartbeatMs?: number;
}

export interface WakeChannel {
  wake(threadId: number): Promise<void>;
  onWake(listener: (threadId: number) => void): () => void;
  /** Resolves once the connection LISTENs (opening it if nothing did yet). */
  listening(): Promise<void>;
  close(): Promise<void>;
}

type State = "idle" | "connecting" | "listening" | "waiting" | "closed";

export function createWakeChannel(options: WakeChannelOptions): WakeChannel {
  const { pool, url, logger } = options;
  const minRetryMs = options.minRetryMs ?? 100;
  const maxRetryMs = options.maxRetryMs ?? 5_000;
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const listeners = new Set<(threadId: number) => void>();
  let state: State = "idle";
  let client: pg.Client | undefined;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Settles when the current connection attempt has succeeded or failed. */
  let attempt: Promise<void> = Promise.resolve();
  let waiters: (() => void)[] = [];

  function deliver(message: pg.Notification) {
    if (message.channel !== WAKE_CHANNEL) return;
    const threadId = Number(message.payload);
    if (!Number.isSafeInteger(threadId)) return;
    for (const listener of [...listeners]) {
      try {
        listener(threadId);
      } catch (error) {
        logger.warn({ threadId, err: describe(error) }, "store.wake_listener_failed");
      }
    }
  }

  function describe(error: unknown): string {
    const text =
      error instanceof Error ? error.message || String((error as { code?: unknown }).code) : String(error);
    return scrub(text, url);
  }

  function connect() {
    state = "connecting";
    const next = createListenerClient(url, Math.min(10_000, heartbeatMs));
    client = next;
    next.on("notification", deliver);
    next.on("error", (error) => lost(next, error));
    next.on("end", () => lost(next, new Error("connection ended")));
    attempt = (async () => {
      try {
        await next.connect();
        await next.query(`LISTEN ${WAKE_CHANNEL}`);
      } catch (error) {
        lost(next, error);
        return;
      }
      if (client !== next) return; // closed, or lost, meanwhile
      state = "listening";
      beat(next);
      if (failures > 0) logger.info({ after: failures }, "store.listener_restored");
      failures = 0;
      for (const resolve of waiters.splice(0)) resolve();
    })();
  }

  function beat(which: pg.Client) {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = setInterval(() => {
      // The client's query_timeout fails a heartbeat that gets no answer.
      which.query("SELECT 1").catch((error: unknown) => lost(which, error));
    }, heartbeatMs);
    heartbeat.unref?.();
  }

  /** The connection failed or dropped: forget it and try again after a pause (once per connection). */
  function lost(which: pg.Client, error: unknown) {
    if (which !== client) return;
    client = undefined;
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
    which.removeAllListeners("notification");
    which.on("error", () => {}); // late errors of a dropped connection are expected
    which.end().catch(() => {});
    if (state === "closed") return;
    const pause = Math.min(maxRetryMs, minRetryMs * 2 ** failures);
    failures++;
    logger.warn({ err: describe(error), retryInMs: pause }, "store.listener_lost");
    state = "waiting";
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (state === "waiting") connect();
    }, pause);
    retryTimer.unref?.();
  }

  function start() {
    if (state === "idle") connect();
  }

  return {
    async wake(threadId) {
      // A listener this store is still setting up must hear this wake-up too.
      if (state === "connecting") await attempt;
      await run(pool, QUERIES.wake, [WAKE_CHANNEL, String(threadId)]);
    },
    onWake(listener) {
      // A function subscribed twice is called twice, as with an EventEmitter.
      const own = (threadId: number) => listener(threadId);
      listeners.add(own);
      start();
      return () => {
        listeners.delete(own);
      };
    },
    listening() {
      if (state === "closed") return Promise.reject(new Error("the store is closed"));
      start();
      if (state === "listening") return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      state = "closed";
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      if (heartbeat !== undefined) clearInterval(heartbeat);
      retryTimer = undefined;
      heartbeat = undefined;
      listeners.clear();
      waiters = [];
      const last = client;
      client = undefined;
      if (last) {
        last.removeAllListeners("notification");
        last.on("error", () => {});
        // A connection cut off without a word never answers the goodbye: wait a little, not forever.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          last.end().catch(() => {}),
          new Promise((resolve) => {
            timer = setTimeout(resolve, 1_000);
          }),
        ]);
        clearTimeout(timer);
      }
    },
  };
}
