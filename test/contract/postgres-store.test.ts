import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.ts";
import { MIGRATIONS, type Migration, migrate, SCHEMA_VERSION } from "../../src/store/postgres/migrations.ts";
import { createPool } from "../../src/store/postgres/pool.ts";
import { createPostgresStore } from "../../src/store/postgres/store.ts";
import { freshPostgresDatabase, type TestDatabase, withAdmin } from "../support/postgres.ts";
import { usePostgresStores } from "../support/postgres-store.ts";
import { defineLeaseContract } from "./lease-contract.ts";
import { defineSlackMessagesContract } from "./slack-messages-contract.ts";
import { defineStoreContract } from "./store-contract.ts";

const stores = usePostgresStores();

defineStoreContract("PostgreSQL", () => stores.open(), { persistent: true });
defineLeaseContract("PostgreSQL", () => stores.open());
defineSlackMessagesContract("PostgreSQL", () => stores.open());

describe("PostgreSQL store", () => {
  const databases: TestDatabase[] = [];
  const opened: Store[] = [];

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const database of databases.splice(0)) await database.drop();
  });

  async function fresh(): Promise<TestDatabase> {
    const database = await freshPostgresDatabase();
    databases.push(database);
    return database;
  }

  /** Runs SQL on the database as an operator would, outside any store. */
  function sql<R extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []) {
    return withAdmin(async (client) => (await client.query<R>(text, values)).rows, url);
  }

  describe("opening", () => {
    it("opens a postgres:// or postgresql:// DATABASE_URL through openStore", async () => {
      const { url } = await fresh();
      for (const scheme of ["postgres", "postgresql"]) {
        const store = await openStore(url.replace(/^postgres(ql)?:/, `${scheme}:`));
        opened.push(store);
        expect(store.kind).toBe("postgres");
        expect(await store.claimDeliveries([`key-${scheme}`], 1)).toBe(true);
      }
    });

    it("never shows the URL's password when it cannot connect", async () => {
      const refusal = createPostgresStore({ url: "postgres://drafter:hunter2secret@127.0.0.1:1/drafter" });
      await expect(refusal).rejects.toThrow(/PostgreSQL store at 127\.0\.0\.1:1\/drafter: .*ECONNREFUSED/);
      const error = await refusal.catch((thrown: unknown) => thrown);
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toMatch(/hunter2secret/);
      expect((error as Error).cause).toBeUndefined();

      const garbled = createPostgresStore({ url: "postgres://drafter:hunter2secret@[bad/drafter" });
      await expect(garbled).rejects.toThrow(/not a valid PostgreSQL URL/);
      await expect(garbled).rejects.not.toThrow(/hunter2secret/);
    });

    it("can be closed twice, and closes while its wake-up connection is still opening", async () => {
      const store = await createPostgresStore({ url: (await fresh()).url });
      store.onWake(() => {});
      await store.close();
      await store.close();
    });
  });

  describe("migrations", () => {
    it("numbers the migrations 1, 2, 3... in order", () => {
      expect(MIGRATIONS.map((migration) => migration.version)).toEqual(
        MIGRATIONS.map((_, index) => index + 1),
      );
      expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    });

    it("records each version applied, once, and applies nothing when reopened", async () => {
      const { url } = await fresh();
      opened.push(await createPostgresStore({ url }), await createPostgresStore({ url }));
      const rows = await sql<{ version: number; name: string }>(
        url,
        "SELECT version, name FROM schema_migrations ORDER BY version",
      );
      expect(rows).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
    });

    it("has the indexes the lookups need, and turns go with their thread", async () => {
      const { url } = await fresh();
      opened.push(await createPostgresStore({ url }));
      const indexes = await sql<{ indexname: string; indexdef: string }>(
        url,
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
      );
      const definition = (name: string) => indexes.find((index) => index.indexname === name)?.indexdef;
      expect(definition("threads_ref")).toMatch(/UNIQUE INDEX .* \(team_id, channel_id, thread_ts\)/);
      expect(definition("threads_session")).toMatch(/UNIQUE INDEX .* \(session_id\)/);
      expect(definition("turns_open")).toMatch(/\(thread_id\) WHERE/);
      expect(definition("delivery_keys_expiry")).toMatch(/\(expires_at\)/);
      const [reference] = await sql<{ definition: string }>(
        url,
        "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = 'turns'::regclass AND contype = 'f'",
      );
      expect(reference?.definition).toMatch(/REFERENCES threads\(id\) ON DELETE CASCADE/);
    });

    it("refuses a database written by a newer release, and leaves it untouched", async () => {
      const { url } = await fresh();
      await (await createPostgresStore({ url })).close();
      await sql(url, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", [
        SCHEMA_VERSION + 1,
      ]);
      await expect(createPostgresStore({ url })).rejects.toThrow(
        new RegExp(
          `schema version ${SCHEMA_VERSION + 1}, newer than this release knows \\(${SCHEMA_VERSION}\\)`,
        ),
      );
      const [row] = await sql<{ latest: number }>(
        url,
        "SELECT MAX(version) AS latest FROM schema_migrations",
      );
      expect(row?.latest).toBe(SCHEMA_VERSION + 1);
    });

    it("applies only the steps a database has not run yet, in order", async () => {
      const { url } = await fresh();
      const pool = createPool(url, 2);
      try {
        const first: Migration = {
          version: 1,
          name: "a",
          up: "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1)",
        };
        const second: Migration = { version: 2, name: "b", up: "CREATE TABLE b AS SELECT x + 1 AS y FROM a" };
        expect(await migrate(pool, [first])).toEqual([1]);
        expect(await migrate(pool, [first, second])).toEqual([2]);
        expect(await migrate(pool, [first, second])).toEqual([]);
        expect(await sql(url, "SELECT y FROM b")).toEqual([{ y: 2 }]);
      } finally {
        await pool.end();
      }
    });

    it("rolls back every pending step when one fails", async () => {
      const { url } = await fresh();
      const pool = createPool(url, 2);
      try {
        const steps: Migration[] = [
          { version: 1, name: "a", up: "CREATE TABLE a (x INTEGER)" },
          { version: 2, name: "broken", up: "CREATE TABLE b (x INTEGER); SELECT * FROM missing_table" },
        ];
        await expect(migrate(pool, steps)).rejects.toThrow(/missing_table/);
        const tables = await sql<{ tablename: string }>(
          url,
          "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        );
        expect(tables).toEqual([]);
      } finally {
        await pool.end();
      }
    });
  });
});
