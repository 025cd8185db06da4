/**
 * Vitest global setup: one PostgreSQL server for the whole run (TEST_POSTGRES_URL, or an embedded one
 * started here and stopped at the end), handed to test files with provide/inject. It runs however
 * many test files are selected, so a single PostgreSQL test file runs on its own too.
 */
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startTestPostgres } from "../support/postgres-server.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = performance.now();
  const server = await startTestPostgres();
  const prefix = `puffle_test_${Math.random().toString(36).slice(2, 8)}_`;
  project.provide("postgresAdminUrl", server.adminUrl);
  project.provide("postgresDatabasePrefix", prefix);
  if (process.env.TEST_POSTGRES_VERBOSE)
    console.log(
      `PostgreSQL for tests: ${server.source}, ready in ${Math.round(performance.now() - startedAt)} ms`,
    );
  return async () => {
    await dropLeftovers(server.adminUrl, prefix).catch(() => {});
    await server.stop();
  };
}

/** Databases of this run that a crashed or interrupted test file did not drop. */
async function dropLeftovers(adminUrl: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
      [prefix],
    );
    for (const { datname } of rows)
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
  } finally {
    await client.end().catch(() => {});
  }
}
