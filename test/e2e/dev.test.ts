import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typescriptArgs } from "../support/bot-process.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { freePort } from "../support/free-port.ts";
import { appMentionEvent, createSlackRequester } from "../support/slack-requests.ts";

const _root = new URL("../../", import.meta.url).pathname;
let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(() => slack.close());

describe("npm run dev", () => {
  it("reads .env, says what it starts, runs the bot against the emulator with readable logs, answers a mention, and stops on Ctrl+C", async () => {
    const secret = "dev-signing-secret-0123456789";
    const cwd = mkdtempSync(join(tmpdir(), "dev-"));
    const emulatorPort = await freePort();
    // Everything from .env, the dev and emulator variables included.
    writeFileSync(
      join(cwd, ".env"),
      [
        `SLACK_BOT_TOKEN=${slack.token}`,
        `SLACK_SIGNING_SECRET=${secret}`,
        `SLACK_API_URL=${slack.url}`,
        "PORT=0",
        `EMULATOR_PORT=${emulatorPort}`,
        "EMULATOR_TASK_DELAY_MS=1500",
        "EMULATOR_TASK_JITTER_MS=500",
        "DEV_DATABASE_URL=sqlite::memory:",
      ].join("\n"),
    );
    const child = spawn(process.execPath, typescriptArgs("scripts/dev.ts"), {
      cwd,
      env: { PATH: process.env.PATH },
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      output += String(chunk);
    });
    const port = await slack.waitFor(() => /HTTP on port (\d+)/.exec(output)?.[1], {
      timeoutMs: 20_000,
      message: "dev banner",
    });
    // What it does, said before it connects, in order.
    const progress = output.slice(0, output.indexOf("Puffle Drafter is running"));
    expect(progress).toMatch(
      new RegExp(
        [
          `^Starting the Puffle emulator on http://127\\.0\\.0\\.1:${emulatorPort} \\.\\.\\.$`,
          `^Puffle emulator: http://127\\.0\\.0\\.1:${emulatorPort} \\(key pk_test_emulator_key; turns take 1\\.5 to 2 s;.*$`,
          "^Store: SQLite :memory:$",
          "^Starting the bot for Slack at http://127\\.0\\.0\\.1:\\d+/api in HTTP mode \\.\\.\\.$",
        ].join("\n"),
        "m",
      ),
    );

    const requester = createSlackRequester({
      baseUrl: `http://127.0.0.1:${port}`,
      signingSecret: secret,
      teamId: slack.teamId,
    });
    const message = slack.addHumanMessage({
      channel: "C0DEV",
      user: "U0DANA",
      text: `<@${slack.botUserId}> intro for CFOs`,
    });
    await requester.event(
      appMentionEvent({ user: "U0DANA", channel: "C0DEV", text: message.text, ts: message.ts }),
    );
    // The emulator streams the reply as it is written: the bot's first words, or its status message.
    await slack.waitFor(
      () => slack.thread("C0DEV", message.ts).some((m) => m.bot_id && m.text.trim() !== ""),
      {
        timeoutMs: 10_000,
      },
    );
    // Readable (pretty) log lines, not JSON, and no secret in them.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colours of the pretty logs
    const plain = output.replace(/\u001b\[[0-9;]*m/g, "");
    expect(plain).toMatch(/INFO.*turn\.dispatched/s);
    expect(output).not.toContain(slack.token);
    expect(output).not.toContain(secret);

    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  }, 40_000);
});
