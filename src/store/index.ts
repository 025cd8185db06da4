import type { DraftStore, NewThread } from "../drafting/store.ts";
import type { WorkspaceStore } from "../drafting/workspaces.ts";
import type { BudgetStore } from "../puffle/budget-store.ts";
import type { HomeViewers } from "../slack/home/viewers.ts";
import type { SlackMessageStore } from "../slack/message-store.ts";
import type { InstallationRecords, OAuthStates } from "../slack/oauth/records.ts";
import type { StoreLogger } from "./postgres/pool.ts";
import { describeTarget } from "./postgres/target.ts";
import { createSqliteStore } from "./sqlite/store.ts";

/**
 * Everything the bot keeps, in one database, behind the ports of the layers that need it: the drafting
 * store and workspaces (drafting), the message store, installations, install states and Home viewers
 * (Slack), and the request budget (Puffle). `DATABASE_URL` picks the kind: `sqlite:` (embedded, one
 * process per file) or `postgres://` / `postgresql://` (shared by any number of replicas).
 */
export interface Store
  extends DraftStore,
    WorkspaceStore,
    SlackMessageStore,
    InstallationRecords,
    OAuthStates,
    HomeViewers,
    BudgetStore {
  readonly kind: "sqlite" | "postgres";
  /** Inserts many threads at once; the benchmark seeds 100,000 threads with it. */
  insertThreadsForBench(threads: readonly NewThread[], now: number): Promise<void>;
}

export interface OpenStoreOptions {
  /**
   * SQLite: hold the file for this process alone (the bot does; a second bot on the same file
   * refuses to start). Default true.
   */
  exclusive?: boolean;
  /** PostgreSQL: where lost connections and wake-up reconnects are told (default stderr). */
  logger?: StoreLogger;
}

const POSTGRES = /^postgres(ql)?:\/\//i;

export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (databaseUrl.startsWith("sqlite:"))
    return createSqliteStore({ url: databaseUrl, exclusive: options.exclusive ?? true });
  if (POSTGRES.test(databaseUrl)) {
    // Loaded only when used: a bot on SQLite never loads the PostgreSQL driver (memory).
    const { createPostgresStore } = await import("./postgres/store.ts");
    return createPostgresStore({ url: databaseUrl, ...(options.logger ? { logger: options.logger } : {}) });
  }
  // Name only the scheme: the rest of a database URL may carry a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(databaseUrl)?.[0] ?? "(none)";
  throw new Error(
    `Unsupported DATABASE_URL scheme "${scheme}". Supported: sqlite: (for example ` +
      "sqlite:./data/puffle-drafter.db) and postgres:// (several replicas).",
  );
}

/** "sqlite" or "postgres", for logs; never the URL, which may hold a password. */
export function storeKindOf(databaseUrl: string): string {
  return POSTGRES.test(databaseUrl) ? "postgres" : databaseUrl.startsWith("sqlite:") ? "sqlite" : "unknown";
}

/** Where the store is, for logs: host:port/database for PostgreSQL (never the user or password), the path for SQLite. */
export function storeLocationOf(databaseUrl: string): string {
  if (POSTGRES.test(databaseUrl)) return describeTarget(databaseUrl);
  return databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length) : "(unknown)";
}
