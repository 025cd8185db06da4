import type { AddressInfo } from "node:net";
import { App, LogLevel } from "@slack/bolt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import {
  appMentionEvent,
  createSlackRequester,
  messageEvent,
  type SlackRequester,
  signSlackRequest,
} from "../support/slack-requests.ts";

const SIGNING_SECRET = "test-signing-secret";
const CHANNEL = "C0DRAFTS";

let fake: FakeSlack;
let app: App;
let slack: SlackRequester;
/** What the app's listeners received, in order. */
let received: { kind: string; body: Record<string, unknown>; retryNum?: number; retryReason?: string }[] = [];

beforeAll(async () => {
  fake = await startFakeSlack();
  app = new App({
    signingSecret: SIGNING_SECRET,
    token: fake.token,
    // Known bot identity: Bolt skips its startup auth.test.
    botId: fake.botId,
    botUserId: fake.botUserId,
    clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    logLevel: LogLevel.ERROR,
  });
  registerListeners(app);
  const server = (await app.start(0)) as { address(): AddressInfo | string | null };
  const { port } = server.address() as AddressInfo;
  slack = createSlackRequester({
    baseUrl: `http://127.0.0.1:${port}`,
    signingSecret: SIGNING_SECRET,
    responseUrl: (context) => fake.responseUrl(context),
  });
});

afterAll(async () => {
  await app.stop();
  await fake.close();
});

beforeEach(() => {
  received = [];
});

function registerListeners(bolt: App): void {
  bolt.event("app_mention", async ({ event, body, context, say }) => {
    received.push({
      kind: "app_mention",
      body,
      retryNum: context.retryNum,
      retryReason: context.retryReason,
    });
    await say({ text: `On it: ${event.text}`, thread_ts: event.thread_ts ?? event.ts });
  });
  bolt.message(async ({ body }) => {
    received.push({ kind: "message", body });
  });
  bolt.command("/draft", async ({ ack, body, respond }) => {
    await ack();
    received.push({ kind: "command", body });
    await respond({ text: `Usage: /draft [brief] (you said "${body.text}")` });
  });
  bolt.action("draft.shorter", async ({ ack, body, respond, client }) => {
    await ack();
    received.push({ kind: "action", body: { ...body } });
    const triggerId = "trigger_id" in body ? body.trigger_id : "";
    await client.views.open({
      trigger_id: triggerId,
      view: { type: "modal", title: { type: "plain_text", text: "Refine" }, blocks: [] },
    });
    await respond({ replace_original: true, text: "Draft v1 (superseded)" });
  });
  bolt.shortcut("draft.from_message", async ({ ack, body }) => {
    await ack();
    received.push({ kind: "shortcut", body: { ...body } });
  });
  bolt.view("picker.submit", async ({ ack, body }) => {
    await ack();
    received.push({ kind: "view_submission", body: { ...body } });
  });
}

const waitForReceived = (kind: string) => fake.waitFor(() => received.find((r) => r.kind === kind));

