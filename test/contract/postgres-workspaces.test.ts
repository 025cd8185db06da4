/**
 * Workspace records on PostgreSQL: the shared contract, then what only a shared database can show,
 * two stores (two pools, as two replicas have) racing for a budget slot, an install state and a
 * token refresh lock; migration 2 on a database that already holds threads; and where trouble is
 * reported when the caller gives the store no logger.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MIGRATIONS, migrate } from "../../src/store/postgres/migrations.ts";
import { createPool } from "../../src/store/postgres/pool.ts";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/store.ts";
import { freshPostgresDatabase, withAdmin } from "../support/postgres.ts";
import { type OpenedPostgresStores, usePostgresStores } from "../support/postgres-store.ts";
import { defineWorkspaceContract } from "./workspace-contract.ts";

const stores = usePostgresStores();

defineWorkspaceContract("PostgreSQL", () => stores.open());

const T0 = 1_760_000_000_000;

describe("workspace records: two PostgreSQL stores on one database", () => {
  let opened: OpenedPostgresStores;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeEach(async () => {
    opened = await stores.open();
    a = opened.store;
    b = await opened.reopen();
  });

  afterEach(async () => {
    await opened.cleanup();
  });

  it("hands out 50 distinct request slots, each at least the interval after the one before", async () => {
    const interval = 1_200;
    const slots = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).reserveSlot("key-hash", T0, interval)),
    );
    const sorted = [...slots].sort((x, y) => x - y);
    expect(new Set(slots).size).toBe(50);
    expect(sorted[0]).toBe(T0);
    for (let i = 1; i < sorted.length; i++)
      expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(interval);
    // Both stores see the same queue: the next slot comes after all 50.
    expect(await a.reserveSlot("key-hash", T0, interval)).toBe(T0 + 50 * interval);
  });

  it("keeps the slots of a key apart while one store pauses it and the other reserves", async () => {
    await Promise.all([
      ...Array.from({ length: 10 }, () => a.reserveSlot("k", T0, 100)),
      b.pauseKey("k", T0 + 5_000),
      ...Array.from({ length: 10 }, () => b.reserveSlot("k", T0, 100)),
    ]);
    const next = await a.reserveSlot("k", T0, 100);
    expect(next).toBeGreaterThanOrEqual(T0 + 5_000);
    expect(await b.reserveSlot("k", T0, 100)).toBe(next + 100);
  });

  it("gives an install state to exactly one of two stores taking it at once", async () => {
    const states = Array.from({ length: 20 }, (_, i) => `state-${i}`);
    for (const state of states) await a.putOAuthState(state, `{"n":"${state}"}`, T0 + 60_000);
    const outcomes = await Promise.all(
      states.map((state) => Promise.all([a.takeOAuthState(state, T0), b.takeOAuthState(state, T0)])),
    );
    for (const [index, pair] of outcomes.entries()) {
      expect(pair.filter((payload) => payload !== undefined)).toEqual([`{"n":"state-${index}"}`]);
    }
  });

  it("gives an installation's refresh lock to exactly one of two stores asking at once", async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `T:T${i}`);
    for (const installKey of keys)
      await a.saveInstallation({
        installKey,
        teamId: installKey.slice(2),
        enterpriseId: null,
        isEnterpriseInstall: false,
        recordEncrypted: "sealed",
        botUserId: null,
        installerUserId: null,
        tokenExpiresAt: T0,
        installedAt: T0,
        updatedAt: T0,
      });
    const outcomes = await Promise.all(
      keys.map((key) =>
        Promise.all([
          a.lockInstallationRefresh(key, "replica-a", T0, 30_000),
          b.lockInstallationRefresh(key, "replica-b", T0, 30_000),
        ]),
      ),
    );
    for (const pair of outcomes) expect(pair.filter(Boolean)).toHaveLength(1);
    // A lapsed lock goes to exactly one of them too.
    const later = await Promise.all(
      keys.map((key) =>
        Promise.all([
          a.lockInstallationRefresh(key, "replica-c", T0 + 30_000, 30_000),
          b.lockInstallationRefresh(key, "replica-d", T0 + 30_000, 30_000),
        ]),
      ),
    );
    for (const pair of later) expect(pair.filter(Boolean)).toHaveLength(1);
  });

  it("ends a team's threads once when two stores end them at once", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await a.createThreadWithTurn(
        { teamId: "T1", channelId: "C1", threadTs: `1760000000.${i}`, startedBy: "U1" },
        { kind: "chat", text: "hi", authorId: "U1" },
        { now: T0 },
      );
      if (typeof created === "string") throw new Error(created);
      ids.push(created.thread.id);
    }
    const [first, second] = await Promise.all([
      a.endThreadsOfTeam("T1", "uninstalled", T0 + 1),
      b.endThreadsOfTeam("T1", "app_uninstalled", T0 + 2),
    ]);
    expect([...first, ...second].sort((x, y) => x - y)).toEqual(ids);
    expect(await b.threadsWithOpenTurnsOfTeam("T1")).toEqual([]);
    const reasons = new Set(
      (await Promise.all(ids.map((id) => a.getThreadById(id)))).map((t) => t?.endedReason),
    );
    expect(reasons.size).toBe(1);
  });
});

describe("PostgreSQL migration 2", () => {
  it("adds the thread columns to a database that already holds threads, with PostgreSQL types", async () => {
    const database = await freshPostgresDatabase();
    const pool = createPool(database.url, 2);
    let store: PostgresStore | undefined;
    try {
      await migrate(pool, MIGRATIONS.slice(0, 1));
      await pool.query(
        "INSERT INTO threads (team_id, channel_id, thread_ts, started_by, created_at) VALUES ('T1', 'C1', '1.1', 'U1', 5)",
      );
      store = await createPostgresStore({ url: database.url });
      expect(await store.getThread({ teamId: "T1", channelId: "C1", threadTs: "1.1" })).toMatchObject({
        createdAt: 5,
        endedAt: null,
        endedReason: null,
        savedAt: null,
        draftVersion: null,
      });
      const { rows } = await pool.query<{ column: string; type: string }>(
        'SELECT table_name || \'.\' || column_name AS "column", data_type AS "type" FROM information_schema.columns ' +
          "WHERE table_schema = 'public' AND (column_name LIKE '%\\_at' OR column_name LIKE '%\\_until' " +
          "OR column_name = 'is_enterprise_install')",
      );
      const types = Object.fromEntries(rows.map((row) => [row.column, row.type]));
      expect(types["installations.is_enterprise_install"]).toBe("boolean");
      for (const column of [
        "threads.ended_at",
        "threads.saved_at",
        "workspaces.puffle_key_set_at",
        "installations.refresh_until",
        "oauth_states.expires_at",
        "home_viewers.opened_at",
        "puffle_budget.next_slot_at",
        "puffle_budget.paused_until",
      ])
        expect(types[column], column).toBe("bigint");
      const index = await pool.query<{ def: string }>(
        "SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'threads_started_by'",
      );
      expect(index.rows[0]?.def).toMatch(/\(team_id, started_by, created_at\)/);
    } finally {
      await store?.close();
      await pool.end();
      await database.drop();
    }
  });
});

describe("a PostgreSQL store opened without a logger", () => {
  it("reports connection trouble on stderr, one JSON line each, without the URL", async () => {
    const database = await freshPostgresDatabase();
    const store = await createPostgresStore({ url: database.url });
    const lines: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await store.listening();
      await withAdmin(
        (client) =>
          client.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() " +
              "AND application_name = 'puffle-drafter wake-ups'",
          ),
        database.url,
      );
      await vi.waitFor(() => expect(lines.join("")).toMatch(/store\.listener_restored/), { timeout: 10_000 });
    } finally {
      write.mockRestore();
      await store.close();
      await database.drop();
    }
    const events = lines
      .filter((line) => line.includes('"component":"store"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ level: "warn", component: "store", msg: "store.listener_lost" });
    expect(events.at(-1)).toMatchObject({ level: "info", msg: "store.listener_restored" });
    expect(lines.join("")).not.toContain(database.url);
  });
});
