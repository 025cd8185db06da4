import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/server.ts";
import { type Bot, startBot } from "../../src/bot.ts";
import { parseConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { type FakeSlack, type FakeSlackOptions, type StoredMessage, startFakeSlack } from "./fake-slack.ts";
import {
  appMentionEvent,
  createSlackRequester,
  messageEvent,
  type SlackRequester,
} from "./slack-requests.ts";

// Driving modals as a person does lives in modal-driver.ts; tests import everything from here.
export * from "./modal-driver.ts";

export const SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef";
export const CHANNEL = "C0DRAFTS";
export const DANA = "U0DANA";
export const LEE = "U0LEE";

export interface E2EOptions {
  emulator?: EmulatorOptions;
  /** Options of the fake Slack (e.g. a shorter stream lifetime). */
  slack?: FakeSlackOptions;
  /** Extra environment for the bot (over the defaults below). */
  env?: Record<string, string>;
  /** The status edit interval; the product default is 2 s, tests use less unless they measure it. */
  minEditIntervalMs?: number;
}

/**
 * The real bot (Bolt over signed HTTP, the real Web API client, the real Trigger.dev SDK)
 * against a stateful fake Slack and the Puffle emulator, all on localhost.
 */
export interface E2E {
  slack: FakeSlack;
  emulator: Emulator;
  bot: Bot;
  requester: SlackRequester;
  /** Every log line the bot wrote (JSON). */
  logs: string[];
  /** Stops the bot (not the fakes) and starts a new one over the same store: a restart. */
  restart(): Promise<void>;
  /** Stops the bot without a graceful drain, as a crash would (the store file stays). */
  crash(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The bot's environment pointing at the fakes: the fake Slack (HTTP mode, signed with
 * SIGNING_SECRET, any free port), the emulator for Puffle and realtime, and the seed draft
 * campaign's first email step as the workspace default. Callers add what differs.
 */
export function fakesEnv(slack: FakeSlack, emulator: Emulator): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: "0",
    PUFFLE_API_KEY: emulator.apiKey,
    PUFFLE_API_URL: emulator.url,
    PUFFLE_CAMPAIGN_ID: SEED.draftCampaign.id,
    PUFFLE_NODE_ID: SEED.draftCampaign.emailNodeId,
    TRIGGER_API_URL: emulator.url,
    // Tests send requests far faster than a real key allows; the budget's own tests set a real limit.
    PUFFLE_MAX_RPM: "100000",
  };
}

export async function startE2E(options: E2EOptions = {}): Promise<E2E> {
  const slack = await startFakeSlack(options.slack);
  slack.addUser(DANA, "Dana");
  slack.addUser(LEE, "Lee");
  // Runs stream no reply unless a test asks: most tests follow the status-message path.
  const emulator = await startEmulator({
    taskDelayMs: 150,
    realtimeHoldMs: 400,
    streams: false,
    ...options.emulator,
  });
  const dbUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), "e2e-")), "drafter.db")}`;
  const logs: string[] = [];
  const env = {
    ...fakesEnv(slack, emulator),
    DATABASE_URL: dbUrl,
    LOG_LEVEL: "debug",
    POLL_INTERVAL_MS: "100",
    TURN_TIMEOUT_MS: "10000",
    ...options.env,
  };

  const launch = async () => {
    const config = parseConfig(env);
    const logger = createLogger({
      level: config.logLevel,
      secrets: [config.slack.botToken, config.slack.signingSecret, config.puffle.apiKey],
      destination: new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    });
    return startBot(config, {
      logger,
      slackRetryConfig: { retries: 3, factor: 1, minTimeout: 20, maxTimeout: 100 },
      minEditIntervalMs: options.minEditIntervalMs ?? 200,
      puffleRetry: { baseDelayMs: 10, maxDelayMs: 50 },
    });
  };

  const e2e: E2E = {
    slack,
    emulator,
    bot: await launch(),
    requester: undefined as unknown as SlackRequester,
    logs,
    async restart() {
      await e2e.bot.stop();
      e2e.bot = await launch();
      e2e.requester = requesterFor(e2e.bot);
    },
    async crash() {
      await e2e.bot.stop();
    },
    async close() {
      await e2e.bot.stop();
      await emulator.close();
      await slack.close();
    },
  };
  const requesterFor = (bot: Bot) =>
    createSlackRequester({
      baseUrl: `http://127.0.0.1:${bot.port}`,
      signingSecret: SIGNING_SECRET,
      teamId: slack.teamId,
      botUserId: slack.botUserId,
      responseUrl: (context) => slack.responseUrl(context),
    });
  e2e.requester = requesterFor(e2e.bot);
  return e2e;
}

