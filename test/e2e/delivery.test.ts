import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  botReplies,
  CHANNEL,
  DANA,
  draftCards,
  type E2E,
  sessionOf as harnessSessionOf,
  humanMention,
  humanMessage,
  LEE,
  SIGNING_SECRET,
  startE2E,
  visibleText,
} from "../support/harness.ts";
import { appMentionEvent, messageEvent } from "../support/slack-requests.ts";

let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(() => e2e.close());
beforeEach(() => {
  e2e.emulator.reset();
  e2e.slack.resetCalls();
});

function mentionMessage(text: string, user = DANA) {
  return e2e.slack.addHumanMessage({ channel: CHANNEL, user, text: `<@${e2e.slack.botUserId}> ${text}` });
}

const startThread = (text = "intro email for VPs of Sales") => humanMention(e2e, { channel: CHANNEL, text });
const reply = (threadTs: string, text: string, user = DANA) =>
  humanMessage(e2e, { channel: CHANNEL, text, user, threadTs });
const sessionOf = (threadTs: string) => harnessSessionOf(e2e, CHANNEL, threadTs);

const waitForReplyMatching = (threadTs: string, pattern: RegExp, timeoutMs = 5000) =>
  e2e.slack.waitFor(
    () => botReplies(e2e.slack, CHANNEL, threadTs).find((m) => pattern.test(visibleText(m))),
    {
      timeoutMs,
    },
  );

describe("exactly once", () => {
  it("three quick replies during a busy turn all reach Puffle, in order, nothing lost", async () => {
    e2e.emulator.faults.inject({ kind: "slow_task", delayMs: 800 });
    const root = await startThread();
    await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, CHANNEL, root.ts).find((m) => /Drafting/.test(visibleText(m))),
    );
    await reply(root.ts, "make it shorter", DANA);
    await reply(root.ts, "mention the Q3 webinar", LEE);
    await reply(root.ts, "and a softer ask", DANA);
    // The thread shows the wait.
    const queued = await waitForReplyMatching(root.ts, /Queued behind the current turn \(3 messages/);
    expect(visibleText(queued)).toMatch(/Dana.*Lee|Lee.*Dana/);
    const sessionId = await sessionOf(root.ts);
    await e2e.slack.waitFor(() => e2e.emulator.state.turnRequests(sessionId).length === 2 || undefined, {
      timeoutMs: 6000,
    });
    expect(e2e.emulator.state.turnRequests(sessionId).map((r) => r.message)).toEqual([
      "intro email for VPs of Sales",
      "Dana: make it shorter\nLee: mention the Q3 webinar\nDana: and a softer ask",
    ]);
    // The queued status message turns into that turn's result.
    await e2e.slack.waitFor(() => {
      const current = e2e.slack.message(CHANNEL, queued.ts);
      return current && !/Queued|Drafting/.test(visibleText(current)) ? current : undefined;
    });
  });

  it("a retried event and a mention delivered as app_mention and as message make one turn", async () => {
    const root = await startThread("intro for CFOs");
    await waitForReplyMatching(root.ts, /question/i);
    const sessionId = await sessionOf(root.ts);

    // Slack retries the same event (same event_id), e.g. after a slow ack.
    const answer = e2e.slack.addHumanMessage({
      channel: CHANNEL,
      user: DANA,
      text: "fintech, 500 people",
      thread_ts: root.ts,
    });
    const event = messageEvent({
      user: DANA,
      channel: CHANNEL,
      text: answer.text,
      ts: answer.ts,
      thread_ts: root.ts,
    });
    await e2e.requester.event(event, { eventId: "Ev0RETRY01" });
    await e2e.requester.event(event, { eventId: "Ev0RETRY01", retryNum: 1, retryReason: "http_timeout" });

    // A mention inside the thread arrives twice, under two event ids.
    const mention = e2e.slack.addHumanMessage({
      channel: CHANNEL,
      user: LEE,
      text: `<@${e2e.slack.botUserId}> also mention payroll`,
      thread_ts: root.ts,
    });
    await e2e.requester.event(
      appMentionEvent({
        user: LEE,
        channel: CHANNEL,
        text: mention.text,
        ts: mention.ts,
        thread_ts: root.ts,
      }),
      { eventId: "Ev0MENTION1" },
    );
    await e2e.requester.event(
      messageEvent({ user: LEE, channel: CHANNEL, text: mention.text, ts: mention.ts, thread_ts: root.ts }),
      { eventId: "Ev0MESSAGE1" },
    );

    await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts).length > 0 || undefined);
    await e2e.bot.idle();
    const sent = e2e.emulator.state.turnRequests(sessionId).map((r) => r.message);
    const all = sent.join("\n");
    expect(all.match(/fintech, 500 people/g)).toHaveLength(1);
    expect(all.match(/also mention payroll/g)).toHaveLength(1);
    // Our own mention is stripped from what Puffle gets.
    expect(all).not.toContain(e2e.slack.botUserId);
  });

  it("dedupe survives a restart: a retry delivered after the restart makes no second turn", async () => {
    const root = mentionMessage("intro for COOs");
    const event = appMentionEvent({ user: DANA, channel: CHANNEL, text: root.text, ts: root.ts });
    await e2e.requester.event(event, { eventId: "Ev0BEFORE01" });
    await waitForReplyMatching(root.ts, /question/i);
    await e2e.restart();
    const retried = await e2e.requester.event(event, {
      eventId: "Ev0BEFORE01",
      retryNum: 2,
      retryReason: "http_error",
    });
    expect(retried.status).toBe(200);
    await e2e.bot.idle();
    expect(e2e.emulator.state.turnRequests(await sessionOf(root.ts))).toHaveLength(1);
    expect(e2e.emulator.stats().requests["sessions.create"]).toBe(1);
  });
});

