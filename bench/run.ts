import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../emulator/server.ts";
import { startFakeSlack } from "../test/support/fake-slack.ts";
import { fakesEnv } from "../test/support/harness.ts";
import { percentile, quick, round } from "./common.ts";
import { type BenchPostgres, startBenchPostgres } from "./postgres.ts";
import { benchAck } from "./sections/ack.ts";
import { benchBudget } from "./sections/budget.ts";
import { benchFinishToCard, type LatencyMode } from "./sections/card.ts";
import { benchInFlight } from "./sections/flight.ts";
import { benchLookup } from "./sections/lookup.ts";
import { benchPgLookup } from "./sections/pg-lookup.ts";
import { benchReplicas } from "./sections/replicas.ts";
import { benchRestart, type RestartResult } from "./sections/restart.ts";
import { benchSlackCalls } from "./sections/slack-calls.ts";
import { benchStreaming } from "./sections/streaming.ts";
import { benchTakeover } from "./sections/takeover.ts";

/**
 * `npm run bench`: the real bot (in a child process, so its memory and event-loop lag are its
 * own) over signed HTTP, against the fake Slack Web API and the Puffle emulator in this process.
 * Prints a table and writes bench/results.json. Measures the SPEC section 6 targets.
 */

/** Every section, in the order they run; `--only=card,streaming` runs a subset (for investigating one number). */
const SECTIONS = [
  "ack",
  "card",
  "slack-calls",
  "streaming",
  "flight",
  "lookup",
  "pg-lookup",
  "replicas",
  "takeover",
  "restart",
  "budget",
];
const only = new Set(
  (process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? SECTIONS.join(",")).split(
    ",",
  ),
);
const unknown = [...only].filter((name) => !SECTIONS.includes(name));
if (unknown.length > 0) {
  console.error(`bench: unknown section(s) ${unknown.join(", ")}; the sections are ${SECTIONS.join(", ")}`);
  process.exit(2);
}
/** PostgreSQL for the sections that need it: BENCH_POSTGRES_URL, TEST_POSTGRES_URL, else an embedded one. */
const needsPostgres = ["pg-lookup", "replicas", "takeover"].some((name) => only.has(name));
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  quick,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30) },
};
/** The 1-minute load average as each section starts: the machine may be shared, and the numbers say so. */
const loadAtStart: Record<string, number> = {};
const mark = (section: string) => {
  loadAtStart[section] = round(loadavg()[0] ?? 0, 2);
};

