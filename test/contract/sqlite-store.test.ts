import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { NewThread } from "../../src/drafting/store.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { StoreInUseError } from "../../src/store/sqlite/database.ts";
import { QUERIES } from "../../src/store/sqlite/drafting.ts";
import { MIGRATIONS, type Migration, migrate, SCHEMA_VERSION } from "../../src/store/sqlite/migrations.ts";
import { createSqliteStore, type SqliteStore } from "../../src/store/sqlite/store.ts";
import { defineStoreContract } from "./store-contract.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "puffle-store-"));
}

defineStoreContract(
  "SQLite in memory",
  async () => {
    const store = createSqliteStore({ url: "sqlite::memory:" });
    return { store, cleanup: () => store.close() };
  },
  { persistent: false },
);

defineStoreContract(
  "SQLite file",
  async () => {
    const dir = tempDir();
    const url = `sqlite:${join(dir, "drafter.db")}`;
    const opened: Store[] = [createSqliteStore({ url })];
    return {
      store: opened[0]!,
      reopen: async () => {
        const store = createSqliteStore({ url });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        for (const store of opened) await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { persistent: true },
);

describe("SQLite store", () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  const connections: Database.Database[] = [];

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const db of connections.splice(0)) db.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function fileStore(relativePath = "drafter.db"): SqliteStore {
    const dir = tempDir();
    dirs.push(dir);
    const store = createSqliteStore({ url: `sqlite:${join(dir, relativePath)}` });
    stores.push(store);
    return store;
  }

  /** A second, raw connection to inspect what the store wrote. */
  function inspect(path: string): Database.Database {
    const db = new Database(path);
    connections.push(db);
    return db;
  }

  describe("opening", () => {
    it("puts a database file in WAL mode", () => {
      const store = fileStore();
      expect(inspect(store.path).pragma("journal_mode", { simple: true })).toBe("wal");
    });

    it("creates the missing parent directories of the file", () => {
      const store = fileStore("nested/deeper/drafter.db");
      expect(existsSync(store.path)).toBe(true);
    });

    it("resolves relative paths, and tolerates the sqlite:// form", () => {
      const dir = tempDir();
      dirs.push(dir);
      const fromCwd = createSqliteStore({ url: `sqlite:${relative(process.cwd(), join(dir, "a.db"))}` });
      const slashes = createSqliteStore({ url: `sqlite://${join(dir, "b.db")}` });
      const memory = createSqliteStore({ url: "sqlite::memory:" });
      stores.push(fromCwd, slashes, memory);
      expect(fromCwd.path).toBe(join(dir, "a.db"));
      expect(slashes.path).toBe(join(dir, "b.db"));
      expect(memory.path).toBe(":memory:");
    });

    it("refuses a sqlite: URL that names no file", () => {
      expect(() => createSqliteStore({ url: "sqlite:" })).toThrow(/names no file/);
    });

    it("opens a sqlite: DATABASE_URL through openStore", async () => {
      const store = await openStore("sqlite::memory:");
      stores.push(store);
      expect(await store.claimDeliveries(["a"], 1)).toBe(true);
    });

    it("refuses other schemes by name, without echoing the rest of the URL", async () => {
      const refusal = openStore("mysql://drafter:hunter2@db.internal/drafter");
      await expect(refusal).rejects.toThrow(/Unsupported DATABASE_URL scheme "mysql:".*sqlite:.*postgres:/);
      await expect(refusal).rejects.not.toThrow(/hunter2/);
      await expect(openStore("./data/drafter.db")).rejects.toThrow(/Supported: sqlite:/);
    });
  });

  describe("one process per file", () => {
    it("refuses a second bot on the same file, naming PostgreSQL as the way to run several", () => {
      const dir = tempDir();
      dirs.push(dir);
      const url = `sqlite:${join(dir, "drafter.db")}`;
      const first = createSqliteStore({ url, exclusive: true });
      stores.push(first);
      expect(() => createSqliteStore({ url, exclusive: true })).toThrow(StoreInUseError);
      expect(() => createSqliteStore({ url, exclusive: true })).toThrow(/PostgreSQL.*postgres:\/\//);
    });

    it("lets the file be taken again once its holder closed it", async () => {
      const dir = tempDir();
      dirs.push(dir);
      const url = `sqlite:${join(dir, "drafter.db")}`;
      const first = createSqliteStore({ url, exclusive: true });
      await first.close();
      const second = createSqliteStore({ url, exclusive: true });
      stores.push(second);
      expect(await second.claimDeliveries(["k"], 1)).toBe(true);
    });
  });

  describe("migrations", () => {
    it("numbers the migrations 1, 2, 3... in order", () => {
      expect(MIGRATIONS.map((migration) => migration.version)).toEqual(
        MIGRATIONS.map((_, index) => index + 1),
      );
      expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    });

    it("brings a new file to the latest version, and applies nothing when reopened", async () => {
      const store = fileStore();
      await store.close();
      const db = inspect(store.path);
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
      expect(migrate(db)).toEqual([]);
      stores.push(createSqliteStore({ url: `sqlite:${store.path}` }));
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    });

    it("refuses a file written by a newer release, and leaves it untouched", async () => {
      const store = fileStore();
      await store.close();
      inspect(store.path).pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      expect(() => createSqliteStore({ url: `sqlite:${store.path}` })).toThrow(
        new RegExp(
          `schema version ${SCHEMA_VERSION + 1}, newer than this release knows \\(${SCHEMA_VERSION}\\)`,
        ),
      );
      expect(inspect(store.path).pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION + 1);
    });

    it("applies only the steps a database has not run yet, in order", () => {
      const db = inspect(":memory:");
      const first: Migration = { version: 1, name: "a", up: "CREATE TABLE a (x)" };
      const second: Migration = {
        version: 2,
        name: "b",
        up: "CREATE TABLE b (x); INSERT INTO b SELECT * FROM a",
      };
      expect(migrate(db, [first])).toEqual([1]);
      expect(migrate(db, [first, second])).toEqual([2]);
      expect(migrate(db, [first, second])).toEqual([]);
      expect(db.pragma("user_version", { simple: true })).toBe(2);
    });

    it("upgrades a version-1 file in place: threads, turns and id sequence survive the threads rebuild", async () => {
      const dir = tempDir();
      dirs.push(dir);
      const path = join(dir, "v1.db");
      const v1 = inspect(path);
      v1.pragma("foreign_keys = ON");
      migrate(v1, MIGRATIONS.slice(0, 1));
      v1.exec(`
        INSERT INTO threads (id, team_id, channel_id, thread_ts, session_id, campaign_id, node_id, started_by, created_at, card_revision)
          VALUES (1, 'T1', 'C1', '1.0001', 'sess-1', 'camp-1', 'node-1', 'U1', 100, 3),
                 (7, 'T1', 'C1', '1.0007', NULL, 'camp-1', 'node-1', 'U1', 100, 0);
        DELETE FROM threads WHERE id = 7;
        INSERT INTO turns (thread_id, kind, state, text, author_id, created_at) VALUES (1, 'chat', 'pending', 'hello', 'U1', 100);
      `);
      v1.close();

      const store = createSqliteStore({ url: `sqlite:${path}` });
      stores.push(store);
      const thread = await store.getThreadBySession("sess-1");
      expect(thread).toMatchObject({ id: 1, campaignId: "camp-1" });
      expect((await store.listTurns(1)).map((t) => t.text)).toEqual(["hello"]);
      // Card revision 3 had no message: there is no live card to carry over.
      expect(await store.liveCard(1)).toBeUndefined();
      // AUTOINCREMENT still remembers id 7 was handed out.
      const next = await store.createThread(
        { teamId: "T1", channelId: "C1", threadTs: "1.0008", startedBy: "U1" },
        200,
      );
      expect(next !== "thread_exists" && next.id).toBe(8);
      // The foreign key from turns to the rebuilt threads table still cascades.
      await store.deleteThread(1);
      expect(await store.getTurn(1)).toBeUndefined();
    });

    it("upgrades a version-2 file: the live card and the status messages move to the Slack layer's tables", async () => {
      const dir = tempDir();
      dirs.push(dir);
      const path = join(dir, "v2.db");
      const v2 = inspect(path);
      v2.pragma("foreign_keys = ON");
      migrate(v2, MIGRATIONS.slice(0, 2));
      v2.exec(`
        INSERT INTO threads (id, team_id, channel_id, thread_ts, session_id, campaign_id, node_id, started_by, created_at,
            status_message_ts, card_message_ts, card_revision, card_payload, turn_count)
          VALUES (1, 'T1', 'C1', '1.0001', 'sess-1', 'camp-1', 'node-1', 'U1', 100, '1.0009', '1.0005', 2, '{"text":"Draft v2"}', 2);
        INSERT INTO turns (id, thread_id, kind, state, text, author_id, created_at, status_message_ts)
          VALUES (4, 1, 'chat', 'done', 'shorter', 'U1', 100, '1.0004'), (5, 1, 'chat', 'pending', 'warmer', 'U1', 100, NULL);
      `);
      v2.close();

      const store = createSqliteStore({ url: `sqlite:${path}` });
      stores.push(store);
      expect(await store.getThreadById(1)).toMatchObject({ sessionId: "sess-1", turnCount: 2 });
      expect(await store.liveCard(1)).toEqual({
        threadId: 1,
        revision: 2,
        ts: "1.0005",
        payload: '{"text":"Draft v2"}',
        source: "",
        supersededAt: null,
      });
      const key = await store.statusKeyFor([4]);
      expect(key).toBeDefined();
      expect(await store.postedTs(key ?? "")).toBe("1.0004");
      expect(await store.statusKeyFor([5])).toBeUndefined();
      expect((await store.getTurn(5))?.deadlineAt).toBeNull();
    });

    it("rolls back every pending step when one fails", () => {
      const db = inspect(":memory:");
      const steps: Migration[] = [
        { version: 1, name: "a", up: "CREATE TABLE a (x)" },
        { version: 2, name: "broken", up: "CREATE TABLE b (x); SELECT * FROM missing_table" },
      ];
      expect(() => migrate(db, steps)).toThrow(/missing_table/);
      expect(db.pragma("user_version", { simple: true })).toBe(0);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([]);
    });
  });

  describe("with 20,000 threads", () => {
    function manyThreads(count: number): NewThread[] {
      return Array.from({ length: count }, (_, i) => ({
        teamId: `T${i % 7}`,
        channelId: `C${i % 101}`,
        threadTs: `1760000000.${String(i).padStart(6, "0")}`,
        campaignId: "camp-1",
        nodeId: "node-1",
        startedBy: "U1",
        sessionId: `sess-${i}`,
      }));
    }

    it("finds one thread by ref and by session", async () => {
      const store = fileStore();
      const threads = manyThreads(20_000);
      await store.insertThreadsForBench(threads, 1);
      const wanted = threads[12_345]!;
      expect(await store.getThread(wanted)).toMatchObject({
        threadTs: wanted.threadTs,
        sessionId: "sess-12345",
      });
      expect((await store.getThreadBySession("sess-12345"))?.threadTs).toBe(wanted.threadTs);
    });

    it("answers every lookup from an index, never by scanning a table", async () => {
      const store = fileStore();
      await store.insertThreadsForBench(manyThreads(20_000), 1);
      const db = inspect(store.path);
      const plan = (sql: string, ...params: unknown[]) =>
        db
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...params)
          .map((row) => (row as { detail: string }).detail)
          .join("; ");

      expect(plan(QUERIES.threadByRef, "T1", "C1", "1760000000.000001")).toMatch(
        /SEARCH threads USING INDEX threads_ref/,
      );
      expect(plan(QUERIES.threadBySession, "sess-1")).toMatch(/SEARCH threads USING INDEX threads_session/);
      expect(plan(QUERIES.threadById, 1)).toMatch(/SEARCH threads USING INTEGER PRIMARY KEY/);
      expect(plan(QUERIES.turnsOfThread, 1)).toMatch(/SEARCH turns USING INDEX turns_thread_state/);
      expect(plan(QUERIES.turnsOfThreadInStates, 1, '["pending"]')).toMatch(
        /SEARCH turns USING INDEX turns_thread_state/,
      );
      expect(plan(QUERIES.liveKey, "event:Ev1", 1)).toMatch(/SEARCH delivery_keys USING PRIMARY KEY/);
      expect(plan(QUERIES.pruneKeys, 1)).toMatch(
        /SEARCH delivery_keys USING COVERING INDEX delivery_keys_expiry/,
      );
      // The resume query reads only the partial index of open turns, however many turns are finished.
      expect(plan(QUERIES.threadsWithOpenTurns)).toMatch(/SCAN turns USING INDEX turns_open/);
      expect(plan(QUERIES.threadsWithOpenTurns)).toMatch(/SEARCH threads USING INTEGER PRIMARY KEY/);
      // So does the sweep for threads no replica drives.
      expect(plan(QUERIES.threadsWithoutDriver, 1, 10)).toMatch(/SCAN turns USING INDEX turns_open/);
    });
  });
});
