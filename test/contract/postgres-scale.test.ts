/**
 * Lookups stay index lookups when the store is big: 100,000 threads (what the benchmark seeds) and
 * many finished turns. Checks the query plans, and that one getThread takes well under a
 * millisecond on a local server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewThread } from "../../src/drafting/store.ts";
import { QUERIES } from "../../src/store/postgres/queries.ts";
import type { PostgresStore } from "../../src/store/postgres/store.ts";
import { withAdmin } from "../support/postgres.ts";
import { type OpenedPostgresStores, usePostgresStores } from "../support/postgres-store.ts";

const COUNT = 100_000;
const stores = usePostgresStores();
const report = (line: string) => {
  if (process.env.TEST_POSTGRES_VERBOSE) console.log(line);
};

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

describe(`PostgreSQL store with ${COUNT.toLocaleString("en")} threads`, () => {
  let opened: OpenedPostgresStores;
  let store: PostgresStore;
  const threads = manyThreads(COUNT);

  beforeAll(async () => {
    opened = await stores.open();
    store = opened.store;
    const started = performance.now();
    await store.insertThreadsForBench(threads, 1);
    report(`insertThreadsForBench(${COUNT}): ${Math.round(performance.now() - started)} ms`);
    // Finished turns pile up in a long-lived database; a few stay open.
    await withAdmin(async (client) => {
      await client.query(
        "INSERT INTO turns (thread_id, kind, state, text, author_id, created_at) " +
          "SELECT id, 'chat', 'done', 'shorter', 'U1', 1 FROM threads WHERE id % 2 = 0",
      );
      await client.query(
        "INSERT INTO turns (thread_id, kind, state, text, author_id, created_at) " +
          "SELECT id, 'chat', 'pending', 'warmer', 'U1', 1 FROM threads WHERE id % 10000 = 1",
      );
      await client.query("ANALYZE turns");
    }, stores.database.url);
  }, 60_000);

  afterAll(async () => {
    await opened?.cleanup();
  });

  /** The plan PostgreSQL picks, for the values given and for any values (a reused prepared statement). */
  async function plans(sql: string, values: (string | number)[]): Promise<string[]> {
    return withAdmin(async (client) => {
      // EXPLAIN EXECUTE takes no bind parameters: the test's own constants go in as literals.
      const literals = values.map((value) =>
        typeof value === "number" ? String(value) : client.escapeLiteral(value),
      );
      const explain = async () =>
        (
          await client.query<{ "QUERY PLAN": string }>(
            `EXPLAIN EXECUTE probe${literals.length ? `(${literals})` : ""}`,
          )
        ).rows
          .map((row) => row["QUERY PLAN"])
          .join("\n");
      await client.query(`PREPARE probe AS ${sql}`);
      await client.query("SET plan_cache_mode = force_custom_plan");
      const custom = await explain();
      await client.query("SET plan_cache_mode = force_generic_plan");
      return [custom, await explain()];
    }, stores.database.url);
  }

  it("finds one thread by ref and by session", async () => {
    const wanted = threads[12_345]!;
    expect(await store.getThread(wanted)).toMatchObject({
      threadTs: wanted.threadTs,
      sessionId: "sess-12345",
    });
    expect((await store.getThreadBySession("sess-12345"))?.threadTs).toBe(wanted.threadTs);
  });

  it("answers every lookup from an index, never by scanning a table", async () => {
    const wanted = threads[54_321]!;
    for (const plan of await plans(QUERIES.threadByRef.text, [
      wanted.teamId,
      wanted.channelId,
      wanted.threadTs,
    ]))
      expect(plan).toMatch(/Index Scan using threads_ref on threads/);
    for (const plan of await plans(QUERIES.threadBySession.text, ["sess-54321"]))
      expect(plan).toMatch(/Index Scan using threads_session on threads/);
    for (const plan of await plans(QUERIES.threadById.text, [54_321]))
      expect(plan).toMatch(/Index Scan using threads_pkey on threads/);
    for (const plan of await plans(QUERIES.turnsOfThread.text, [2]))
      expect(plan).toMatch(
        /Index Scan using turns_thread_state on turns|Bitmap Index Scan on turns_thread_state/,
      );
    // The sweep and the resume query read only the few open turns (the partial index), however many finished.
    for (const plan of await plans(QUERIES.threadsWithoutDriver.text, [1, 100])) {
      expect(plan).toMatch(/turns_open/);
      expect(plan).not.toMatch(/Seq Scan on turns/);
    }
    for (const plan of await plans(QUERIES.threadsWithOpenTurns.text, [])) expect(plan).toMatch(/turns_open/);
    expect(await store.threadsWithoutDriver(1, 100)).toHaveLength(COUNT / 10_000);
  });

  // A timed test on a machine shared with the rest of the suite (and maybe other work): after a
  // warm-up, up to three tries of 2,000 calls, each timed next to a bare round trip ("SELECT 1" on a
  // connection of its own). It passes on a try whose p99 is under 1 ms. When the machine is so busy that
  // no try gets there, the lookups' p99 must stay within the round trips' (an index lookup costs next
  // to nothing beyond the trip; a table scan would not), and their median under 1 ms in any case.
  it("answers 2,000 random getThread calls with a p99 under 1 ms", async () => {
    const pick = () => threads[Math.floor(Math.random() * COUNT)]!;
    for (let i = 0; i < 2_000; i++) await store.getThread(pick());
    const tries: string[] = [];
    let best = { p50: Number.POSITIVE_INFINITY, p99: Number.POSITIVE_INFINITY, tripP99: 0 };
    await withAdmin(async (client) => {
      const roundTrip = () => client.query({ name: "round_trip", text: "SELECT 1" });
      for (let attempt = 0; attempt < 3 && best.p99 >= 1; attempt++) {
        const lookups: number[] = [];
        const trips: number[] = [];
        for (let i = 0; i < 2_000; i++) {
          const ref = pick();
          let started = performance.now();
          const found = await store.getThread(ref);
          lookups.push(performance.now() - started);
          if (found?.threadTs !== ref.threadTs) throw new Error(`lookup ${i} found the wrong thread`);
          started = performance.now();
          await roundTrip();
          trips.push(performance.now() - started);
        }
        const [p50, p99, max] = [0.5, 0.99, 1].map((q) => quantile(lookups, q)) as [number, number, number];
        const tripP99 = quantile(trips, 0.99);
        tries.push(
          `getThread p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${max.toFixed(3)} ms ` +
            `(round trip p99 ${tripP99.toFixed(3)} ms)`,
        );
        if (p99 < best.p99) best = { p50, p99, tripP99 };
      }
    }, stores.database.url);
    report(`among ${COUNT} threads: ${tries.join("; ")}`);
    const why = tries.join("; ");
    expect(best.p50, why).toBeLessThan(1);
    if (best.p99 >= 1) expect(best.p99, why).toBeLessThan(1.5 * best.tripP99 + 0.25);
  });
});

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