async function main() {
  const slack = await startFakeSlack();
  const emulator = await startEmulator({
    taskDelayMs: 3000,
    taskJitterMs: 3000,
    realtimeHoldMs: 20_000,
    // The card, flight and ack sections measure the status-message path; the streaming section
    // starts an emulator of its own whose runs stream their replies.
    streams: false,
    seed: 7,
  });
  let postgres: BenchPostgres | undefined;
  const pgServer = async () => {
    postgres ??= await startBenchPostgres();
    results.postgres = postgres.source;
    return postgres;
  };
  try {
    if (needsPostgres) console.log(`PostgreSQL: ${(await pgServer()).source}`);
    if (only.has("ack")) {
      mark("ack");
      console.log("ack latency (events at 50/s)...");
      results.ack = await benchAck(slack, emulator);
    }
    if (only.has("card")) {
      mark("card");
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
    if (only.has("slack-calls")) {
      mark("slack-calls");
      console.log("Slack calls per ordinary turn (4-turn conversations)...");
      results.slackCalls = await benchSlackCalls(slack, emulator);
    }
    if (only.has("streaming")) {
      mark("streaming");
      console.log("streamed replies (realtime streams, 80-word replies), then the same without...");
      results.streaming = await benchStreaming(slack);
    }
    if (only.has("flight")) {
      mark("flight");
      console.log("turns in flight...");
      results.inFlight = await benchInFlight(slack, emulator);
    }
    if (only.has("lookup")) {
      mark("lookup");
      console.log("thread lookup...");
      results.lookup = await benchLookup();
    }
    if (only.has("pg-lookup")) {
      mark("pg-lookup");
      console.log("thread lookup on PostgreSQL...");
      results.pgLookup = await benchPgLookup(await pgServer());
    }
    if (only.has("replicas")) {
      mark("replicas");
      console.log("1 process on SQLite vs 2 replicas on PostgreSQL, same load...");
      results.replicas = await benchReplicas(slack, emulator, await pgServer());
    }
    if (only.has("takeover")) {
      mark("takeover");
      console.log("SIGKILL of the replica driving a turn -> the other shows its result...");
      results.takeover = await benchTakeover(slack, emulator, await pgServer());
    }
    if (only.has("restart")) {
      mark("restart");
      console.log("SIGKILL -> ready again under a supervisor...");
      results.restart = await benchRestart(
        { ...fakesEnv(slack, emulator), TRIGGER_API_URL: "off" },
        { kills: quick ? 5 : 12, percentile },
      );
    }
    if (only.has("budget")) {
      mark("budget");
      console.log(
        "Puffle request budget: 1,000 turns in flight, realtime off (two runs of a fixed window)...",
      );
      results.budget = await benchBudget(slack);
    }
  } finally {
    await emulator.close();
    await slack.close();
    await postgres?.stop();
  }
  results.loadAverageAtSectionStart = loadAtStart;
  results.loadAverageAtEnd = round(loadavg()[0] ?? 0, 2);
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
    if (polling && baseline)
      rows.push([
        "Puffle GETs per turn, learned polling vs fixed 2 s",
        `${polling.puffleSessionGetsPerTurn} vs ${baseline.puffleSessionGetsPerTurn}`,
        "<= fixed 2 s",
        polling.puffleSessionGetsPerTurn <= baseline.puffleSessionGetsPerTurn,
      ]);
  }
  const calls = results.slackCalls as Awaited<ReturnType<typeof benchSlackCalls>> | undefined;
  if (calls) {
    rows.push(
      [
        `Slack calls per ordinary turn (${calls.threads} x 4-turn conversations)`,
        `${calls.callsPerTurn} (chat.* ${calls.chatCallsPerTurn}; turns 1-4: ${calls.byTurnIndexPerThread.join(" / ")})`,
        "<= 4",
        calls.callsPerTurn <= 4,
      ],
      [
        "  of which assistant.threads.setStatus per turn",
        `${calls.byMethodPerTurn["assistant.threads.setStatus"] ?? 0} (without it: ${calls.callsPerTurnWithoutThreadStatus})`,
        "",
        true,
      ],
    );
  }
  const streaming = results.streaming as Awaited<ReturnType<typeof benchStreaming>> | undefined;
  if (streaming) {
    const { streamed, notStreamed } = streaming;
    rows.push(
      [
        `streaming: first chunk -> first text in Slack p50 / p95 (${streamed.streamedTurns}/${streamed.turns} turns)`,
        `${streamed.firstChunkToTextP50Ms} / ${streamed.firstChunkToTextP95Ms} ms`,
        "p50 < 500 ms",
        (streamed.firstChunkToTextP50Ms ?? Number.POSITIVE_INFINITY) < 500,
      ],
      [
        `Slack calls per streamed turn (${streaming.replyWords}-word replies)`,
        `${streamed.slackCallsPerTurn} (appends ${round((streamed.slackCallsByMethod["chat.appendStream"] ?? 0) / streamed.turns, 2)}; not streamed ${notStreamed.slackCallsPerTurn})`,
        "<= 4",
        streamed.slackCallsPerTurn <= 4,
      ],
      [
        "finish -> card p50, streamed vs not (same load)",
        `${streamed.cardP50Ms} vs ${notStreamed.cardP50Ms} ms (p95 ${streamed.cardP95Ms} vs ${notStreamed.cardP95Ms}; ` +
          `card section, realtime: ${latency?.[0]?.cardP50Ms ?? "not run"} ms; stream fallbacks ${streamed.streamFallbacks})`,
        "",
        true,
      ],
    );
  }
  const flight = results.inFlight as Awaited<ReturnType<typeof benchInFlight>> | undefined;
  if (flight) {
    rows.push(
      [
        `${flight.turnsInFlight} turns in flight: RSS (peak; idle ${flight.idleRssMb})`,
        `${flight.rssMb} MB (${flight.peakRssMb} MB)`,
        "peak < 180 MB",
        flight.peakRssMb < 180,
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
  const pgLookup = results.pgLookup as Awaited<ReturnType<typeof benchPgLookup>> | undefined;
  if (pgLookup) {
    rows.push([
      `thread lookup on PostgreSQL, ${pgLookup.storedThreads} stored: p50 / p99`,
      `${pgLookup.p50Us} / ${pgLookup.p99Us} µs`,
      "< 1 ms",
      pgLookup.p99Us < 1000,
    ]);
  }
  const replicas = results.replicas as Awaited<ReturnType<typeof benchReplicas>> | undefined;
  if (replicas) {
    const { sqlite, postgres } = replicas;
    rows.push(
      [
        "ack p50 / p99, 1 process on SQLite (under load)",
        `${sqlite.ackP50Ms} / ${sqlite.ackP99Ms} ms (${sqlite.events} events at ${sqlite.achievedRate}/s)`,
        "p99 < 50 ms",
        sqlite.ackP99Ms < 50,
      ],
      [
        "ack p50 / p99, 2 replicas on PostgreSQL",
        `${postgres.ackP50Ms} / ${postgres.ackP99Ms} ms (${postgres.events} events at ${postgres.achievedRate}/s; one commit ${replicas.commitP50Ms} / ${replicas.commitP99Ms} ms)`,
        "p99 < 50 ms",
        postgres.ackP99Ms < 50,
      ],
      [
        "finish -> card p50 / p95, 1 process on SQLite",
        `${sqlite.cardP50Ms} / ${sqlite.cardP95Ms} ms (${sqlite.turns} turns)`,
        "",
        true,
      ],
      [
        "finish -> card p50 / p95, 2 replicas on PostgreSQL",
        `${postgres.cardP50Ms} / ${postgres.cardP95Ms} ms (${replicas.cardRatio}x SQLite)`,
        "p50 <= 1.5x SQLite",
        replicas.cardRatio <= 1.5,
      ],
    );
  }
  const takeover = results.takeover as Awaited<ReturnType<typeof benchTakeover>> | undefined;
  if (takeover) {
    rows.push([
      `SIGKILL driver -> result by the other replica (${takeover.kills} kills, ${takeover.samples} turns): p50 / p95`,
      `${takeover.p50Ms} / ${takeover.p95Ms} ms (max ${takeover.maxMs}; LEASE_TTL_MS ${takeover.leaseTtlMs})`,
      `p95 <= ${takeover.boundMs} ms`,
      takeover.p95Ms <= takeover.boundMs && takeover.answersShownOtherThanOnce === 0,
    ]);
  }
  const budget = results.budget as Awaited<ReturnType<typeof benchBudget>> | undefined;
  if (budget) {
    const [limited, storm] = budget.runs;
    if (limited)
      rows.push([
        `budget, PUFFLE_MAX_RPM=100, ${budget.turns} turns: most requests in a sliding minute`,
        `${limited.maxPerSlidingMinute} (per minute ${limited.perCalendarMinute.join(", ")}; ${budgetMix(limited)})`,
        "<= 100",
        limited.maxPerSlidingMinute <= 100,
      ]);
    if (storm)
      rows.push([
        "budget, 429 storm (bot 200/min, Puffle 429 above 100/min): requests in a sliding minute",
        `${storm.maxPerSlidingMinute} (${storm.refused429} refused with 429; per minute ${storm.perCalendarMinute.join(", ")}; ${budgetMix(storm)})`,
        "<= 200, no more than without 429s",
        storm.maxPerSlidingMinute <= 200,
      ]);
  }
  const restart = results.restart as RestartResult | undefined;
  function budgetMix(run: Awaited<ReturnType<typeof benchBudget>>["runs"][number]) {
    const routes = run.requestsByRoute;
    return (
      `${routes["sessions.create"] ?? 0} creates, ${routes["sessions.turn"] ?? 0} turns sent, ` +
      `${routes["sessions.get"] ?? 0} reads; ${run.tasksCompleted} tasks done at Puffle, ` +
      `${run.turnsShown} turns shown in ${run.windowSeconds} s`
    );
  }
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
  console.log(
    `\nload average (1 min, ${cpus().length} cores) as each section started: ` +
      `${Object.entries(loadAtStart)
        .map(([name, load]) => `${name} ${load}`)
        .join(", ")}; at the end ${results.loadAverageAtEnd}` +
      (results.postgres ? `\nPostgreSQL: ${results.postgres}` : ""),
  );
  if (reportFrom) return;
  const file = join(process.cwd(), "bench", "results.json");
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

/** `--report-from=bench/results.json` prints the table of an earlier run again, measuring nothing. */
const reportFrom = process.argv.find((a) => a.startsWith("--report-from="))?.slice("--report-from=".length);
if (reportFrom) {
  Object.assign(results, JSON.parse(readFileSync(reportFrom, "utf8")) as Record<string, unknown>);
  Object.assign(loadAtStart, results.loadAverageAtSectionStart);
  report();
} else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
