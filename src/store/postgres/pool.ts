/**
 * Connections to PostgreSQL: the pool every query goes through, a dedicated client for LISTEN, and
 * one transaction helper. A database URL may hold a password, so it never reaches a log line or an
 * error message: errors met while connecting are rebuilt from the host, port and database names.
 */
import pg from "pg";
import { describeTarget } from "./target.ts";

/** The part of a logger the store uses (pino's Logger fits). */
export interface StoreLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: StoreLogger = { warn() {}, info() {} };

/**
 * The default when the caller gives no logger: trouble must not vanish in production, so each event
 * is one JSON line on stderr, in the shape of the bot's own log lines. Fields never hold the URL
 * (the store scrubs error texts before logging them).
 */
export const stderrLogger: StoreLogger = {
  warn: (fields, message) => writeLine("warn", fields, message),
  info: (fields, message) => writeLine("info", fields, message),
};

function writeLine(level: string, fields: Record<string, unknown>, message: string): void {
  const line = { level, time: new Date().toISOString(), component: "store", ...fields, msg: message };
  try {
    process.stderr.write(`${JSON.stringify(line)}\n`);
  } catch {
    // stderr closed: nowhere left to report to.
  }
}

/** BIGINT (ids, clock times in ms) as a JS number: every value the store keeps is a safe integer. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

const APPLICATION = "puffle-drafter";

function connectionConfig(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    types: TYPES,
    application_name: APPLICATION,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  };
}

export function createPool(url: string, size: number): pg.Pool {
  assertParsable(url);
  return new pg.Pool({
    ...connectionConfig(url),
    max: size,
    idleTimeoutMillis: 30_000,
    // A statement stuck behind a lock fails instead of holding a connection forever.
    statement_timeout: 30_000,
    idle_in_transaction_session_timeout: 60_000,
  });
}

/**
 * A client of its own (not from the pool) that stays connected to LISTEN. Its only queries are LISTEN
 * and a heartbeat: one with no answer within `queryTimeoutMs` means a dead link.
 */
export function createListenerClient(url: string, queryTimeoutMs: number): pg.Client {
  return new pg.Client({
    ...connectionConfig(url),
    application_name: `${APPLICATION} wake-ups`,
    query_timeout: queryTimeoutMs,
  });
}

function assertParsable(url: string): void {
  try {
    new URL(url);
  } catch {
    throw new Error("DATABASE_URL is not a valid PostgreSQL URL (postgres://user:password@host:5432/db)");
  }
}

/**
 * An error met while opening the store, retold without anything from the URL but its host, port and
 * database (connection errors can be AggregateErrors with no message of their own).
 */
export function openingError(error: unknown, url: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error && error.message ? error.message : String(code ?? "unknown error");
  const clean = scrub(detail, url);
  const retold = new Error(`PostgreSQL store at ${describeTarget(url)}: ${clean}`);
  if (typeof code === "string") Object.assign(retold, { code });
  return retold;
}

/** Removes the URL and its password from a text, in case a driver ever echoes them. */
export function scrub(text: string, url: string): string {
  let out = text.split(url).join("[database URL]");
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password.length > 0) out = out.split(password).join("[redacted]");
  } catch {
    // Not a URL: nothing more to remove.
  }
  return out;
}

/** Thrown inside `transaction` to roll back and answer a value (a refused claim, an existing thread). */
class Rollback {
  constructor(readonly value: unknown) {}
}

/**
 * Runs `work` in one transaction on one pooled connection. `rollback(value)` undoes everything and
 * makes the transaction answer `value`; any error rolls back too and is rethrown.
 */
export async function transaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, rollback: (value: T) => never) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const value = await work(client, (answer) => {
      throw new Rollback(answer);
    });
    await client.query("COMMIT");
    return value;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackError) {
      // The connection is unusable: the pool must not hand it out again.
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    if (error instanceof Rollback) return error.value as T;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** The one unique violation callers need to tell apart: a session already mapped to a thread. */
export function isSessionTaken(error: unknown): boolean {
  const pgError = error as { code?: unknown; constraint?: unknown } | null;
  return pgError?.code === "23505" && pgError.constraint === "threads_session";
}

export { describeTarget };
