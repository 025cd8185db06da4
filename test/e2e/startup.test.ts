import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { type BotProcess, spawnBot as spawnBotProcess } from "../support/bot-process.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { fakesEnv } from "../support/harness.ts";

// `npm start` as its own process when Slack or the store is out of reach (SPEC 10): what it says first,
// what it answers meanwhile, how it tries again, and how it gives up.

let slack: FakeSlack;
let emulator: Emulator;
beforeAll(async () => {
  slack = await startFakeSlack();
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
  await slack.close();
});
beforeEach(() => slack.resetCalls());

/** Every bot this file started: one a failing test left running is killed after it. */
const started: BotProcess[] = [];
const spawnBot = (env: Record<string, string>) => {
  const bot = spawnBotProcess(env);
  started.push(bot);
  return bot;
};
afterEach(async () => {
  await Promise.all(started.splice(0).map((bot) => bot.kill("SIGKILL")));
});

/** A port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves with the probe's first truthy value, checking every 20 ms. */
async function until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const linesOf = (bot: BotProcess, msg: string) => bot.lines().filter((line) => line.msg === msg);
const fatalOf = (bot: BotProcess) => linesOf(bot, "bot.start_failed")[0] ?? {};
const sqlite = () => `sqlite:${join(mkdtempSync(join(tmpdir(), "startup-")), "drafter.db")}`;

