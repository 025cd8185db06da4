import pg from "pg";
import { SEED } from "../../emulator/seed.ts";
import type { NewThread } from "../../src/drafting/store.ts";
import { createPostgresStore } from "../../src/store/postgres/store.ts";
import { percentile, round } from "../common.ts";
import { type BenchPostgres, freshDatabase } from "../postgres.ts";

/**
 * The lookup section on PostgreSQL: 100,000 stored threads (bulk-inserted), then random lookups by
 * (team, channel, thread ts) through the store the bot uses, over its connection pool. Each timing is
 * one round trip to the server on loopback.
 */
export async function benchPgLookup(server: BenchPostgres) {
  const stored = 100_000;
  const lookups = 20_000;
  const database = await freshDatabase(server, "lookup");
  const store = await createPostgresStore({ url: database.url });
  try {
    const threads: NewThread[] = Array.from({ length: stored }, (_, i) => ({
      teamId: "T0BENCH",
      channelId: `C${String(i % 400).padStart(6, "0")}`,
      threadTs: `17${String(i).padStart(8, "0")}.000100`,
      campaignId: SEED.draftCampaign.id,
      nodeId: SEED.draftCampaign.emailNodeId,
      sessionId: `session-${i}`,
      startedBy: "U0BENCH",
    }));
    const insertStarted = performance.now();
    await store.insertThreadsForBench(threads, Date.now());
    const insertSeconds = (performance.now() - insertStarted) / 1000;
    // The table at rest, as autovacuum leaves a running bot's: statistics for the planner, visibility map.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query("VACUUM ANALYZE threads");
    await admin.end();
    const keyOf = (i: number) => ({
      teamId: "T0BENCH",
      channelId: `C${String(i % 400).padStart(6, "0")}`,
      threadTs: `17${String(i).padStart(8, "0")}.000100`,
    });
    // Warm the pool's connections and their prepared statement, as a running bot has them.
    for (let n = 0; n < 200; n++) await store.getThread(keyOf(n));
    const timings: number[] = [];
    let found = 0;
    for (let n = 0; n < lookups; n++) {
      const key = keyOf(Math.floor(Math.random() * stored));
      const started = performance.now();
      const thread = await store.getThread(key);
      timings.push(performance.now() - started);
      if (thread) found++;
    }
    return {
      storedThreads: stored,
      insertSeconds: round(insertSeconds),
      lookups: timings.length,
      found,
      p50Us: round(percentile(timings, 50) * 1000, 1),
      p99Us: round(percentile(timings, 99) * 1000, 1),
      maxUs: round(Math.max(...timings) * 1000, 1),
    };
  } finally {
    await store.close();
    await database.drop();
  }
}
