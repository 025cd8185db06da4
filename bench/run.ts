import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEED } from "../emulator/seed.ts";
import { type Emulator, startEmulator } from "../emulator/server.ts";
import type { NewThread } from "../src/drafting/store.ts";
import { createSqliteStore } from "../src/store/sqlite/store.ts";
import { type FakeSlack, startFakeSlack } from "../test/support/fake-slack.ts";
import { fakesEnv, SIGNING_SECRET } from "../test/support/harness.ts";
import {
  appMentionEvent,
  createSlackRequester,
  messageEvent,
  type SlackRequester,
} from "../test/support/slack-requests.ts";
import { benchRestart, type RestartResult } from "./restart.ts";

/**
 * `npm run bench`: the real bot (in a child process, so its memory and event-loop lag are its
 * own) over signed HTTP, against the fake Slack Web API and the Puffle emulator in this process.
 * Prints a table and writes bench/results.json. Measures the SPEC section 6 targets.
 */

const quick = process.argv.includes("--quick");
/** `--only=ack,card,flight,lookup` runs a subset (for investigating one number). */
const only = new Set(
  (
    process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ??
    "ack,card,flight,lookup,restart"
  ).split(","),
);
/** `--flight-env=KEY=VALUE,...` overrides the bot's environment in the in-flight run. */
const flightEnv = Object.fromEntries(
  (process.argv.find((a) => a.startsWith("--flight-env="))?.slice("--flight-env=".length) ?? "")
    .split(",")
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, quick };

// ---------------------------------------------------------------- helpers

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface BotChild {
  port: number;
  metrics(): Promise<Record<string, number>>;
  /** Memory after a full collection: what the turns really keep. */
  live(): Promise<Record<string, number> & { residentByKind?: Record<string, number> }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function startBotChild(env: Record<string, string>): Promise<BotChild> {
  // Compiled (npm run bench) the child runs as plain JS with the node flags of `npm start`; under
  // tsx it needs the loader.
  const compiled = import.meta.url.endsWith(".js");
  const child: ChildProcess = fork(
    new URL(compiled ? "./bot-child.js" : "./bot-child.ts", import.meta.url).pathname,
    [],
    {
      execArgv: [...(compiled ? startFlags() : ["--import", "tsx"]), "--expose-gc"],
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  const next = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (key in message) {
          child.off("message", onMessage);
          resolve(message[key] as T);
        }
      };
      child.on("message", onMessage);
      child.once("exit", (code) => reject(new Error(`bot child exited with ${code}`)));
    });
  const ready = next<boolean>("ready");
  const port = next<number>("port");
  await ready;
  return {
    port: await port,
    async metrics() {
      const answer = next<Record<string, number>>("metrics");
      child.send({ cmd: "metrics" });
      return answer;
    },
    async live() {
      const answer = next<Record<string, number> & { residentByKind?: Record<string, number> }>("live");
      child.send({ cmd: "live" });
      return answer;
    },
    async reset() {
      const answer = next<boolean>("reset");
      child.send({ cmd: "reset" });
      await answer;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send({ cmd: "stop" });
      await exited;
    },
  };
}

/** The node flags `npm start` uses (package.json), so the bot is measured as it runs. */
function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  return pkg.scripts.start.split(/\s+/).filter((word) => word.startsWith("--"));
}

function botEnv(
  slack: FakeSlack,
  emulator: Emulator,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    ...fakesEnv(slack, emulator),
    DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), "bench-")), "bench.db")}`,
    LOG_LEVEL: "warn",
    POLL_INTERVAL_MS: "2000",
    TURN_TIMEOUT_MS: "300000",
    ...overrides,
  };
}

function requesterFor(slack: FakeSlack, port: number): SlackRequester {
  return createSlackRequester({
    baseUrl: `http://127.0.0.1:${port}`,
    signingSecret: SIGNING_SECRET,
    teamId: slack.teamId,
    botUserId: slack.botUserId,
  });
}

async function mention(slack: FakeSlack, requester: SlackRequester, channel: string, text: string) {
  const message = slack.addHumanMessage({ channel, user: "U0BENCH", text: `<@${slack.botUserId}> ${text}` });
  const started = performance.now();
  const response = await requester.event(
    appMentionEvent({ user: "U0BENCH", channel, text: message.text, ts: message.ts }),
  );
  return { ts: message.ts, ackMs: performance.now() - started, status: response.status };
}

async function reply(
  slack: FakeSlack,
  requester: SlackRequester,
  channel: string,
  threadTs: string,
  text: string,
) {
  const message = slack.addHumanMessage({ channel, user: "U0BENCH", text, thread_ts: threadTs });
  const started = performance.now();
  const response = await requester.event(
    messageEvent({ user: "U0BENCH", channel, text, ts: message.ts, thread_ts: threadTs }),
  );
  return { ackMs: performance.now() - started, status: response.status };
}