describe("npm start with Slack out of reach", () => {
  it("says where it goes first, answers /healthz 200 and /readyz 503 while it tries again, one line per try, then exits 1 within the limit pointing to npm run doctor", async () => {
    const port = await closedPort();
    const limitMs = 6_000;
    const bot = spawnBot({
      ...fakesEnv(slack, emulator),
      SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
      DATABASE_URL: sqlite(),
      START_RETRY_MS: String(limitMs),
    });
    const first = await until(() => bot.lines()[0], "the first line");
    expect(first).toMatchObject({
      msg: "bot.starting",
      mode: "http",
      workspaces: "single",
      slack: `127.0.0.1:${port}`,
      puffle: new URL(emulator.url).host,
      realtime: new URL(emulator.url).host,
      store: "sqlite",
    });

    await until(() => linesOf(bot, "start.try_failed").length > 0, "a failed try");
    const httpPort = Number(linesOf(bot, "http.listening")[0]?.port);
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(linesOf(bot, "bot.start_failed")).toEqual([]);
    expect(bot.child.exitCode).toBeNull();
    expect(health.status).toBe(200);
    expect(ready.status).toBe(503);

    expect(await bot.exited).toBe(1);
    const tries = linesOf(bot, "start.try_failed");
    expect(tries.length).toBeGreaterThanOrEqual(2);
    for (const line of tries)
      expect(line).toMatchObject({ target: "slack", host: `127.0.0.1:${port}`, reason: "ECONNREFUSED" });
    const fatal = fatalOf(bot);
    // The last try is the failure's own line: tries are numbered 1..n without a gap.
    expect([...tries, fatal].map((line) => line.try)).toEqual(
      tries.map((_, i) => i + 1).concat(tries.length + 1),
    );
    expect(fatal).toMatchObject({
      level: "fatal",
      target: "slack",
      host: `127.0.0.1:${port}`,
      reason: "ECONNREFUSED",
    });
    expect(String(fatal.err)).toContain(`Slack at 127.0.0.1:${port}`);
    expect(String(fatal.help)).toContain("npm run doctor");
    expect(bot.lines().at(-1)).toBe(fatal);
    expect(Date.parse(String(fatal.time)) - Date.parse(String(first.time))).toBeLessThanOrEqual(limitMs);
    // Nothing else: no warning of the Web API client's own per-request tries.
    expect(bot.lines().map((line) => line.msg)).toEqual([
      "bot.starting",
      "http.listening",
      ...tries.map(() => "start.try_failed"),
      "bot.start_failed",
    ]);
    expect(bot.stderr()).toBe("");
  }, 40_000);

  it("starts once Slack answers again after a 503 and a 429 (honouring its Retry-After), one auth.test and one line per try", async () => {
    slack.failHttp("auth.test", 503);
    slack.rateLimit("auth.test", { retryAfterSeconds: 1 });
    const bot = spawnBot({ ...fakesEnv(slack, emulator), DATABASE_URL: sqlite(), START_RETRY_MS: "10000" });
    await bot.ready;
    const tries = linesOf(bot, "start.try_failed");
    expect(tries).toMatchObject([
      { target: "slack", host: new URL(slack.url).host, reason: "HTTP 503", try: 1 },
      { target: "slack", host: new URL(slack.url).host, reason: "HTTP 429", try: 2 },
    ]);
    expect(Number(tries[1]?.retryInMs)).toBeGreaterThanOrEqual(1_000);
    expect(slack.callsTo("auth.test").map((call) => call.ok)).toEqual([false, false, true]);
    expect(await bot.kill("SIGTERM")).toBe(0);
  }, 40_000);

  it("gives up on a Slack that takes the request and never answers, within the limit, with the reason timeout", async () => {
    slack.delay("auth.test", 15_000);
    try {
      const limitMs = 2_500;
      const bot = spawnBot({
        ...fakesEnv(slack, emulator),
        DATABASE_URL: sqlite(),
        START_RETRY_MS: String(limitMs),
      });
      expect(await bot.exited).toBe(1);
      const first = bot.lines()[0] ?? {};
      const fatal = fatalOf(bot);
      expect(fatal).toMatchObject({ target: "slack", host: new URL(slack.url).host, reason: "timeout" });
      expect(String(fatal.help)).toContain("npm run doctor");
      // A try may outlast the deadline by at most a second, never by the client's own patience.
      expect(Date.parse(String(fatal.time)) - Date.parse(String(first.time))).toBeLessThanOrEqual(
        limitMs + 1_000,
      );
    } finally {
      slack.delay("auth.test", 0);
    }
  }, 40_000);

  it.each([
    ["invalid_auth", () => ({ SLACK_BOT_TOKEN: "xoxb-not-a-token-of-this-workspace" })],
    [
      "account_inactive",
      () => {
        slack.failNext("auth.test", "account_inactive");
        return {};
      },
    ],
  ])(
    "exits at once when Slack refuses the bot token (%s), naming SLACK_BOT_TOKEN",
    async (code, arrange) => {
      const bot = spawnBot({ ...fakesEnv(slack, emulator), DATABASE_URL: sqlite(), ...arrange() });
      expect(await bot.exited).toBe(1);
      expect(linesOf(bot, "start.try_failed")).toEqual([]);
      expect(slack.callsTo("auth.test")).toHaveLength(1);
      const fatal = fatalOf(bot);
      expect(String(fatal.err)).toContain(`Slack refused SLACK_BOT_TOKEN (${code})`);
      expect(String(fatal.help)).toContain("npm run doctor");
    },
    40_000,
  );
});

