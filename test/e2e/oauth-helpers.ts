// Helpers for the OAuth end-to-end tests: the bot in OAuth mode against the fake Slack, people
// installing it through the install pages, and events from several workspaces.

import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { startBot } from "../../src/bot.ts";
import type { Config } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import type { StoredMessage } from "../support/fake-slack.ts";
import { botReplies, DANA, type E2E, SIGNING_SECRET, visibleText } from "../support/harness.ts";
import {
  appMentionEvent,
  createSlackRequester,
  messageEvent,
  type SlackRequester,
} from "../support/slack-requests.ts";

export const APP = {
  clientId: "1234567890.1234567890",
  clientSecret: "e2e-client-secret-5f3a9c",
  stateSecret: "e2e-state-secret-8d41b7e2c9",
};

/** The bot's environment in OAuth mode: no bot token of its own, no deployment-wide Puffle key. */
export function oauthEnv(encryptionKey = randomBytes(32).toString("base64")): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: "",
    PUFFLE_API_KEY: "",
    SLACK_CLIENT_ID: APP.clientId,
    SLACK_CLIENT_SECRET: APP.clientSecret,
    SLACK_STATE_SECRET: APP.stateSecret,
    ENCRYPTION_KEY: encryptionKey,
  };
}

/** A workspace that installs the app: its team, the person installing, and its channel. */
export interface Team {
  teamId: string;
  teamName: string;
  userId: string;
  channel: string;
  /** The app's bot user there (the fake derives it from the team id). */
  botUserId: string;
}

export function team(suffix: string, userId = DANA): Team {
  return {
    teamId: `T0${suffix}`,
    teamName: suffix[0] + suffix.slice(1).toLowerCase(),
    userId,
    channel: `C0${suffix}GEN`,
    botUserId: `UBOT${suffix}`,
  };
}

export const base = (e2e: E2E) => `http://127.0.0.1:${e2e.bot.port}`;

/** GET /slack/install: the page, the state cookie, and the "Add to Slack" link's parameters. */
export async function openInstallPage(e2e: E2E) {
  const response = await fetch(`${base(e2e)}/slack/install`);
  const html = await response.text();
  const href = /href="([^"]+oauth[^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");
  if (!href) throw new Error(`no "Add to Slack" link on the install page: ${html}`);
  const link = new URL(href);
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return {
    status: response.status,
    html,
    cookie,
    link,
    state: link.searchParams.get("state") ?? "",
    redirectUri: link.searchParams.get("redirect_uri") ?? "",
  };
}

/** Slack sends the person back to the redirect URL with `code` and `state` (and the browser its cookie). */
export async function redirectBack(e2e: E2E, input: { code: string; state: string; cookie?: string }) {
  const query = new URLSearchParams({ code: input.code, state: input.state });
  const response = await fetch(`${base(e2e)}/slack/oauth_redirect?${query}`, {
    headers: input.cookie ? { cookie: input.cookie } : {},
  });
  return { status: response.status, html: await response.text() };
}

/** A person installs the app: the install page, "Allow" in Slack, back to the redirect URL. */
export async function install(e2e: E2E, who: Team) {
  const page = await openInstallPage(e2e);
  const code = e2e.slack.authorizeInstall({
    teamId: who.teamId,
    teamName: who.teamName,
    userId: who.userId,
    redirectUri: page.redirectUri,
    scopes: (page.link.searchParams.get("scope") ?? "").split(","),
  });
  return { ...(await redirectBack(e2e, { code, state: page.state, cookie: page.cookie })), page };
}

/** Signed requests as Slack sends them for one workspace, to the bot running now. */
export function requesterFor(e2e: E2E, who: Team): SlackRequester {
  return createSlackRequester({
    baseUrl: base(e2e),
    signingSecret: SIGNING_SECRET,
    teamId: who.teamId,
    botUserId: who.botUserId,
    responseUrl: (context) => e2e.slack.responseUrl({ ...context, teamId: who.teamId }),
  });
}

/** A person mentions the bot in their workspace's channel. */
export async function mention(e2e: E2E, who: Team, text: string): Promise<StoredMessage> {
  const message = e2e.slack.addHumanMessage({
    channel: who.channel,
    user: who.userId,
    text: `<@${who.botUserId}> ${text}`,
    teamId: who.teamId,
  });
  const event = appMentionEvent({
    user: who.userId,
    channel: who.channel,
    text: message.text,
    ts: message.ts,
    botUserId: who.botUserId,
    team: who.teamId,
  });
  const response = await requesterFor(e2e, who).event(event);
  if (response.status !== 200) throw new Error(`app_mention answered ${response.status}`);
  return message;
}

/** A person replies in a thread. */
export async function reply(
  e2e: E2E,
  who: Team,
  threadTs: string,
  text: string,
  delivery: Parameters<SlackRequester["event"]>[1] = {},
): Promise<void> {
  const message = e2e.slack.addHumanMessage({
    channel: who.channel,
    user: who.userId,
    text,
    thread_ts: threadTs,
    teamId: who.teamId,
  });
  const event = messageEvent({
    user: who.userId,
    channel: who.channel,
    text,
    ts: message.ts,
    thread_ts: threadTs,
    team: who.teamId,
  });
  const response = await requesterFor(e2e, who).event(event, delivery);
  if (response.status !== 200) throw new Error(`message event answered ${response.status}`);
}

export function questionIn(e2e: E2E, who: Team, threadTs: string): Promise<StoredMessage> {
  return e2e.slack.waitFor(
    () => botReplies(e2e.slack, who.channel, threadTs).find((m) => /quick questions/i.test(visibleText(m))),
    { message: `the clarifying question in ${who.teamName}`, timeoutMs: 10_000 },
  );
}

/** The bot's thread record in a workspace. */
export function threadOf(e2e: E2E, who: Team, threadTs: string) {
  return e2e.bot.drafting.findThread({ teamId: who.teamId, channelId: who.channel, threadTs });
}

/** Stops the bot and starts it again over the same store with another config (the harness's options). */
export async function restartWith(e2e: E2E, change: (config: Config) => Config): Promise<void> {
  const config = change(e2e.bot.config);
  await e2e.bot.stop();
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.slack.signingSecret],
    destination: new Writable({
      write(chunk, _encoding, done) {
        e2e.logs.push(String(chunk));
        done();
      },
    }),
  });
  e2e.bot = await startBot(config, {
    logger,
    slackRetryConfig: { retries: 3, factor: 1, minTimeout: 20, maxTimeout: 100 },
    minEditIntervalMs: 200,
    puffleRetry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
}

/** Log lines as objects. */
export const logLines = (e2e: E2E) => e2e.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
