import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { type BotProcess, spawnBot } from "../support/bot-process.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { DANA, fakesEnv, SIGNING_SECRET } from "../support/harness.ts";
import { freshPostgresDatabase } from "../support/postgres.ts";
import { appMentionEvent, createSlackRequester, messageEvent } from "../support/slack-requests.ts";

/**
 * Slack never sends an acknowledged event again, so a bot that dies right after answering must already
 * have the message on disk. The bot runs as its own process and is SIGKILLed the moment each answer
 * arrives; the next start must send every message to Puffle exactly once.
 */
let slack: FakeSlack;
let emulator: Emulator;
const running: BotProcess[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.addUser(DANA, "Dana");
  emulator = await startEmulator({ taskDelayMs: 300, realtimeHoldMs: 400 });
});

afterAll(async () => {
  await Promise.all(running.map((bot) => bot.kill("SIGKILL")));
  await emulator.close();
  await slack.close();
});

/** Every message Puffle received in /turn requests, across the seed campaign's sessions. */
function sentToPuffle(): string[] {
  return emulator.state
    .sessionsOf(SEED.draftCampaign.id)
    .flatMap((session) => emulator.state.turnRequests(session.id).map((turn) => String(turn.message)));
}

const occurrences = (haystack: string[], needle: string) =>
  haystack.reduce((count, text) => count + text.split(needle).length - 1, 0);

const stores: [string, () => Promise<string>][] = [
  ["SQLite", async () => `sqlite:${join(mkdtempSync(join(tmpdir(), "crash-ack-")), "drafter.db")}`],
  // A networked store: recording takes a real round trip, so an answer sent before it would show.
  ["PostgreSQL", async () => (await freshPostgresDatabase()).url],
];

describe.each(stores)("a message acknowledged is a message recorded (%s)", (kind, databaseUrl) => {
  it("SIGKILL the moment Slack gets its answer, restart: every message reaches Puffle once", async () => {
    const env = {
      ...fakesEnv(slack, emulator),
      DATABASE_URL: await databaseUrl(),
      TRIGGER_API_URL: "off",
      POLL_INTERVAL_MS: "100",
      LOG_LEVEL: "info",
      // On PostgreSQL a killed process's leases lapse before another takes its threads: keep it short.
      LEASE_TTL_MS: "3000",
    };
    const channel = `C0CRASH${kind.toUpperCase()}`;
    const texts = [
      `intro email for CFOs, crash one (${kind})`,
      `make it warmer, crash two (${kind})`,
      `mention pricing, crash three (${kind})`,
    ];
    let threadTs = "";
    for (const [index, text] of texts.entries()) {
      const bot = spawnBot(env);
      running.push(bot);
      const requester = createSlackRequester({
        baseUrl: `http://127.0.0.1:${await bot.ready}`,
        signingSecret: SIGNING_SECRET,
        teamId: slack.teamId,
        botUserId: slack.botUserId,
      });
      const first = index === 0;
      const message = slack.addHumanMessage({
        channel,
        user: DANA,
        text: first ? `<@${slack.botUserId}> ${text}` : text,
        ...(first ? {} : { thread_ts: threadTs }),
      });
      if (first) threadTs = message.ts;
      const event = first
        ? appMentionEvent({ user: DANA, channel, text: message.text, ts: message.ts })
        : messageEvent({ user: DANA, channel, text, ts: message.ts, thread_ts: threadTs });
      const answer = await requester.event(event);
      await bot.kill("SIGKILL");
      expect(answer.status).toBe(200);
    }

    const last = spawnBot(env);
    running.push(last);
    await last.ready;
    await slack.waitFor(() => texts.every((text) => occurrences(sentToPuffle(), text) > 0), {
      timeoutMs: 20_000,
      message: "every message sent to Puffle after the restart",
    });
    // Let the resumed loop finish, then count: no message twice.
    await slack.waitFor(
      () => emulator.state.sessionsOf(SEED.draftCampaign.id).every((s) => s.task_status === null),
      {
        timeoutMs: 10_000,
      },
    );
    for (const text of texts) expect(occurrences(sentToPuffle(), text)).toBe(1);
    // The restarted bot drove the thread: at start (SQLite), or once the killed process's lease lapsed.
    expect(
      last.lines().some((line) => /^turn\.(dispatched|dispatch_confirmed|done)$/.test(String(line.msg))),
    ).toBe(true);
    await last.kill("SIGTERM");
  }, 90_000);
});
