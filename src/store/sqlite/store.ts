import type { NewThread } from "../../drafting/store.ts";
import type { Store } from "../index.ts";
import { lockFile, MEMORY, openDatabase, sqlitePath } from "./database.ts";
import { sqliteDraftStore } from "./drafting.ts";
import { migrate } from "./migrations.ts";
import { sqliteSlackMessages } from "./slack-messages.ts";
import { sqliteWorkspaceRecords } from "./workspace-records.ts";

/**
 * The embedded store: one SQLite file in WAL mode, created and migrated on open. One process per
 * file: with `exclusive`, a second process on the same file is refused (several replicas need
 * PostgreSQL).
 */
export interface SqliteStore extends Store {
  readonly kind: "sqlite";
  /** Absolute path of the database file, or ":memory:". */
  readonly path: string;
}

export function createSqliteStore(options: { url: string; exclusive?: boolean }): SqliteStore {
  const path = sqlitePath(options.url);
  const lock = options.exclusive && path !== MEMORY ? lockFile(path) : undefined;
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(path);
  } catch (error) {
    lock?.release();
    throw error;
  }
  try {
    migrate(db);
  } catch (error) {
    db.close();
    lock?.release();
    throw error;
  }
  // Holding the file alone, no other process can be driving a thread: leases left by a process that
  // died are void at once, so a restart picks its threads up without waiting for them to lapse.
  if (lock)
    db.prepare(
      "UPDATE threads SET lease_owner = NULL, lease_expires_at = 0 WHERE lease_owner IS NOT NULL",
    ).run();
  const drafting = sqliteDraftStore(db);
  return {
    kind: "sqlite",
    path,
    ...drafting,
    ...sqliteSlackMessages(db),
    ...sqliteWorkspaceRecords(db),
    insertThreadsForBench: async (threads: readonly NewThread[], now: number) =>
      drafting.insertThreads(threads, now),
    close: async () => {
      if (db.open) db.close();
      lock?.release();
    },
  };
}
