import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEED } from "../../emulator/seed.ts";
import type { NewThread } from "../../src/drafting/store.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { percentile, round } from "../common.ts";

export function benchLookup() {
  const stored = 100_000;
  const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "bench-lookup-")), "lookup.db")}`;
  const store = createSqliteStore({ url });
  const threads: NewThread[] = Array.from({ length: stored }, (_, i) => ({
    teamId: "T0BENCH",
    channelId: `C${String(i % 400).padStart(6, "0")}`,
    threadTs: `17${String(i).padStart(8, "0")}.000100`,
    campaignId: SEED.draftCampaign.id,
    nodeId: SEED.draftCampaign.emailNodeId,
    sessionId: `session-${i}`,
    startedBy: "U0BENCH",
  }));
  store.insertThreadsForBench(threads, Date.now());
  return (async () => {
    const timings: number[] = [];
    let found = 0;
    for (let n = 0; n < 20_000; n++) {
      const i = Math.floor(Math.random() * stored);
      const started = performance.now();
      const thread = await store.getThread({
        teamId: "T0BENCH",
        channelId: `C${String(i % 400).padStart(6, "0")}`,
        threadTs: `17${String(i).padStart(8, "0")}.000100`,
      });
      timings.push(performance.now() - started);
      if (thread) found++;
    }
    await store.close();
    return {
      storedThreads: stored,
      lookups: timings.length,
      found,
      p50Us: round(percentile(timings, 50) * 1000, 1),
      p99Us: round(percentile(timings, 99) * 1000, 1),
      maxUs: round(Math.max(...timings) * 1000, 1),
    };
  })();
}
