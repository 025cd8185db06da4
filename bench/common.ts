import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Emulator } from "../emulator/server.ts";
import type { FakeSlack } from "../test/support/fake-slack.ts";
import { fakesEnv, SIGNING_SECRET } from "../test/support/harness.ts";
import {
  appMentionEvent,
  createSlackRequester,
  messageEvent,
  type SlackRequester,
} from "../test/support/slack-requests.ts";

/** What every bench section shares: the numbers' helpers and the bot in a child process. */

export const quick = process.argv.includes("--quick");
/** `--flight-env=KEY=VALUE,...` overrides the bot's environment in the in-flight run. */
export const flightEnv = Object.fromEntries(
  (process.argv.find((a) => a.startsWith("--flight-env="))?.slice("--flight-env=".length) ?? "")
    .split(",")
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(
  probe: () => T | undefined | false,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** until() for an asynchronous probe (a database query): one probe at a time. */
export async function untilAsync<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface BotChild {
  port: number;
  /** The bot's name among replicas (the lease owner it writes). */
  replicaId: string;
  pid: number;
  /** Sends `signal` to the bot process and resolves when it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  metrics(): Promise<Record<string, number>>;
  /** Memory after a full collection: what the turns really keep. */
  live(): Promise<Record<string, number> & { residentByKind?: Record<string, number> }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBotChild(env: Record<string, string>): Promise<BotChild> {
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
  const replicaId = next<string>("replicaId");
  await ready;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    port: await port,
    replicaId: await replicaId,
    pid: child.pid ?? 0,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
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

export function botEnv(
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

export function requesterFor(slack: FakeSlack, port: number): SlackRequester {
  return requesterAt(slack, `http://127.0.0.1:${port}`);
}

/** Signed requests to `baseUrl` (a bot, or a front before several). */
export function requesterAt(slack: FakeSlack, baseUrl: string): SlackRequester {
  return createSlackRequester({
    baseUrl,
    signingSecret: SIGNING_SECRET,
    teamId: slack.teamId,
    botUserId: slack.botUserId,
  });
}

export async function mention(slack: FakeSlack, requester: SlackRequester, channel: string, text: string) {
  const message = slack.addHumanMessage({ channel, user: "U0BENCH", text: `<@${slack.botUserId}> ${text}` });
  const started = performance.now();
  const response = await requester.event(
    appMentionEvent({ user: "U0BENCH", channel, text: message.text, ts: message.ts }),
  );
  return { ts: message.ts, ackMs: performance.now() - started, status: response.status };
}

export async function reply(
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

/** The channel a Web API call acts in (`assistant.threads.setStatus` names it `channel_id`). */
export const channelOf = (call: { args: Record<string, unknown> }): unknown =>
  call.args.channel ?? call.args.channel_id;

/** The bot's GET /metrics, as `name{labels}` -> value (Prometheus text format). */
export async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    values.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return values;
}

/** The sum of a metric over the label sets that include every `labels` fragment (`outcome="done"`). */
export function metricSum(values: Map<string, number>, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [key, value] of values) {
    const bare = key.includes("{") ? key.slice(0, key.indexOf("{")) : key;
    if (bare === name && labels.every((label) => key.includes(label))) sum += value;
  }
  return sum;
}

export const isCardPost = (call: { method: string; args: Record<string, unknown> }) =>
  call.method === "chat.postMessage" &&
  JSON.stringify(call.args.blocks ?? "").includes('"type":"header"') &&
  JSON.stringify(call.args.blocks ?? "").includes("Draft");
