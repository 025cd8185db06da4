import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startBot } from "../src/bot.ts";
import { parseConfig } from "../src/config.ts";
import { createLogger } from "../src/logger.ts";

/**
 * The bot under measurement, in a process of its own so that its memory and event-loop lag are
 * its own (the fakes run in the parent). Configured from the environment like `npm start`;
 * answers the parent over IPC.
 */
type Command = { cmd: "metrics" } | { cmd: "reset" } | { cmd: "stop" } | { cmd: "live" };

async function main() {
  const config = parseConfig(process.env);
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.slack.botToken, config.slack.signingSecret, config.puffle.apiKey],
    destination: process.stderr,
  });
  const bot = await startBot(config, {
    logger,
    pollMode: process.env.BENCH_POLL_MODE === "fixed" ? "fixed" : "learned",
  });
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);

  process.on("message", async (message: Command) => {
    if (message.cmd === "reset") {
      lag.reset();
      peakRss = process.memoryUsage().rss;
      process.send?.({ reset: true });
    } else if (message.cmd === "metrics") {
      const memory = process.memoryUsage();
      process.send?.({
        metrics: {
          rssMb: memory.rss / 2 ** 20,
          peakRssMb: Math.max(peakRss, memory.rss) / 2 ** 20,
          heapUsedMb: memory.heapUsed / 2 ** 20,
          lagP50Ms: lag.percentile(50) / 1e6,
          lagP99Ms: lag.percentile(99) / 1e6,
          lagMaxMs: lag.max / 1e6,
        },
      });
    } else if (message.cmd === "live") {
      // Live memory: what survives a full collection (needs --expose-gc).
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const memory = process.memoryUsage();
      process.send?.({
        live: {
          heapUsedMb: memory.heapUsed / 2 ** 20,
          heapTotalMb: memory.heapTotal / 2 ** 20,
          externalMb: memory.external / 2 ** 20,
          arrayBuffersMb: memory.arrayBuffers / 2 ** 20,
          rssMb: memory.rss / 2 ** 20,
          handles: (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length,
          residentByKind: memoryMap(),
          collected: Boolean(gc),
        },
      });
    } else if (message.cmd === "stop") {
      clearInterval(sampler);
      await bot.stop();
      process.exit(0);
    }
  });
  process.send?.({ ready: true, port: bot.port, replicaId: bot.replicaId });
}

main().catch((error: unknown) => {
  process.stderr.write(`bot child failed: ${(error as Error).stack}\n`);
  process.exit(1);
});

/** Resident memory by kind of mapping (Linux only): what RSS is made of. */
function memoryMap(): Record<string, number> {
  try {
    const lines = readFileSync("/proc/self/smaps", "utf8").split("\n");
    const totals: Record<string, number> = {};
    let kind = "anon";
    for (const line of lines) {
      const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (header) {
        const path = header[1] ?? "";
        kind =
          path === ""
            ? "anonMb"
            : path === "[heap]"
              ? "mallocHeapMb"
              : path.endsWith(".node")
                ? "nativeAddonsMb"
                : path.startsWith("/")
                  ? "filesMb"
                  : "otherMb";
        continue;
      }
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss) totals[kind] = (totals[kind] ?? 0) + Number(rss[1]) / 1024;
    }
    return totals;
  } catch {
    return {};
  }
}