describe("signed requests", () => {
  it("a bad signature and a stale timestamp get 401 and change nothing", async () => {
    const root = mentionMessage("should never start");
    const event = appMentionEvent({ user: DANA, channel: CHANNEL, text: root.text, ts: root.ts });
    const forged = await e2e.requester.event(event, { badSignature: true });
    const stale = await e2e.requester.event(event, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    await e2e.bot.idle();
    expect(
      await e2e.bot.drafting.findThread({ teamId: e2e.slack.teamId, channelId: CHANNEL, threadTs: root.ts }),
    ).toBeUndefined();
    expect(e2e.emulator.stats().requests).toEqual({});
    expect(e2e.slack.calls.filter((c) => c.method.startsWith("chat."))).toEqual([]);
    expect(SIGNING_SECRET.length).toBeGreaterThan(8);
  });
});

describe("malformed input", () => {
  it("malformed Slack payloads are logged, change nothing, and the bot keeps working", async () => {
    const before = e2e.logs.length;
    // An event without a channel, a message event with a non-string text, a command without a user.
    await e2e.requester.event({ type: "app_mention", user: DANA, text: "<@U0BOT> hi", ts: "1.1" });
    await e2e.requester.event({
      type: "message",
      user: DANA,
      channel: CHANNEL,
      text: 42,
      ts: "1.2",
      thread_ts: "1.0",
    });
    await e2e.requester.command({ text: "a brief", user_id: "", channel_id: CHANNEL });
    const garbage = await e2e.requester.raw("payload=%7Bnot-json", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(garbage.status).toBeGreaterThanOrEqual(400);
    await e2e.bot.idle();
    const lines = e2e.logs.slice(before).join("");
    expect(lines).toContain("event.malformed");
    expect(lines).toContain("command.malformed");
    expect(e2e.emulator.stats().requests).toEqual({});
    // Still answering.
    const root = await startThread("after the garbage");
    await waitForReplyMatching(root.ts, /question/i);
  });
});

describe("what Slack shows", () => {
  it("model output with <!channel>, <@U123> and a disguised link is shown harmlessly", async () => {
    const root = await startThread();
    await waitForReplyMatching(root.ts, /question/i);
    const hostile = "Heads up <!channel> and <@U123>: see <https://evil.example|your invoice> or <!here>.";
    e2e.emulator.faults.inject({
      kind: "scripted_reply",
      assistant: `**Done.** ${hostile}`,
      draft_subject: "Re: <!channel> <@U123>",
      draft_body: `Hi %first_name%,\n\n${hostile}\n\nBest,\n%sender_first%`,
    });
    await reply(root.ts, "go");
    const card = await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts)[0]);
    await waitForReplyMatching(root.ts, /Done/);
    // Nothing the model wrote pings anyone or becomes a link, in any message a person sees.
    for (const message of e2e.slack.thread(CHANNEL, root.ts).filter((m) => m.bot_id)) {
      const seen = e2e.slack.seen(CHANNEL, message.ts);
      expect(seen?.spans.filter((span) => span.mention)).toEqual([]);
      expect(seen?.spans.filter((span) => span.link && span.link !== span.text)).toEqual([]);
    }
    // The card shows Puffle's words literally, as typed.
    expect(e2e.slack.seen(CHANNEL, card.ts)?.text).toContain("Heads up <!channel> and <@U123>");
  });

  it("a 10,000-character draft body is accepted by Slack's limits and shown in full", async () => {
    const root = await startThread();
    await waitForReplyMatching(root.ts, /question/i);
    const paragraph = "We help revenue teams ramp new reps faster with guided onboarding. ";
    const body = `Hi %first_name%,\n\n${paragraph.repeat(Math.ceil(10_000 / paragraph.length))}`.slice(
      0,
      10_000,
    );
    e2e.emulator.faults.inject({
      kind: "scripted_reply",
      assistant: "Here is the long version.",
      draft_body: body,
    });
    await reply(root.ts, "make it much longer");
    await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts).length > 0 || undefined);
    await waitForReplyMatching(root.ts, /long version/);
    const rejected = e2e.slack.calls.filter((c) => !c.ok);
    expect(rejected).toEqual([]);
    const shown = e2e.slack
      .thread(CHANNEL, root.ts)
      .filter((m) => m.bot_id)
      .map((m) => visibleText(m))
      .join("");
    // Every sentence of the body reached Slack (split across blocks or messages).
    const sentences = body.split(". ").length;
    expect(shown.split("guided onboarding").length - 1).toBeGreaterThanOrEqual(sentences - 2);
  });

  it("a Slack 429 on an update still ends with the result shown", async () => {
    const root = await startThread();
    e2e.slack.rateLimit("chat.update", { retryAfterSeconds: 1, times: 1 });
    const answer = await waitForReplyMatching(root.ts, /question/i, 8000);
    expect(visibleText(answer)).toContain("VPs of Sales");
    expect(e2e.slack.callsTo("chat.update").some((c) => c.error === "ratelimited")).toBe(true);
  });
});

