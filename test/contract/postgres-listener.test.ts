/**
 * The wake-up listener's own connection, when it dies: killed by the server (it hears of it at once)
 * or cut off without a word (only the heartbeat can tell). Either way it reconnects and hears again.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/store.ts";
import { withAdmin } from "../support/postgres.ts";
import { type FreezingProxy, startFreezingProxy } from "../support/postgres-proxy.ts";
import { type OpenedPostgresStores, usePostgresStores } from "../support/postgres-store.ts";

const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];
const logger = {
  warn: (fields: Record<string, unknown>, message: string) => logged.push({ level: "warn", message, fields }),
  info: (fields: Record<string, unknown>, message: string) => logged.push({ level: "info", message, fields }),
};
const listener = { minRetryMs: 20, maxRetryMs: 200, heartbeatMs: 200 };
const stores = usePostgresStores({ logger, listener });

describe("the wake-up listener of a PostgreSQL store", () => {
  let opened: OpenedPostgresStores;
  let sender: PostgresStore;

  beforeEach(async () => {
    logged.length = 0;
    opened = await stores.open();
    sender = opened.store;
  });

  afterEach(async () => {
    await opened.cleanup();
  });

  function listenerPids(): Promise<number[]> {
    return withAdmin(async (client) => {
      const { rows } = await client.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() " +
          "AND application_name = 'puffle-drafter wake-ups'",
      );
      return rows.map((row) => row.pid);
    }, stores.database.url);
  }

  /** Waits until the listener says it is back, then checks it hears a wake-up from another store. */
  async function expectHeardAgain(receiver: PostgresStore, heard: number[]) {
    await vi.waitFor(() => expect(logged.map((line) => line.message)).toContain("store.listener_restored"), {
      timeout: 5_000,
    });
    await receiver.listening();
    await sender.wake(7);
    await vi.waitFor(() => expect(heard).toEqual([7]));
    expect(logged.find((line) => line.message === "store.listener_lost")?.level).toBe("warn");
    const password = new URL(stores.database.url).password;
    if (password) expect(JSON.stringify(logged)).not.toContain(password);
    expect(JSON.stringify(logged)).not.toContain(stores.database.url);
  }

  it("reconnects after the server killed its connection, and hears wake-ups again", async () => {
    const receiver = await opened.reopen();
    const heard: number[] = [];
    receiver.onWake((threadId) => heard.push(threadId));
    await receiver.listening();
    const [killed] = await listenerPids();
    await withAdmin(
      (client) => client.query("SELECT pg_terminate_backend($1)", [killed]),
      stores.database.url,
    );

    await expectHeardAgain(receiver, heard);
    expect(await listenerPids()).not.toContain(killed);
  });

  describe("behind a link that goes silent", () => {
    let proxy: FreezingProxy;
    let receiver: PostgresStore | undefined;

    beforeEach(async () => {
      proxy = await startFreezingProxy(stores.database.url);
    });

    afterEach(async () => {
      await receiver?.close();
      await proxy.close();
    });

    it("finds out by its heartbeat, reconnects, and hears wake-ups again", async () => {
      receiver = await createPostgresStore({ url: proxy.urlFor(stores.database.url), logger, listener });
      const heard: number[] = [];
      receiver.onWake((threadId) => heard.push(threadId));
      await receiver.listening();
      proxy.freeze();
      await expectHeardAgain(receiver, heard);
    });
  });
});
