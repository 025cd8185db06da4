import type { NewThread } from "../../drafting/store.ts";
import type { Store } from "../index.ts";
import { postgresDraftRecords } from "./drafting.ts";
import { postgresLeases } from "./leases.ts";
import { migrate } from "./migrations.ts";
import { createPool, openingError, type StoreLogger, scrub, stderrLogger } from "./pool.ts";
import { postgresSlackMessages } from "./slack-messages.ts";
import { createWakeChannel } from "./wakeups.ts";
import { postgresWorkspaceRecords } from "./workspace-records.ts";

/**
 * The shared store: one PostgreSQL database for any number of replicas, migrated on open (safely
 * when several replicas start at once). Wake-ups travel by LISTEN/NOTIFY.
 */
export interface PostgresStore extends Store {
  readonly kind: "postgres";
  /** Resolves once this store LISTENs for wake-ups (opening the connection if nothing did yet). */
  listening(): Promise<void>;
}

export interface PostgresStoreOptions {
  /** postgres:// or postgresql://; it may hold a password, so it is never logged or shown. */
  url: string;
  /** Connections in the pool (default 10); the wake-up listener has one more of its own. */
  poolSize?: number;
  /**
   * Where connection trouble is reported (a dropped connection, the wake-up listener lost and
   * restored). Without one (openStore passes none), one JSON line per event goes to stderr.
   */
  logger?: StoreLogger;
  /**
   * The wake-up connection: pauses between attempts to reopen it when it dropped (default 100 ms,
   * doubling up to 5 s), and how often it is checked (default every 30 s).
   */
  listener?: { minRetryMs?: number; maxRetryMs?: number; heartbeatMs?: number };
}

export const DEFAULT_POOL_SIZE = 10;

export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { url } = options;
  const logger = options.logger ?? stderrLogger;
  const pool = createPool(url, options.poolSize ?? DEFAULT_POOL_SIZE);
  // An idle pooled connection that drops is replaced on next use; without a handler it would crash us.
  pool.on("error", (error) => logger.warn({ err: scrub(error.message, url) }, "store.connection_lost"));
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw openingError(error, url);
  }

  const { insertThreads, ...records } = postgresDraftRecords(pool);
  const wakeups = createWakeChannel({
    pool,
    url,
    logger,
    ...options.listener,
  });
  let closing: Promise<void> | undefined;

  return {
    kind: "postgres",
    ...records,
    ...postgresLeases(pool),
    ...postgresSlackMessages(pool),
    ...postgresWorkspaceRecords(pool),
    wake: (threadId) => wakeups.wake(threadId),
    onWake: (listener) => wakeups.onWake(listener),
    listening: () => wakeups.listening(),
    insertThreadsForBench: (threads: readonly NewThread[], now: number) => insertThreads(threads, now),
    close: () => {
      closing ??= (async () => {
        await wakeups.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