const isCardPost = (call: { method: string; args: Record<string, unknown> }) =>
  call.method === "chat.postMessage" &&
  JSON.stringify(call.args.blocks ?? "").includes('"type":"header"') &&
  JSON.stringify(call.args.blocks ?? "").includes("Draft");

// ---------------------------------------------------------------- 1. ack latency

async function benchAck(slack: FakeSlack, emulator: Emulator) {
  const total = quick ? 300 : 1000;
  const ratePerSecond = 50;
  const bot = await startBotChild(botEnv(slack, emulator));
  const requester = requesterFor(slack, bot.port);
  // Threads the bot owns, so that some events are real turns.
  const mapped: { channel: string; ts: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const channel = `C0ACK${i}`;
    mapped.push({ channel, ts: (await mention(slack, requester, channel, `warm-up thread ${i}`)).ts });
  }
  await until(() => emulator.stats().requests["sessions.turn"] === 20 || undefined, 30_000, "warm-up turns");

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const kinds = { chatter: 0, reply: 0, mention: 0 };
  const start = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / ratePerSecond;
    await sleep(Math.max(0, at - performance.now()));
    const kind = i % 10 === 0 ? "mention" : i % 10 < 3 ? "reply" : "chatter";
    kinds[kind]++;
    const thread = mapped[i % mapped.length] ?? { channel: "C0ACK0", ts: "" };
    const send =
      kind === "mention"
        ? mention(slack, requester, `C0ACKNEW${i}`, `new brief ${i}`)
        : kind === "reply"
          ? reply(slack, requester, thread.channel, thread.ts, `note ${i}`)
          : (async () => {
              const message = slack.addHumanMessage({
                channel: "C0CHATTER",
                user: "U0OTHER",
                text: `chatter ${i}`,
              });
              const t0 = performance.now();
              const response = await requester.event(
                messageEvent({ user: "U0OTHER", channel: "C0CHATTER", text: message.text, ts: message.ts }),
              );
              return { ackMs: performance.now() - t0, status: response.status };
            })();
    sends.push(
      send.then((r) => {
        latencies.push(r.ackMs);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }),
    );
  }
  await Promise.all(sends);
  const elapsed = (performance.now() - start) / 1000;
  await bot.stop();
  return {
    events: total,
    achievedRate: round(total / elapsed),
    mix: kinds,
    statuses: Object.fromEntries(statuses),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    maxMs: round(Math.max(...latencies), 2),
  };
}

// ---------------------------------------------------------------- 2. finish -> card

interface LatencyMode {
  name: string;
  env: Record<string, string>;
}

async function benchFinishToCard(slack: FakeSlack, emulator: Emulator, mode: LatencyMode) {
  const threads = quick ? 12 : 30;
  const turnsPerThread = 4;
  emulator.reset();
  slack.resetCalls();
  const bot = await startBotChild(botEnv(slack, emulator, mode.env));
  const requester = requesterFor(slack, bot.port);
  const completions = new Map<string, number[]>();
  const onCompleted = (event: { sessionId: string; at: number }) => {
    completions.set(event.sessionId, [...(completions.get(event.sessionId) ?? []), event.at]);
  };
  emulator.events.on("task.completed", onCompleted);

  const cardLatencies: number[] = [];
  const resultLatencies: number[] = [];
  const sessionOf = (marker: string) =>
    [...emulator.state.sessions.values()].find((s) =>
      emulator.state.turnRequests(s.id).some((r) => r.message.includes(marker)),
    )?.id;

  const drive = async (i: number) => {
    await sleep(i * 100); // people do not all start in the same millisecond
    const channel = `C0LAT${mode.name.length}${i}`;
    const marker = `[thread ${i}]`;
    const root = await mention(slack, requester, channel, `Intro email ${marker} for VPs of Sales`);
    const sessionId = await until(() => sessionOf(marker), 30_000, `session of ${marker}`);
    for (let turn = 1; turn <= turnsPerThread; turn++) {
      const finishedAt = await until(
        () => completions.get(sessionId)?.[turn - 1],
        60_000,
        `turn ${turn} of ${marker}`,
      );
      const shown = await until(
        () =>
          slack.calls.find(
            (c) =>
              c.at >= finishedAt &&
              c.args.channel === channel &&
              (turn === 1 ? c.method === "chat.update" : isCardPost(c)),
          ),
        30_000,
        `result of turn ${turn} of ${marker}`,
      );
      (turn === 1 ? resultLatencies : cardLatencies).push(shown.at - finishedAt);
      if (turn < turnsPerThread) {
        await sleep(300); // a person reads, then answers
        const instruction =
          ["Mid-market SaaS, CRO sender", "make it shorter", "warmer please"][turn - 1] ?? "shorter";
        await reply(slack, requester, channel, root.ts, instruction);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: threads }, (_, i) => drive(i)));
  const seconds = (performance.now() - started) / 1000;
  await sleep(2500); // let trailing edits land before counting calls
  emulator.events.off("task.completed", onCompleted);
  const turns = threads * turnsPerThread;
  const methods = new Map<string, number>();
  for (const call of slack.calls) methods.set(call.method, (methods.get(call.method) ?? 0) + 1);
  const chatCalls = [...methods].filter(([m]) => m.startsWith("chat.")).reduce((sum, [, n]) => sum + n, 0);
  const stats = emulator.stats();
  await bot.stop();
  return {
    mode: mode.name,
    turns,
    seconds: round(seconds),
    cardP50Ms: round(percentile(cardLatencies, 50)),
    cardP95Ms: round(percentile(cardLatencies, 95)),
    firstAnswerP50Ms: round(percentile(resultLatencies, 50)),
    slackCallsPerTurn: round([...methods.values()].reduce((a, b) => a + b, 0) / turns, 2),
    slackChatCallsPerTurn: round(chatCalls / turns, 2),
    slackCallsByMethod: Object.fromEntries(methods),
    puffleSessionGetsPerTurn: round((stats.requests["sessions.get"] ?? 0) / turns, 2),
    puffleRequests: stats.requests,
  };
}

