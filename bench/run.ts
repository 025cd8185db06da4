import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmulator } from "../emulator/server.ts";
import { startFakeSlack } from "../test/support/fake-slack.ts";
import { fakesEnv } from "../test/support/harness.ts";
import { percentile, quick, round } from "./common.ts";
import { benchAck } from "./sections/ack.ts";
import { benchFinishToCard, type LatencyMode } from "./sections/card.ts";
import { benchInFlight } from "./sections/flight.ts";
import { benchLookup } from "./sections/lookup.ts";
import { benchRestart, type RestartResult } from "./sections/restart.ts";

/**
 * `npm run bench`: the real bot (in a child process, so its memory and event-loop lag are its
 * own) over signed HTTP, against the fake Slack Web API and the Puffle emulator in this process.
 * Prints a table and writes bench/results.json. Measures the SPEC section 6 targets.
 */

/** `--only=ack,card,flight,lookup,restart` runs a subset (for investigating one number). */
const only = new Set(
  (
    process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ??
    "ack,card,flight,lookup,restart"
  ).split(","),
);
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, quick };

async function main() {
  const slack = await startFakeSlack();
  const emulator = await startEmulator({
    taskDelayMs: 3000,
    taskJitterMs: 3000,
    realtimeHoldMs: 20_000,
    // The card and flight sections measure the status-message path: runs that stream their replies
    // make turn 1's answer a streamed message instead of an edit of the status message.
    streams: false,
    seed: 7,
  });
  try {
    if (only.has("ack")) {
      console.log("ack latency (events at 50/s)...");
      results.ack = await benchAck(slack, emulator);
    }
    if (only.has("card")) {
      console.log("task finished -> card in Slack, three ways...");
      const modes: LatencyMode[] = [
        { name: "realtime", env: {} },
        { name: "polling", env: { TRIGGER_API_URL: "off" } },
        { name: "fixed-2s", env: { TRIGGER_API_URL: "off", BENCH_POLL_MODE: "fixed" } },
      ];
      const latency = [];
      for (const mode of modes) {
        console.log(`    ${mode.name}...`);
        latency.push(await benchFinishToCard(slack, emulator, mode));
      }
      results.finishToCard = latency;
    }
    if (only.has("flight")) {
      console.log("turns in flight...");
      results.inFlight = await benchInFlight(slack, emulator);
    }
    if (only.has("lookup")) {
      console.log("thread lookup...");
      results.lookup = await benchLookup();
    }
    if (only.has("restart")) {
      console.log("SIGKILL -> ready again under a supervisor...");
      results.restart = await benchRestart(
        { ...fakesEnv(slack, emulator), TRIGGER_API_URL: "off" },
        { kills: quick ? 5 : 12, percentile },
      );
    }
  } finally {
    await emulator.close();
    await slack.close();
  }
  report();
}

function report() {
  type Row = [name: string, value: string, target: string, ok: boolean];
  const rows: Row[] = [];
  const ack = results.ack as Awaited<ReturnType<typeof benchAck>> | undefined;
  if (ack) {
    rows.push([
      "ack latency p50 / p99",
      `${ack.p50Ms} / ${ack.p99Ms} ms (${ack.events} events at ${ack.achievedRate}/s)`,
      "p99 < 50 ms",
      ack.p99Ms < 50,
    ]);
  }
  const latency = results.finishToCard as Awaited<ReturnType<typeof benchFinishToCard>>[] | undefined;
  if (latency) {
    const [realtime, polling, baseline] = latency;
    const ratio = polling && baseline ? polling.cardP50Ms / baseline.cardP50Ms : Number.NaN;
    results.pollingToBaselineRatio = round(ratio, 2);
    rows.push(
      [
        "finish -> card, realtime p50 / p95",
        `${realtime?.cardP50Ms} / ${realtime?.cardP95Ms} ms`,
        "p50 < 300 ms",
        (realtime?.cardP50Ms ?? Number.POSITIVE_INFINITY) < 300,
      ],
      ["finish -> card, polling p50 / p95", `${polling?.cardP50Ms} / ${polling?.cardP95Ms} ms`, "", true],
      ["finish -> card, fixed 2 s p50 / p95", `${baseline?.cardP50Ms} / ${baseline?.cardP95Ms} ms`, "", true],
      ["polling / fixed 2 s (p50)", `${round(ratio, 2)}`, "<= 0.6", ratio <= 0.6],
    );
    for (const m of latency) {
      rows.push([
        `Slack calls per turn (${m.mode})`,
        `${m.slackCallsPerTurn} (chat.* ${m.slackChatCallsPerTurn})`,
        "<= 4",
        m.slackCallsPerTurn <= 4,
      ]);
    }
    for (const m of latency)
      rows.push([`Puffle session GETs per turn (${m.mode})`, `${m.puffleSessionGetsPerTurn}`, "", true]);
  }
  const flight = results.inFlight as Awaited<ReturnType<typeof benchInFlight>> | undefined;
  if (flight) {
    rows.push(
      [
        `${flight.turnsInFlight} turns in flight: RSS (peak; idle ${flight.idleRssMb})`,
        `${flight.rssMb} MB (${flight.peakRssMb} MB)`,
        "< 200 MB",
        flight.peakRssMb < 200,
      ],
      [
        `${flight.turnsInFlight} turns in flight: event-loop lag p99`,
        `${flight.lagP99Ms} ms (max ${flight.lagMaxMs})`,
        "< 50 ms",
        flight.lagP99Ms < 50,
      ],
    );
  }
  const lookup = results.lookup as Awaited<ReturnType<typeof benchLookup>> | undefined;
  if (lookup) {
    rows.push([
      `thread lookup, ${lookup.storedThreads} stored: p50 / p99`,
      `${lookup.p50Us} / ${lookup.p99Us} µs`,
      "< 1 ms",
      lookup.p99Us < 1000,
    ]);
  }
  const restart = results.restart as RestartResult | undefined;
  if (restart) {
    rows.push([
      `SIGKILL -> /readyz 200 (npm start, ${restart.kills} kills): p50 / p95`,
      `${restart.p50Ms} / ${restart.p95Ms} ms`,
      "p50 <= 2 s",
      restart.p50Ms <= 2000,
    ]);
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  console.log("");
  for (const [name, value, target, ok] of rows) {
    console.log(
      `${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${target ? `${ok ? "ok  " : "MISS"} ${target}` : ""}`,
    );
  }
  const file = join(process.cwd(), "bench", "results.json");
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
