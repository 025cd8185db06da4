import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { type Bot, startBot } from "../../src/bot.ts";
import { parseConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { type FakeSocketMode, startFakeSocketMode } from "../support/fake-socket-mode.ts";
import { botReplies, fakesEnv, visibleText } from "../support/harness.ts";
import { appMentionEvent } from "../support/slack-requests.ts";

let slack: FakeSlack;
let socket: FakeSocketMode;
let emulator: Emulator;
let bot: Bot;
const logs: string[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  socket = await startFakeSocketMode(slack);
  emulator = await startEmulator({ taskDelayMs: 150, realtimeHoldMs: 400 });
  const config = parseConfig({
    ...fakesEnv(slack, emulator),
    SLACK_SIGNING_SECRET: "",
    SLACK_APP_TOKEN: slack.appToken,
    DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), "socket-")), "drafter.db")}`,
    POLL_INTERVAL_MS: "100",
  });
  expect(config.slack.mode).toBe("socket");
  const logger = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  });
  bot = await startBot(config, { logger, slackRetryConfig: { retries: 0 } });
  await socket.connected();
});

afterAll(async () => {
  await bot.stop();
  await socket.close();
  await emulator.close();
  await slack.close();
});

const envelope = (event: Record<string, unknown>, eventId: string) => ({
  token: "legacy",
  team_id: slack.teamId,
  api_app_id: slack.appId,
  event,
  type: "event_callback",
  event_id: eventId,
  event_time: Math.floor(Date.now() / 1000),
  authorizations: [{ team_id: slack.teamId, user_id: slack.botUserId, is_bot: true }],
});

describe("Socket Mode (SLACK_APP_TOKEN set)", () => {
  it("connects without a public URL, acks events, drafts, and treats a redelivery as the same turn", async () => {
    const root = slack.addHumanMessage({
      channel: "C0SOCK",
      user: "U0DANA",
      text: `<@${slack.botUserId}> intro for CFOs`,
    });
    const event = appMentionEvent({ user: "U0DANA", channel: "C0SOCK", text: root.text, ts: root.ts });
    await socket.send("events_api", envelope(event, "Ev0SOCKET1"));
    const answer = await slack.waitFor(() =>
      botReplies(slack, "C0SOCK", root.ts).find((m) => /question/i.test(visibleText(m))),
    );
    expect(visibleText(answer)).toContain("intro for CFOs");

    await socket.send("events_api", envelope(event, "Ev0SOCKET1"), 1);
    await bot.slack.idle();
    await bot.drafting.idle();
    const thread = await bot.drafting.findThread({
      teamId: slack.teamId,
      channelId: "C0SOCK",
      threadTs: root.ts,
    });
    expect(emulator.state.turnRequests(thread?.sessionId ?? "")).toHaveLength(1);
  });

  it("takes /draft over the socket too", async () => {
    await socket.send("slash_commands", {
      command: "/draft",
      text: "help",
      team_id: slack.teamId,
      channel_id: "C0SOCK",
      user_id: "U0DANA",
      trigger_id: "trigger-socket-1",
      response_url: slack.responseUrl(),
    });
    await slack.waitFor(() => slack.ephemerals("C0SOCK", "U0DANA").find((m) => /draft/i.test(m.text ?? "")));
  });

  it("acks an event only once its message is recorded: the ack holds the recording", async () => {
    const root = slack.addHumanMessage({
      channel: "C0SOCK",
      user: "U0DANA",
      text: `<@${slack.botUserId}> ack after record`,
    });
    const event = appMentionEvent({ user: "U0DANA", channel: "C0SOCK", text: root.text, ts: root.ts });
    await socket.send("events_api", envelope(event, "Ev0SOCKET2"));
    // The moment the ack arrives, the turn is already in the store.
    const thread = await bot.drafting.findThread({
      teamId: slack.teamId,
      channelId: "C0SOCK",
      threadTs: root.ts,
    });
    expect(thread).toBeDefined();
    expect((await bot.store.listTurns(thread?.id ?? 0)).map((t) => t.text)).toEqual(["ack after record"]);
  });

  it("acks a malformed envelope (so Slack does not send it again and again) and keeps working", async () => {
    // Resolves only when the bot acks.
    await socket.send("events_api", { type: "event_callback", team_id: slack.teamId, event: "junk" });
    expect(logs.some((line) => line.includes("slack.payload_malformed"))).toBe(true);
    await socket.send("slash_commands", {
      command: "/draft",
      text: "help",
      team_id: slack.teamId,
      channel_id: "C0SOCK2",
      user_id: "U0DANA",
      trigger_id: "trigger-socket-2",
      response_url: slack.responseUrl(),
    });
    await slack.waitFor(() => slack.ephemerals("C0SOCK2", "U0DANA").length > 0);
  });

  it("does not ack an event it could not record, so Slack delivers it again", async () => {
    const root = slack.addHumanMessage({
      channel: "C0SOCK",
      user: "U0DANA",
      text: `<@${slack.botUserId}> not recorded`,
    });
    const event = appMentionEvent({ user: "U0DANA", channel: "C0SOCK", text: root.text, ts: root.ts });
    await bot.store.close();
    let acked = false;
    void socket.send("events_api", envelope(event, "Ev0SOCKET3")).then(() => {
      acked = true;
    });
    await slack.waitFor(() => logs.some((line) => line.includes("slack.delivery_failed")));
    await bot.slack.idle();
    expect(acked).toBe(false);
  });
});