describe("Puffle failures become clear thread messages", () => {
  it("402 out of credits: plain words and a Retry button", async () => {
    e2e.emulator.faults.inject({
      kind: "status",
      status: 402,
      route: "sessions.turn",
      error: "Out of credits",
    });
    const root = await startThread();
    const failure = await waitForReplyMatching(root.ts, /out of credits/i);
    expect(visibleText(failure)).toMatch(/Retry/);
    expect(visibleText(failure)).not.toMatch(/Error:|at .*\.ts:\d+/);
  });

  it("401: the operator is told loudly in the logs, the thread in plain words, no Retry", async () => {
    e2e.emulator.faults.inject({ kind: "status", status: 401, route: "sessions.create" });
    const root = await startThread();
    const failure = await waitForReplyMatching(root.ts, /API key/i);
    expect(visibleText(failure)).not.toMatch(/"Retry"/);
    expect(e2e.logs.join("")).toMatch(/puffle\.unauthorized/);
  });

  it("a persistent 500 on dispatch ends in a Puffle error message after the retries", async () => {
    e2e.emulator.faults.inject({ kind: "dispatch_500", route: "sessions.turn", times: 10 });
    const root = await startThread();
    const failure = await waitForReplyMatching(root.ts, /Puffle/i);
    expect(visibleText(failure)).toMatch(/Retry/);
    expect(e2e.emulator.stats().requests["sessions.turn"]).toBeGreaterThanOrEqual(2);
  });

  it("a malformed answer while watching is a clear message and loses nothing", async () => {
    e2e.emulator.faults.inject({ kind: "slow_task", delayMs: 400 });
    const root = await startThread();
    await waitForReplyMatching(root.ts, /Drafting/);
    e2e.emulator.faults.inject({
      kind: "malformed_json",
      route: "sessions.get",
      times: Number.POSITIVE_INFINITY,
    });
    const failure = await waitForReplyMatching(root.ts, /could not read/i, 8000);
    expect(visibleText(failure)).not.toMatch(/SyntaxError|Unexpected token/);
    e2e.emulator.faults.clear();
    const turns = await e2e.bot.drafting.turnsOf(
      (await e2e.bot.drafting.findThread({ teamId: e2e.slack.teamId, channelId: CHANNEL, threadTs: root.ts }))
        ?.id ?? 0,
    );
    expect(turns.map((t) => [t.state, t.text])).toEqual([["failed", "intro email for VPs of Sales"]]);
  });
});

describe("restart", () => {
  it("a restart in the middle of a turn posts the result once", async () => {
    e2e.emulator.faults.inject({ kind: "slow_task", delayMs: 1200 });
    const root = await startThread();
    await waitForReplyMatching(root.ts, /Drafting/);
    await e2e.restart();
    await waitForReplyMatching(root.ts, /question/i, 8000);
    await e2e.bot.idle();
    const answers = botReplies(e2e.slack, CHANNEL, root.ts).filter((m) => /question/i.test(visibleText(m)));
    expect(answers).toHaveLength(1);
    expect(e2e.emulator.state.turnRequests(await sessionOf(root.ts))).toHaveLength(1);
  });
});

describe("operations", () => {
  it("serves /healthz and /readyz", async () => {
    const base = `http://127.0.0.1:${e2e.bot.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true });
  });

  it("writes no secret to its logs", () => {
    const all = e2e.logs.join("");
    expect(all.length).toBeGreaterThan(1000);
    for (const secret of [e2e.slack.token, SIGNING_SECRET, e2e.emulator.apiKey])
      expect(all).not.toContain(secret);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./);
  });
});
