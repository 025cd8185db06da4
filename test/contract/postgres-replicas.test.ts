/**
 * What only a shared database can show: several stores (each with its own pool, as replicas have)
 * racing on the same rows, migrating at the same moment, and waking each other.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LeaseLostError, type LeaseRef, type NewThread } from "../../src/drafting/store.ts";
import { MIGRATIONS } from "../../src/store/postgres/migrations.ts";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres/store.ts";
import { freshPostgresDatabase, withAdmin } from "../support/postgres.ts";
import { type OpenedPostgresStores, usePostgresStores } from "../support/postgres-store.ts";

const T0 = 1_760_000_000_000;
const TTL = 15_000;
const stores = usePostgresStores();

let ts = 0;
function newThread(): NewThread {
  ts++;
  return {
    teamId: "T1",
    channelId: "C1",
    threadTs: `1760000000.${String(ts).padStart(6, "0")}`,
    startedBy: "U1",
  };
}
const turn = { kind: "chat" as const, text: "intro email", authorId: "U1" };

describe("PostgreSQL shared by several replicas", () => {
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

  /** Rows of the test file's database, read outside any store. */
  async function count(table: "threads" | "turns"): Promise<number> {
    return withAdmin(async (client) => {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      return Number(rows[0]?.n);
    }, stores.database.url);
  }

  async function created(store: PostgresStore) {
    const result = await store.createThreadWithTurn(newThread(), turn, { now: T0 });
    if (typeof result === "string") throw new Error(`test setup: ${result}`);
    return result;
  }

  describe("recording a message once", () => {
    it("makes one thread and one turn of 20 deliveries of the same event at once", async () => {
      const thread = newThread();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).createThreadWithTurn(thread, turn, {
            dedupeKeys: ["event:Ev1", "message:C1:1760000000.000001"],
            now: T0 + i,
          }),
        ),
      );
      expect(results.filter((result) => typeof result === "object")).toHaveLength(1);
      expect(results.filter((result) => result === "duplicate")).toHaveLength(19);
      expect(await count("threads")).toBe(1);
      expect(await count("turns")).toBe(1);
    });

    it("makes one thread of 10 different events for the same Slack thread, and gives the others' keys back", async () => {
      const thread = newThread();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? a : b).createThreadWithTurn(thread, turn, { dedupeKeys: [`event:Ev${i}`], now: T0 }),
        ),
      );
      const winner = results.findIndex((result) => typeof result === "object");
      expect(results.filter((result) => result === "thread_exists")).toHaveLength(9);
      expect(await count("turns")).toBe(1);
      for (let i = 0; i < 10; i++)
        expect(await a.claimDeliveries([`event:Ev${i}`], T0 + 1)).toBe(i !== winner);
    });
  });

  describe("leases", () => {
    it("gives a free thread to exactly one of two replicas asking at once", async () => {
      const threads = await Promise.all(Array.from({ length: 20 }, () => created(a)));
      for (const { thread } of threads) {
        const [fromA, fromB] = await Promise.all([
          a.acquireLease(thread.id, "replica-a", T0, TTL),
          b.acquireLease(thread.id, "replica-b", T0, TTL),
        ]);
        expect([fromA, fromB].filter(Boolean)).toHaveLength(1);
      }
    });

    it("lets exactly one of two replicas take over a lapsed lease", async () => {
      const { thread } = await created(a);
      await a.acquireLease(thread.id, "crashed", T0, TTL);
      const takeovers = await Promise.all(
        ["replica-a", "replica-b", "replica-a", "replica-b"].map((owner, i) =>
          (i % 2 === 0 ? a : b).acquireLease(thread.id, owner, T0 + TTL, TTL),
        ),
      );
      const won = takeovers.filter((lease) => lease !== undefined);
      // The winner may be asked twice (the second time renews, same token): still one owner.
      expect(new Set(won.map((lease) => lease.owner)).size).toBe(1);
      expect(new Set(won.map((lease) => lease.token)).size).toBe(1);
      expect(won[0]?.takenFrom).toBe("crashed");
    });
  });

  describe("a fenced write racing a takeover", () => {
    /** Takes the lease over in a transaction left open, as a replica whose commit is slow would. */
    async function slowTakeover(threadId: number, commitWhen: () => Promise<void>) {
      await withAdmin(async (client) => {
        await client.query("BEGIN");
        await client.query(
          "UPDATE threads SET lease_owner = 'replica-b', lease_token = lease_token + 1, lease_expires_at = $2 WHERE id = $1",
          [threadId, T0 + 2 * TTL],
        );
        await commitWhen();
        await client.query("COMMIT");
      }, stores.database.url);
    }

    for (const kind of ["updateThread", "updateTurns", "moveTurns", "deleteThread"] as const) {
      it(`holds ${kind} back until the takeover commits, then refuses it and changes nothing`, async () => {
        const { thread, turn: first } = await created(a);
        const other = await created(a);
        const lease = await a.acquireLease(thread.id, "replica-a", T0, TTL);
        const fence: LeaseRef = { threadId: thread.id, owner: "replica-a", token: lease!.token };
        const write = {
          updateThread: () => a.updateThread(thread.id, { turnCount: 9 }, fence),
          updateTurns: () => a.updateTurns([first.id], { state: "done" }, fence),
          moveTurns: () => a.moveTurns([first.id], other.thread.id, fence),
          deleteThread: () => a.deleteThread(thread.id, fence),
        }[kind];
        const snapshot = async () => ({
          thread: await a.getThreadById(thread.id),
          turns: [...(await a.listTurns(thread.id)), ...(await a.listTurns(other.thread.id))],
        });
        const before = await snapshot();

        let settled = false;
        let outcome: Promise<unknown> = Promise.resolve();
        await slowTakeover(thread.id, async () => {
          outcome = write().finally(() => {
            settled = true;
          });
          outcome.catch(() => {}); // awaited below, once the takeover committed
          await new Promise((resolve) => setTimeout(resolve, 100));
          // Stuck behind the takeover's row lock: it has neither landed nor been refused yet.
          expect(settled).toBe(false);
        });
        await expect(outcome).rejects.toBeInstanceOf(LeaseLostError);
        expect(await snapshot()).toStrictEqual(before);
      });
    }

    it("lets no write of the old holder land after the takeover has answered", async () => {
      const rounds = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const { thread } = await created(a);
          const lease = await a.acquireLease(thread.id, "replica-a", T0, TTL);
          const fence: LeaseRef = { threadId: thread.id, owner: "replica-a", token: lease!.token };
          // The old holder keeps writing until it is told it lost the lease.
          const writer = (async () => {
            for (let i = 1; ; i++) {
              try {
                await a.updateThread(thread.id, { turnCount: i }, fence);
              } catch (error) {
                if (error instanceof LeaseLostError) return i;
                throw error;
              }
            }
          })();
          await new Promise((resolve) => setTimeout(resolve, 5));
          const takeover = await b.acquireLease(thread.id, "replica-b", T0 + TTL, TTL);
          const seenByNewHolder = await b.getThreadById(thread.id);
          await writer;
          return { takeover, seenByNewHolder, final: await b.getThreadById(thread.id) };
        }),
      );
      for (const { takeover, seenByNewHolder, final } of rounds) {
        expect(takeover?.takenFrom).toBe("replica-a");
        expect(final).toStrictEqual(seenByNewHolder);
      }
    });
  });

  it("migrates a new database once when three replicas open it at the same moment", async () => {
    const database = await freshPostgresDatabase();
    try {
      const three = await Promise.all([1, 2, 3].map(() => createPostgresStore({ url: database.url })));
      await Promise.all(three.map((store) => store.close()));
      const rows = await withAdmin(
        async (client) => (await client.query("SELECT version FROM schema_migrations ORDER BY version")).rows,
        database.url,
      );
      expect(rows).toEqual(MIGRATIONS.map(({ version }) => ({ version })));
    } finally {
      await database.drop();
    }
  });

  describe("wake-ups", () => {
    it("reach the listeners of every replica, the sender's too", async () => {
      const heardByA: number[] = [];
      const heardByB: number[] = [];
      a.onWake((threadId) => heardByA.push(threadId));
      b.onWake((threadId) => heardByB.push(threadId));
      await Promise.all([a.listening(), b.listening()]);
      await a.wake(41);
      await b.wake(42);
      await vi.waitFor(() => {
        expect(heardByA).toEqual([41, 42]);
        expect(heardByB).toEqual([41, 42]);
      });
    });
  });
});
