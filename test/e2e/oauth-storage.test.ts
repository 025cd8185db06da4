import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlitePath } from "../../src/store/sqlite/database.ts";
import { draftCards, type E2E, startE2E, visibleText } from "../support/harness.ts";
import { freshPostgresDatabase, type TestDatabase } from "../support/postgres.ts";
import { APP, install, mention, oauthEnv, questionIn, reply, restartWith, team } from "./oauth-helpers.ts";

/**
 * Installations at rest (SPEC 8): read straight from the database, no row holds a bot token, a refresh
 * token or a Puffle key in plain text; after ENCRYPTION_KEY changes (the old key kept as
 * ENCRYPTION_KEY_PREVIOUS) a restarted bot still reads the rows written before, and drafts on.
 */
const ACME = team("ACME");
const PUFFLE_KEY = "pk_test_acme_at_rest_key_7f3e";
const OLD_KEY = randomBytes(32);
const NEW_KEY = randomBytes(32);

/** Every row of every table, as the database holds it. */
async function everyRow(e2e: E2E): Promise<string> {
  const url = e2e.bot.config.databaseUrl;
  if (url.startsWith("sqlite:")) {
    const db = new Database(sqlitePath(url), { readonly: true, fileMustExist: true });
    try {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .pluck()
        .all() as string[];
      return JSON.stringify(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}"`).all()]));
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'",
    );
    const dump = [];
    for (const { name } of rows) dump.push([name, (await client.query(`SELECT * FROM ${name}`)).rows]);
    return JSON.stringify(dump);
  } finally {
    await client.end();
  }
}

describe.each(["SQLite", "PostgreSQL"])("installations at rest on %s", (kind) => {
  let e2e: E2E;
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    database = kind === "PostgreSQL" ? await freshPostgresDatabase() : undefined;
    e2e = await startE2E({
      env: { ...oauthEnv(OLD_KEY.toString("base64")), ...(database ? { DATABASE_URL: database.url } : {}) },
      emulator: { apiKeys: [PUFFLE_KEY] },
    });
    expect(e2e.bot.store.kind).toBe(kind === "SQLite" ? "sqlite" : "postgres");
    e2e.slack.registerApp({ clientId: APP.clientId, clientSecret: APP.clientSecret, tokenRotation: true });
  });
  afterAll(async () => {
    await e2e.close();
    await database?.drop();
  });

  it("holds no bot token, refresh token or Puffle key in plain text", async () => {
    expect((await install(e2e, ACME)).status).toBe(200);
    const connected = await e2e.bot.drafting.connectPuffleKey({
      teamId: ACME.teamId,
      key: PUFFLE_KEY,
      by: ACME.userId,
    });
    expect(connected.status).toBe("ok");
    const installed = e2e.slack.installation(ACME.teamId);
    expect(installed?.botToken).toMatch(/^xoxe\.xoxb-/);
    expect(installed?.refreshToken).toMatch(/^xoxe-/);

    const rows = await everyRow(e2e);
    expect(rows).toContain("T:T0ACME");
    expect(rows).toContain("UBOTACME");
    const secrets: Record<string, string> = {
      botToken: installed?.botToken ?? "(none)",
      refreshToken: installed?.refreshToken ?? "(none)",
      puffleKey: PUFFLE_KEY,
      clientSecret: APP.clientSecret,
    };
    const inPlainText = Object.entries(secrets).filter(([, value]) => rows.includes(value));
    expect(inPlainText.map(([name]) => name)).toEqual([]);
    expect(rows).not.toMatch(/xox[bpe]/);
  });

  it("reads rows sealed with the old key after ENCRYPTION_KEY changes, and drafts on", async () => {
    const sealedBefore = (await e2e.bot.store.findInstallation("T:T0ACME"))?.recordEncrypted;
    await restartWith(e2e, (config) => ({ ...config, encryption: { key: NEW_KEY, previous: OLD_KEY } }));
    // Nothing was rewritten on start: the row is still sealed with the old key, and opens.
    expect((await e2e.bot.store.findInstallation("T:T0ACME"))?.recordEncrypted).toBe(sealedBefore);

    const root = await mention(e2e, ACME, "intro email for CFOs at logistics companies");
    await questionIn(e2e, ACME, root.ts);
    await reply(e2e, ACME, root.ts, "Mid-market, ask for 15 minutes");
    const card = await e2e.slack.waitFor(() => draftCards(e2e.slack, ACME.channel, root.ts)[0], {
      timeoutMs: 10_000,
    });
    expect(visibleText(card)).toContain("Draft v1");
    expect(card).toMatchObject({ user: "UBOTACME" });
  });
});