describe("npm start in Socket Mode with a refused app token", () => {
  const socketEnv = () => ({
    ...fakesEnv(slack, emulator),
    SLACK_SIGNING_SECRET: "",
    SLACK_APP_TOKEN: slack.appToken,
    DATABASE_URL: sqlite(),
    START_RETRY_MS: "5000",
  });

  it.each([
    ["invalid_auth", () => ({ SLACK_APP_TOKEN: "xapp-1-A0OTHER-1-not-this-app" })],
    [
      // The Socket Mode client takes this one for passing trouble and would try again for ever.
      "not_allowed_token_type",
      () => {
        slack.failNext("apps.connections.open", "not_allowed_token_type");
        return {};
      },
    ],
  ])(
    "exits naming SLACK_APP_TOKEN (%s)",
    async (code, arrange) => {
      const bot = spawnBot({ ...socketEnv(), ...arrange() });
      expect(await bot.exited).toBe(1);
      expect(bot.lines()[0]).toMatchObject({ msg: "bot.starting", mode: "socket" });
      expect(linesOf(bot, "start.try_failed")).toEqual([]);
      const fatal = fatalOf(bot);
      expect(String(fatal.err)).toContain(`Slack refused SLACK_APP_TOKEN (${code})`);
      expect(String(fatal.help)).toContain("npm run doctor");
    },
    40_000,
  );

  it("refuses an app token that is not an xapp- token before starting, naming SLACK_APP_TOKEN", async () => {
    const bot = spawnBot({ ...socketEnv(), SLACK_APP_TOKEN: slack.token });
    expect(await bot.exited).toBe(2);
    expect(bot.stderr()).toMatch(/SLACK_APP_TOKEN must be an app-level token starting with xapp-/);
    expect(bot.stderr()).not.toContain(slack.token);
  }, 40_000);
});

describe("npm start with PostgreSQL out of reach", () => {
  it("tries again, one line per try naming the store's host, then exits 1 naming it, never its password", async () => {
    const port = await closedPort();
    const password = "pw-never-shown-4821";
    // A Slack of its own: a bot of an earlier test still winding down cannot call this one.
    const own = await startFakeSlack();
    const bot = spawnBot({
      ...fakesEnv(own, emulator),
      DATABASE_URL: `postgres://drafter:${password}@127.0.0.1:${port}/x`,
      START_RETRY_MS: "2500",
    });
    expect(await bot.exited).toBe(1);
    await own.close();
    const where = `127.0.0.1:${port}/x`;
    expect(bot.lines()[0]).toMatchObject({ msg: "bot.starting", store: "postgres", storeAt: where });
    const tries = linesOf(bot, "start.try_failed");
    expect(tries.length).toBeGreaterThanOrEqual(2);
    for (const line of tries)
      expect(line).toMatchObject({ target: "store", host: where, reason: "ECONNREFUSED" });
    const fatal = fatalOf(bot);
    expect(fatal).toMatchObject({ target: "store", host: where, reason: "ECONNREFUSED" });
    expect(String(fatal.err)).toContain(`The PostgreSQL store at ${where}`);
    expect(String(fatal.help)).toContain("npm run doctor");
    expect(own.callsTo("auth.test")).toEqual([]);
    expect(JSON.stringify(bot.lines()) + bot.stderr()).not.toContain(password);
  }, 40_000);
});

describe("npm start in OAuth mode", () => {
  it("says OAuth on its first line, and no OAuth secret or encryption key reaches the output", async () => {
    const secrets = {
      SLACK_CLIENT_SECRET: `client-${randomBytes(8).toString("hex")}`,
      SLACK_STATE_SECRET: `state-${randomBytes(12).toString("hex")}`,
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      ENCRYPTION_KEY_PREVIOUS: randomBytes(32).toString("base64"),
    };
    const { SLACK_BOT_TOKEN: _token, PUFFLE_API_KEY: _key, ...env } = fakesEnv(slack, emulator);
    const bot = spawnBot({
      ...env,
      ...secrets,
      SLACK_CLIENT_ID: "1234567890.1234567890",
      TRIGGER_API_URL: "off",
      DATABASE_URL: sqlite(),
      LOG_LEVEL: "trace",
    });
    const port = await bot.ready;
    expect(bot.lines()[0]).toMatchObject({ msg: "bot.starting", workspaces: "oauth", realtime: "off" });
    await fetch(`http://127.0.0.1:${port}/slack/install`);
    expect(await bot.kill("SIGTERM")).toBe(0);
    const output = JSON.stringify(bot.lines()) + bot.stderr();
    for (const value of Object.values(secrets)) expect(output).not.toContain(value);
  }, 40_000);
});
