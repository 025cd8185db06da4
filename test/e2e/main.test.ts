import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { spawnBot, typescriptArgs } from "../support/bot-process.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { fakesEnv, SIGNING_SECRET } from "../support/harness.ts";

const _root = new URL("../../", import.meta.url).pathname;
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

/** Runs src/main.ts (what `npm start` runs, before compiling) in an empty directory with `env`. */
function runMain(env: Record<string, string>) {
  const child = spawn(process.execPath, typescriptArgs("src/main.ts"), {
    cwd: mkdtempSync(join(tmpdir(), "main-")),
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe("npm start", () => {
  it("refuses a bad configuration with every problem listed and a non-zero exit", async () => {
    const run = runMain({ PORT: "not-a-port", SLACK_BOT_TOKEN: "nope" });
    expect(await run.exited).toBe(2);
    for (const name of ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PUFFLE_API_KEY", "PORT"]) {
      expect(run.err()).toContain(name);
    }
  }, 30_000);

  it("starts, logs JSON without secrets, and stops cleanly on SIGTERM", async () => {
    const run = runMain({
      ...fakesEnv(slack, emulator),
      TRIGGER_API_URL: "off",
      DATABASE_URL: "sqlite::memory:",
    });
    await slack.waitFor(() => run.out().includes('"msg":"bot.ready"'), {
      timeoutMs: 20_000,
      message: "bot.ready",
    });
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    const lines = run.out().trim().split("\n");
    expect(lines.every((line) => JSON.parse(line).msg)).toBe(true);
    expect(run.out()).toContain('"msg":"bot.stopped"');
    for (const value of [slack.token, SIGNING_SECRET, emulator.apiKey])
      expect(run.out()).not.toContain(value);
  }, 40_000);

  it("a second bot on the same SQLite file refuses to start, naming PostgreSQL for several replicas", async () => {
    const env = {
      ...fakesEnv(slack, emulator),
      TRIGGER_API_URL: "off",
      DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), "one-file-")), "drafter.db")}`,
    };
    const first = spawnBot(env);
    await first.ready;
    const second = spawnBot(env);
    expect(await second.exited).toBe(1);
    const fatal = second.lines().find((line) => line.msg === "bot.start_failed");
    expect(String(fatal?.err)).toMatch(/already running on .*drafter\.db.*PostgreSQL/);
    // The first one never noticed.
    expect(first.child.exitCode).toBeNull();
    expect(await first.kill("SIGTERM")).toBe(0);
  }, 40_000);
});