// ---------------------------------------------------------------- 3. 1,000 turns in flight

async function benchInFlight(slack: FakeSlack, emulator: Emulator) {
  const count = quick ? 300 : 1000;
  emulator.reset();
  slack.resetCalls();
  emulator.faults.inject({ kind: "never_finish", times: count });
  const bot = await startBotChild(botEnv(slack, emulator, flightEnv));
  const requester = requesterFor(slack, bot.port);
  const idle = await bot.metrics();
  const idleLive = await bot.live();
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  // New drafts arrive at 50 per second (the rate of the ack test), not all in one instant.
  for (let i = 0; i < count; i++) {
    await sleep(Math.max(0, started + i * 20 - performance.now()));
    sends.push(mention(slack, requester, `C0FLY${i % 50}`, `in-flight brief ${i}`));
  }
  await Promise.all(sends);
  await until(
    () => (emulator.stats().requests["sessions.turn"] ?? 0) >= count || undefined,
    120_000,
    "all turns dispatched",
  );
  const dispatchSeconds = (performance.now() - started) / 1000;
  await sleep(2000);
  await bot.reset();
  const windowSeconds = quick ? 10 : 20;
  await sleep(windowSeconds * 1000);
  const loaded = await bot.metrics();
  const live = await bot.live();
  const gets = emulator.stats().requests["sessions.get"] ?? 0;
  await bot.stop();
  emulator.reset();
  return {
    turnsInFlight: count,
    dispatchSeconds: round(dispatchSeconds),
    idleRssMb: round(idle.rssMb ?? 0),
    rssMb: round(loaded.rssMb ?? 0),
    peakRssMb: round(loaded.peakRssMb ?? 0),
    heapUsedMb: round(loaded.heapUsedMb ?? 0),
    idleLiveHeapMb: round(idleLive.heapUsedMb ?? 0),
    liveHeapMb: round(live.heapUsedMb ?? 0),
    liveRssMb: round(live.rssMb ?? 0),
    liveHeapTotalMb: round(live.heapTotalMb ?? 0),
    liveExternalMb: round(live.externalMb ?? 0),
    activeHandles: live.handles,
    /** What RSS is made of (Linux /proc/self/smaps), idle and loaded, after a full GC. */
    idleResidentMb: idleLive.residentByKind,
    loadedResidentMb: live.residentByKind,
    lagP50Ms: round(loaded.lagP50Ms ?? 0, 2),
    lagP99Ms: round(loaded.lagP99Ms ?? 0, 2),
    lagMaxMs: round(loaded.lagMaxMs ?? 0, 2),
    windowSeconds,
    puffleGetsPerSecond: round(gets / (dispatchSeconds + 2 + windowSeconds)),
  };
}

// ---------------------------------------------------------------- 4. thread lookup

function benchLookup() {
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

// ---------------------------------------------------------------- main

async function main() {
  const slack = await startFakeSlack();
  const emulator = await startEmulator({
    taskDelayMs: 3000,
    taskJitterMs: 3000,
    realtimeHoldMs: 20_000,
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
