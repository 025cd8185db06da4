import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";

const SCHEME = "sqlite:";
export const MEMORY = ":memory:";

/** "sqlite:./data/x.db", "sqlite:///abs/x.db" (the `//` form is tolerated) or "sqlite::memory:". */
export function sqlitePath(url: string): string {
  if (!url.startsWith(SCHEME)) throw new Error(`A SQLite database URL starts with "${SCHEME}"`);
  const rest = url.slice(SCHEME.length).replace(/^\/\//, "");
  if (rest === MEMORY) return MEMORY;
  if (rest === "") throw new Error(`"${url}" names no file; for example sqlite:./data/puffle-drafter.db`);
  return resolve(rest);
}

export function openDatabase(path: string): Database.Database {
  if (path !== MEMORY) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // WAL: readers never wait for the writer, and a crash mid-write cannot corrupt the file. With WAL,
  // synchronous=NORMAL can lose the last commits on power loss but stays consistent, and is much faster.
  if (path !== MEMORY) db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  return db;
}

/** Thrown when another process already runs the bot on the same SQLite file. */
export class StoreInUseError extends Error {
  constructor(path: string) {
    super(
      `Another process is already running on ${path}. A SQLite store serves one process; to run several ` +
        "replicas, share a PostgreSQL database instead (DATABASE_URL=postgres://user:password@host:5432/db). " +
        "If no other bot is running, another program holds the file open.",
    );
    this.name = "StoreInUseError";
  }
}

/**
 * Holds `<file>.lock` for this process alone: an exclusive transaction that stays open until the
 * store closes. The operating system drops the lock when the process dies, even by SIGKILL, so a
 * restart never waits for a stale lock, and a second process on the same file is refused at once.
 */
export function lockFile(path: string): { release(): void } {
  const lock = new Database(`${path}.lock`);
  try {
    lock.pragma("busy_timeout = 0");
    lock.pragma("journal_mode = DELETE");
    lock.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER)");
    lock.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    lock.close();
    if (error instanceof Database.SqliteError && error.code.startsWith("SQLITE_BUSY"))
      throw new StoreInUseError(path);
    throw error;
  }
  lock.prepare("DELETE FROM holder").run();
  lock.prepare("INSERT INTO holder (pid) VALUES (?)").run(process.pid);
  return {
    release() {
      if (!lock.open) return;
      lock.exec("ROLLBACK");
      lock.close();
    },
  };
}
