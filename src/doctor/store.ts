import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { MEMORY, sqlitePath } from "../store/sqlite/database.ts";
import { type DoctorCheck, type DoctorContext, needs } from "./check.ts";

/**
 * The store check. SQLite: the file's folder can be written (the bot creates the file and its folder on
 * start) and no running bot holds the file. PostgreSQL: a connection and `SELECT 1`. The URL is never
 * shown (it may hold a password): only the host and the database.
 */

const NAME = "Store";

export async function checkStore(ctx: DoctorContext): Promise<DoctorCheck> {
  const { config, skip } = needs(ctx, NAME, ["DATABASE_URL"]);
  if (skip) return skip;
  const url = config.databaseUrl;
  return url.startsWith("sqlite:") ? checkSqlite(sqlitePath(url)) : checkPostgres(url, ctx.timeoutMs);
}

const SQLITE_FIX =
  "set DATABASE_URL to sqlite:<path> in a folder this user can write (e.g. sqlite:./data/puffle-drafter.db)";

function checkSqlite(path: string): DoctorCheck {
  if (path === MEMORY) {
    return { name: NAME, ok: true, detail: "SQLite in memory: nothing is kept across restarts" };
  }
  const fail = (detail: string, fix = SQLITE_FIX): DoctorCheck => ({ name: NAME, ok: false, detail, fix });
  // The nearest folder that exists: the bot creates the missing ones below it.
  let folder = dirname(path);
  while (!existsSync(folder) && dirname(folder) !== folder) folder = dirname(folder);
  if (!statSync(folder).isDirectory())
    return fail(`SQLite file ${path} cannot be created: ${folder} is not a folder`);
  if (!canAccess(folder, constants.W_OK | constants.X_OK)) {
    return fail(`SQLite file ${path} cannot be written: this user cannot write in ${folder}`);
  }
  const exists = existsSync(path);
  if (exists && !canAccess(path, constants.R_OK | constants.W_OK)) {
    return fail(
      `SQLite file ${path} cannot be written by this user`,
      `give this user read and write access to ${path}, or ${SQLITE_FIX}`,
    );
  }
  const where = `SQLite file ${path} (${exists ? "exists" : "created on start"})`;
  if (heldByRunningBot(`${path}.lock`)) {
    return {
      name: NAME,
      ok: false,
      warning: true,
      detail: `${where} is in use by a running bot: a second one on this file refuses to start`,
      fix:
        "stop the running bot before starting another on this file; to run several, share a PostgreSQL " +
        "database (DATABASE_URL=postgres://user:password@host:5432/db)",
    };
  }
  return { name: NAME, ok: true, detail: `${where}: the folder is writable and no bot holds the file` };
}

function canAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/**
 * A running bot holds `<file>.lock` in an exclusive transaction for as long as it runs: trying to take
 * the same lock without waiting tells whether one does. Nothing is written, and no lock file is made.
 */
function heldByRunningBot(lockPath: string): boolean {
  if (!existsSync(lockPath)) return false;
  let db: Database.Database;
  try {
    db = new Database(lockPath, { fileMustExist: true });
  } catch {
    return false;
  }
  try {
    db.pragma("busy_timeout = 0");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("ROLLBACK");
    return false;
  } catch (error) {
    return error instanceof Database.SqliteError && error.code.startsWith("SQLITE_BUSY");
  } finally {
    db.close();
  }
}

async function checkPostgres(url: string, timeoutMs: number): Promise<DoctorCheck> {
  const target = describePostgres(url);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // A connection that fails after connect() also emits "error": it is reported through connect/query.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { name: NAME, ok: true, detail: `PostgreSQL ${target}: connected, SELECT 1 answered` };
  } catch (error) {
    return { name: NAME, ok: false, ...postgresFailure(error, target) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** "db.internal:5432, database drafter, user drafter": never the password. */
function describePostgres(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || "localhost";
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "(the user's own)";
    const user = parsed.username ? `, user ${decodeURIComponent(parsed.username)}` : "";
    return `${host}:${parsed.port || "5432"}, database ${database}${user}`;
  } catch {
    return "(DATABASE_URL could not be read as a URL)";
  }
}

function postgresFailure(error: unknown, target: string): { detail: string; fix: string } {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : undefined;
  const message = typeof e?.message === "string" ? e.message : String(error);
  const reach =
    "check the host and port in DATABASE_URL, and that PostgreSQL runs and accepts connections from this machine";
  switch (code) {
    case "28P01":
    case "28000":
      return {
        detail: `PostgreSQL ${target}: the user name or password was refused`,
        fix: "check the user and password in DATABASE_URL (a special character in the password must be %-encoded)",
      };
    case "3D000":
      return {
        detail: `PostgreSQL ${target}: the database does not exist`,
        fix: "create it (e.g. createdb), or fix the database name at the end of DATABASE_URL",
      };
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EHOSTUNREACH":
    case "ETIMEDOUT":
      return { detail: `cannot reach PostgreSQL ${target}: ${code}`, fix: reach };
  }
  if (/timeout/i.test(message))
    return { detail: `cannot reach PostgreSQL ${target}: no answer in time`, fix: reach };
  // The driver's words never carry the URL; the report scrubs the password anyway.
  const words = code ? `${message} (${/^[0-9A-Z]{5}$/.test(code) ? `SQLSTATE ${code}` : code})` : message;
  return { detail: `PostgreSQL ${target}: ${words}`, fix: reach };
}