/** Bot messages of a thread (the root excluded), current versions. */
export function botReplies(slack: FakeSlack, channel: string, threadTs: string): StoredMessage[] {
  return slack.thread(channel, threadTs).filter((m) => m.ts !== threadTs && m.bot_id);
}

/** Every text a person would read in a message: fallback text and block texts. */
export function visibleText(message: StoredMessage): string {
  return JSON.stringify(message.blocks ?? []) + (message.text ?? "");
}

/** The draft cards in a thread, live or superseded (messages with a "Draft..." header block). */
export function draftCards(slack: FakeSlack, channel: string, threadTs: string): StoredMessage[] {
  return slack
    .thread(channel, threadTs)
    .filter((m) =>
      (m.blocks as { type?: string; text?: { text?: string } }[] | undefined)?.some(
        (block) => block.type === "header" && /^Draft/.test(block.text?.text ?? ""),
      ),
    );
}

/** The action ids of every button in a message. */
export function buttonsOf(message: StoredMessage | undefined): { action_id: string; value?: string }[] {
  const blocks = (message?.blocks ?? []) as {
    type?: string;
    elements?: { type?: string; action_id: string; value?: string }[];
  }[];
  return blocks
    .filter((b) => b.type === "actions")
    .flatMap((b) => (b.elements ?? []).filter((e) => e.type === "button"));
}

// ---- people in Slack -------------------------------------------------------------------------------

/** A person mentions the bot: the fake stores the message, and Slack delivers the app_mention event. */
export async function humanMention(
  e2e: E2E,
  input: { channel: string; text: string; user?: string; threadTs?: string },
): Promise<StoredMessage> {
  const user = input.user ?? DANA;
  const message = e2e.slack.addHumanMessage({
    channel: input.channel,
    user,
    text: `<@${e2e.slack.botUserId}> ${input.text}`,
    ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
  });
  const response = await e2e.requester.event(
    appMentionEvent({
      user,
      channel: input.channel,
      text: message.text,
      ts: message.ts,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
    }),
  );
  if (response.status !== 200) throw new Error(`app_mention answered ${response.status}`);
  return message;
}

/** A person writes a message (a reply when threadTs is given), delivered as a `message` event. */
export async function humanMessage(
  e2e: E2E,
  input: { channel: string; text: string; user?: string; threadTs?: string },
): Promise<StoredMessage> {
  const user = input.user ?? DANA;
  const message = e2e.slack.addHumanMessage({
    channel: input.channel,
    user,
    text: input.text,
    ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
  });
  const response = await e2e.requester.event(
    messageEvent({
      user,
      channel: input.channel,
      text: input.text,
      ts: message.ts,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
    }),
  );
  if (response.status !== 200) throw new Error(`message event answered ${response.status}`);
  return message;
}

/** The Puffle session id the bot recorded for a thread ("" when none). */
export async function sessionOf(e2e: E2E, channel: string, threadTs: string): Promise<string> {
  const thread = await e2e.bot.drafting.findThread({
    teamId: e2e.slack.teamId,
    channelId: channel,
    threadTs,
  });
  return thread?.sessionId ?? "";
}

/** Every version of a message's text a person saw, oldest first (edits included). */
export function textHistory(message: StoredMessage): string[] {
  return [...message.edits.map((version) => version.text), message.text];
}

/** Waits until the bot no longer counts the thread as busy (no turn running or waiting). */
export async function threadSettled(e2e: E2E, channel: string, threadTs: string, timeoutMs = 5000) {
  const ref = { teamId: e2e.slack.teamId, channelId: channel, threadTs };
  const deadline = Date.now() + timeoutMs;
  while (await e2e.bot.drafting.isBusy(ref)) {
    if (Date.now() > deadline)
      throw new Error(`thread ${channel}/${threadTs} still busy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The clarifying question Puffle asks on turn 1, once it is in the thread. */
export function waitForQuestion(e2e: E2E, channel: string, threadTs: string): Promise<StoredMessage> {
  return e2e.slack.waitFor(
    () => botReplies(e2e.slack, channel, threadTs).find((m) => /quick questions/i.test(visibleText(m))),
    { message: `the clarifying question in ${channel}/${threadTs}` },
  );
}
