/**
 * Databases for tests, on the server test/setup/postgres.ts provides (TEST_POSTGRES_URL, or an
 * embedded PostgreSQL started once per run). Every call makes a database of its own, so test files
 * running in parallel never share data.
 */

import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Where to create databases: what the global setup provides, else TEST_POSTGRES_URL. */
export function postgresAdminUrl(): string {
  const url = inject("postgresAdminUrl") ?? process.env.TEST_POSTGRES_URL;
  if (!url)
    throw new Error(
      "No PostgreSQL for tests: run them with the project's vitest.config.ts (its global setup starts one), " +
        "or set TEST_POSTGRES_URL.",
    );
  return url;
}

let created = 0;

/** Runs `work` on a short-lived connection to the admin database. */
export async function withAdmin<T>(work: (client: pg.Client) => Promise<T>, url = postgresAdminUrl()) {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The URL of `database` on the same server as `url`. */
export function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function freshPostgresDatabase(): Promise<TestDatabase> {
  const adminUrl = postgresAdminUrl();
  const prefix = inject("postgresDatabasePrefix") ?? "puffle_test_";
  created++;
  const name = `${prefix}${process.pid}_${created}_${Math.random().toString(36).slice(2, 8)}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`), adminUrl);
  let dropped = false;
  return {
    url: databaseUrl(adminUrl, name),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      // FORCE ends connections a failed test left open.
      await withAdmin(
        (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
        adminUrl,
      );
    },
  };
}

/**
 * One database for the whole test file (created before its first test, dropped after the last),
 * and `empty()` to start a test on empty tables: much cheaper than a database per test.
 */
export function usePostgresDatabase(): { readonly url: string; empty(): Promise<void> } {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await freshPostgresDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  const current = () => {
    if (!database) throw new Error("usePostgresDatabase(): the database exists from beforeAll on");
    return database;
  };
  return {
    get url() {
      return current().url;
    },
    // Every table but the migrations' own: the schema stays, the rows go. DELETE costs far less than
    // TRUNCATE on tables this small; ids keep growing, which no test minds.
    empty: () =>
      withAdmin(async (client) => {
        const { rows } = await client.query<{ name: string }>(
          "SELECT quote_ident(tablename) AS name FROM pg_tables " +
            "WHERE schemaname = 'public' AND tablename <> 'schema_migrations'",
        );
        if (rows.length > 0) await client.query(rows.map((row) => `DELETE FROM ${row.name};`).join(" "));
      }, current().url),
  };
}
