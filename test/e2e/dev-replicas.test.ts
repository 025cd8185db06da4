import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { startDevFront } from "../../scripts/dev-front.ts";
import { typescriptArgs } from "../support/bot-process.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { botReplies, DANA, visibleText } from "../support/harness.ts";
import { freshPostgresDatabase, type TestDatabase } from "../support/postgres.ts";
import { appMentionEvent, createSlackRequester } from "../support/slack-requests.ts";

// `npm run dev -- --replicas N`: N bot processes on one PostgreSQL database and one emulator.
const _root = new URL("../../", import.meta.url).pathname;
const SECRET = "dev-replicas-signing-secret-0123";

let slack: FakeSlack;
let database: TestDatabase;
beforeAll(async () => {
  slack = await startFakeSlack();
  database = await freshPostgresDatabase();
});
afterAll(async () => {
  await slack.close();
  await database.drop();
});

interface DevRun {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function runDev(args: string[], env: Record<string, string>): DevRun {
  const child = spawn(process.execPath, typescriptArgs("scripts/dev.ts", ...args), {
    cwd: mkdtempSync(join(tmpdir(), "dev-replicas-")),
    env: { PATH: process.env.PATH, ...env },
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colours of the pretty logs
  return { child, output: () => output.replace(/\u001b\[[0-9;]*m/g, ""), exited };
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm run dev -- --replicas 2", () => {
  it("starts two replicas on PostgreSQL behind a round-robin front; both serve, each logs its name; one killed by hand leaves the other serving; Ctrl+C stops all", async () => {
    const dev = runDev(["--replicas", "2"], {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.url,
      PORT: "0",
      EMULATOR_PORT: "0",
      EMULATOR_TASK_DELAY_MS: "300",
      EMULATOR_TASK_JITTER_MS: "0",
      DEV_DATABASE_URL: database.url,
    });
    try {
      const port = await slack.waitFor(
        () => /HTTP on port (\d+).*Stop with Ctrl\+C/s.exec(dev.output())?.[1],
        {
          timeoutMs: 30_000,
          message: `the dev banner; so far:\n${dev.output()}`,
        },
      );
      const output = dev.output();
      // It said what it was doing before it connected.
      expect(output).toMatch(/^Starting the Puffle emulator on a free port \.\.\.$/m);
      expect(output).toMatch(/^Store: PostgreSQL 127\.0\.0\.1:\d+\/puffle_test_/m);
      expect(output).toMatch(/Starting 2 replicas for Slack at http:\/\/127\.0\.0\.1:\d+\/api in HTTP mode/);
      expect(output).not.toContain(new URL(database.url).password || "no password");
      const pids = [...output.matchAll(/^ {2}(r[12]) {2}pid (\d+) {2}port \d+$/gm)].map((m) => Number(m[2]));
      expect(pids).toHaveLength(2);

      // Two threads through the front: round robin gives one to each replica.
      const requester = createSlackRequester({
        baseUrl: `http://127.0.0.1:${port}`,
        signingSecret: SECRET,
        teamId: slack.teamId,
      });
      const roots = [];
      for (const channel of ["C0DEVONE", "C0DEVTWO"]) {
        const root = slack.addHumanMessage({
          channel,
          user: DANA,
          text: `<@${slack.botUserId}> intro for CFOs`,
        });
        const answer = await requester.event(
          appMentionEvent({ user: DANA, channel, text: root.text, ts: root.ts }),
        );
        expect(answer.status).toBe(200);
        roots.push({ channel, ts: root.ts });
      }
      // Both reached Puffle: its clarifying questions are in each thread.
      for (const { channel, ts } of roots) {
        await slack.waitFor(
          () => botReplies(slack, channel, ts).some((m) => /question/i.test(visibleText(m))),
          { timeoutMs: 20_000, message: `Puffle's questions in ${channel}` },
        );
      }
      const text = dev.output();
      // Each mention was taken by the replica the front gave it to, as its log line says.
      expect(text).toMatch(/\[r1:\d+\] event\.draft_started\n(?: {4}.*\n)*? {4}channel: "C0DEVONE"/);
      expect(text).toMatch(/\[r2:\d+\] event\.draft_started\n(?: {4}.*\n)*? {4}channel: "C0DEVTWO"/);

      // A replica killed by hand: dev says so and the other carries on, still served through the front.
      process.kill(pids[0] ?? 0, "SIGKILL");
      await slack.waitFor(
        () => /Replica r1 \(pid \d+\) exited \(SIGKILL\)\. Still running: r2\./.test(dev.output()),
        {
          timeoutMs: 10_000,
          message: "the note that r1 exited",
        },
      );
      const after = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(after.status).toBe(200);

      dev.child.kill("SIGINT");
      expect(await dev.exited).toBe(0);
      expect(pids.filter(isRunning)).toEqual([]);
    } finally {
      dev.child.kill("SIGKILL");
    }
  }, 60_000);

  it("in Socket Mode, each replica opens its own connection to Slack", async () => {
    // Slack's Socket Mode side, counting the connections it greets.
    const own = await freshPostgresDatabase();
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    slack.socketModeUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/`;
    let connections = 0;
    server.on("connection", (socket) => {
      connections++;
      socket.send(JSON.stringify({ type: "hello", num_connections: connections }));
    });
    const dev = runDev(["--replicas", "2"], {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_APP_TOKEN: slack.appToken,
      SLACK_API_URL: slack.url,
      PORT: "0",
      EMULATOR_PORT: "0",
      DEV_DATABASE_URL: own.url,
    });
    try {
      await slack.waitFor(() => /Stop with Ctrl\+C/.test(dev.output()), {
        timeoutMs: 30_000,
        message: `the dev banner; so far:\n${dev.output()}`,
      });
      expect(dev.output()).toMatch(/Connecting 2 replicas to Slack at .* in Socket Mode \(a connection each/);
      expect(dev.output()).toContain("Puffle Drafter is running in Socket Mode");
      expect(dev.output()).not.toMatch(/round-robin front on port/);
      await slack.waitFor(() => connections === 2, {
        timeoutMs: 10_000,
        message: "two Socket Mode connections",
      });
      dev.child.kill("SIGINT");
      expect(await dev.exited).toBe(0);
    } finally {
      dev.child.kill("SIGKILL");
      for (const socket of server.clients) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await own.drop();
    }
  }, 60_000);

  it("is refused on SQLite, naming PostgreSQL and DEV_DATABASE_URL, before anything starts", async () => {
    const envs: Record<string, string>[] = [{ DEV_DATABASE_URL: "sqlite:./data/dev.db" }, {}];
    for (const env of envs) {
      const dev = runDev(["--replicas", "2"], env);
      expect(await dev.exited).toBe(2);
      expect(dev.output()).toMatch(/--replicas 2 needs PostgreSQL/);
      expect(dev.output()).toContain("DEV_DATABASE_URL=postgres://");
      expect(dev.output()).not.toContain("Starting the Puffle emulator");
    }
  });
});

describe("the dev front", () => {
  const backends: Server[] = [];
  afterAll(() => {
    for (const server of backends) server.close();
  });

  /** A replica stand-in answering with what it received: its name, the raw headers and the body. */
  async function echo(name: string): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        res.writeHead(201, { "X-Replica": name });
        res.end(
          JSON.stringify({ name, headers: req.rawHeaders, body: Buffer.concat(chunks).toString("base64") }),
        );
      });
    });
    backends.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  it("sends requests in turn, with headers and body bytes as received, and skips a replica that is gone", async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve));
    const gonePort = (gone.address() as AddressInfo).port;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const list = [
      { name: "r1", port: await echo("r1") },
      { name: "r2", port: gonePort },
      { name: "r3", port: await echo("r3") },
    ];
    const front = await startDevFront({ port: 0, host: "127.0.0.1", backends: () => list });
    try {
      const body = Buffer.from("payload=%7B%22a%22%3A1%7D&x=\u00e9 \r\n end", "utf8");
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`http://127.0.0.1:${front.port}/slack/events?q=1`, {
          method: "POST",
          headers: { "X-Slack-Signature": "v0=abc", "X-Slack-Request-Timestamp": "1700000000" },
          body,
        });
        expect(response.status).toBe(201);
        const echoed = (await response.json()) as { name: string; headers: string[]; body: string };
        expect(response.headers.get("x-replica")).toBe(echoed.name);
        expect(Buffer.from(echoed.body, "base64").equals(body)).toBe(true);
        expect(echoed.headers.map((h) => h.toLowerCase())).toEqual(
          expect.arrayContaining(["x-slack-signature", "v0=abc", "x-slack-request-timestamp", "1700000000"]),
        );
        seen.push(echoed.name);
      }
      expect(seen).toEqual(["r1", "r3", "r1"]);
    } finally {
      await front.close();
    }
  });
});