describe("signed requests against Bolt's own verification", () => {
  it("delivers a signed app_mention and the listener's reply lands in the fake's thread", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "<@U0BOT> intro email" });
    const event = appMentionEvent({ user: "U0DANA", channel: CHANNEL, text: "intro email", ts: root.ts });

    const response = await slack.event(event);
    expect(response.status).toBe(200);

    const delivered = await waitForReceived("app_mention");
    expect(delivered.body).toMatchObject({ type: "event_callback", event: { text: "<@U0BOT> intro email" } });
    expect(delivered.retryNum).toBeUndefined();
    const thread = await fake.waitFor(
      () => fake.thread(CHANNEL, root.ts).length === 2 && fake.thread(CHANNEL, root.ts),
    );
    expect(thread[1]?.text).toBe("On it: <@U0BOT> intro email");
  });

  it("answers 401 to a bad signature and does not deliver the event", async () => {
    const forged = appMentionEvent({ user: "U0EVE", channel: CHANNEL, text: "forged" });
    expect((await slack.event(forged, { badSignature: true })).status).toBe(401);
    await expectOnlyLaterEventDelivered();
  });

  it("answers 401 to a stale timestamp and does not deliver the event", async () => {
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const stale = appMentionEvent({ user: "U0EVE", channel: CHANNEL, text: "replayed" });
    expect((await slack.event(stale, { timestamp: sixMinutesAgo })).status).toBe(401);
    await expectOnlyLaterEventDelivered();
  });

  it("passes retry headers through to context.retryNum and context.retryReason", async () => {
    const event = appMentionEvent({ user: "U0DANA", channel: CHANNEL, text: "again" });
    const first = await slack.event(event);
    await slack.event(event, { eventId: String(first.request.event_id), retryNum: 1 });
    await fake.waitFor(() => received.length === 2);
    expect(received.map((r) => [r.body.event_id, r.retryNum, r.retryReason])).toEqual([
      [first.request.event_id, undefined, undefined],
      [first.request.event_id, 1, "http_timeout"],
    ]);
  });

  it("delivers message events with realistic fields", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "root" });
    const event = messageEvent({
      user: "U0LEE",
      channel: CHANNEL,
      text: "make it &lt;shorter&gt; &amp; warmer",
      thread_ts: root.ts,
    });
    await slack.event(event);
    const delivered = await waitForReceived("message");
    expect(delivered.body.event).toMatchObject({
      type: "message",
      channel_type: "channel",
      thread_ts: root.ts,
      client_msg_id: expect.any(String),
      blocks: [
        {
          type: "rich_text",
          elements: [
            { type: "rich_text_section", elements: [{ type: "text", text: "make it <shorter> & warmer" }] },
          ],
        },
      ],
    });
  });

  it("sends slash commands form-encoded; respond() reaches the fake as an ephemeral", async () => {
    const response = await slack.command({
      command: "/draft",
      text: "help",
      user_id: "U0DANA",
      channel_id: CHANNEL,
    });
    expect(response.status).toBe(200);
    const delivered = await waitForReceived("command");
    expect(delivered.body).toMatchObject({
      command: "/draft",
      text: "help",
      user_id: "U0DANA",
      channel_id: CHANNEL,
    });
    const [ephemeral] = await fake.waitFor(
      () => fake.ephemerals(CHANNEL, "U0DANA").length > 0 && fake.ephemerals(CHANNEL, "U0DANA"),
    );
    expect(ephemeral?.text).toBe('Usage: /draft [brief] (you said "help")');
  });

  it("sends block actions from a stored message, with block_id and trigger_id as Slack fills them", async () => {
    const card = await app.client.chat.postMessage({
      channel: CHANNEL,
      text: "Draft v1",
      blocks: [
        {
          type: "actions",
          block_id: "draft.actions",
          elements: [
            {
              type: "button",
              text: { type: "plain_text", text: "Shorter" },
              action_id: "draft.shorter",
              value: "s1:v1",
            },
          ],
        },
      ],
    });
    const message = fake.message(CHANNEL, card.ts ?? "");
    if (!message) throw new Error("card not stored");

    const response = await slack.blockAction({
      user: "U0DANA",
      channel: CHANNEL,
      message,
      actions: [{ action_id: "draft.shorter" }],
    });
    expect(response.status).toBe(200);
    const delivered = await waitForReceived("action");
    expect(delivered.body).toMatchObject({
      type: "block_actions",
      container: { type: "message", message_ts: card.ts, channel_id: CHANNEL },
      actions: [{ action_id: "draft.shorter", block_id: "draft.actions", value: "s1:v1", type: "button" }],
    });
    await fake.waitFor(() => fake.message(CHANNEL, card.ts ?? "")?.text === "Draft v1 (superseded)");
    expect(fake.views().at(-1)?.trigger_id).toBe(response.request.trigger_id);
  });

  it("sends message shortcuts and view submissions Bolt routes by callback_id", async () => {
    const message = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "draft from this" });
    await slack.messageShortcut({
      callback_id: "draft.from_message",
      user: "U0LEE",
      channel: CHANNEL,
      message,
    });
    const shortcut = await waitForReceived("shortcut");
    expect(shortcut.body).toMatchObject({
      type: "message_action",
      message_ts: message.ts,
      message: { text: "draft from this" },
    });

    const values = { brief: { value: { type: "plain_text_input", value: "VPs of Sales" } } };
    await slack.viewSubmission({
      user: "U0LEE",
      view: { callback_id: "picker.submit", private_metadata: '{"channel":"C0DRAFTS"}', state: { values } },
    });
    const submission = await waitForReceived("view_submission");
    expect(submission.body).toMatchObject({
      type: "view_submission",
      view: { private_metadata: '{"channel":"C0DRAFTS"}', state: { values } },
    });
  });

  it("answers url_verification with the challenge and 400 to a signed but malformed body", async () => {
    const verification = await slack.urlVerification("abc123");
    expect(verification.status).toBe(200);
    expect(JSON.parse(verification.body)).toEqual({ challenge: "abc123" });

    const malformed = await slack.raw("{not json", { "content-type": "application/json" });
    expect(malformed.status).toBe(400);
  });
});

describe("signSlackRequest", () => {
  it("matches Slack's documented example", () => {
    // The worked example of Slack's "Verifying requests from Slack" guide.
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    expect(signSlackRequest("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body)).toBe(
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    );
  });
});

/** A rejected request changes nothing: a valid event sent after it is the only one the app sees. */
async function expectOnlyLaterEventDelivered(): Promise<void> {
  const genuine = appMentionEvent({ user: "U0DANA", channel: CHANNEL, text: "genuine" });
  expect((await slack.event(genuine)).status).toBe(200);
  await waitForReceived("app_mention");
  expect(received.map((r) => (r.body.event as { text: string }).text)).toEqual(["<@U0BOT> genuine"]);
}
