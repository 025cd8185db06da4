import { afterEach, describe, expect, it } from "vitest";
import type { EmulatorOptions } from "../../emulator/server.ts";
import type { FakeSlackOptions } from "../support/fake-slack.ts";
import {
  botReplies,
  CHANNEL,
  DANA,
  draftCards,
  type E2E,
  humanMention,
  humanMessage,
  startE2E,
  visibleText,
} from "../support/harness.ts";

/**
 * Live writing (SPEC 9): Puffle's reply streams into the thread while the task runs, through Slack's
 * streaming methods, and ends as exactly the session's reply. Any streaming failure falls back to the
 * status message, with the reply shown once.
 */
let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

async function start(emulator: EmulatorOptions = {}, slack: FakeSlackOptions = {}) {
  e2e = await startE2E({ emulator: { taskDelayMs: 1200, streams: true, ...emulator }, slack });
  return e2e;
}

/** The session's last assistant message, as Puffle saved it. */
function savedReply(e: E2E, sessionId: string): string {
  const messages = e.emulator.state.sessions.get(sessionId)?.messages ?? [];
  return messages.filter((m) => m.role === "assistant").at(-1)?.content ?? "";
}

const QUESTION = /three quick questions/i;

describe("the reply streams into the thread as Puffle writes it", () => {
  for (const version of ["v1", "v2"] as const) {
    it(`is visible word by word before the task ends, and ends as the saved reply, once (${version} framing)`, async () => {
      const e = await start({ streamVersion: version });
      let completedAt = 0;
      e.emulator.events.on("task.completed", (event: { at: number }) => {
        completedAt = event.at;
      });
      const root = await humanMention(e, { channel: CHANNEL, text: "intro email for CFOs" });
      await e.slack.waitFor(() => completedAt > 0, { timeoutMs: 10_000 });
      await e.bot.idle();
      const streamed = e.slack.callsTo("chat.startStream");
      expect(streamed).toHaveLength(1);
      expect(streamed[0]?.args).toMatchObject({ recipient_user_id: DANA, recipient_team_id: e.slack.teamId });
      const firstSeen = e.slack.seenAt(CHANNEL, root.ts, /Thanks/);
      expect(firstSeen).toBeDefined();
      // Seen at least half a second before Puffle saved the reply.
      expect(completedAt - (firstSeen ?? Infinity)).toBeGreaterThan(500);
      const replies = botReplies(e.slack, CHANNEL, root.ts);
      expect(replies).toHaveLength(1); // no status message: the stream showed the progress
      expect(e.slack.timesShown(CHANNEL, root.ts, QUESTION)).toBe(1);
      const sessionId =
        (await e.bot.drafting.findThread({ teamId: e.slack.teamId, channelId: CHANNEL, threadTs: root.ts }))
          ?.sessionId ?? "";
      const saved = savedReply(e, sessionId);
      expect(replies[0]?.text.replace(/\s+/g, " ").trim()).toBe(saved.replace(/\s+/g, " ").trim());
      expect(e.slack.currentStatus(CHANNEL, root.ts)).toBe("");
    });
  }

  it("takes every chunk shape Puffle might write, and ignores chunks that are not text", async () => {
    const e = await start({ chunkShape: "mixed", nonTextChunks: true });
    const root = await humanMention(e, { channel: CHANNEL, text: "intro, mixed chunks" });
    await e.slack.waitFor(() => botReplies(e.slack, CHANNEL, root.ts).some((m) => QUESTION.test(m.text)), {
      timeoutMs: 10_000,
    });
    await e.bot.idle();
    expect(e.slack.timesShown(CHANNEL, root.ts, QUESTION)).toBe(1);
    expect(
      botReplies(e.slack, CHANNEL, root.ts)
        .map((m) => m.text)
        .join(""),
    ).not.toMatch(/tool-call|finish/);
  });

  it("the draft card follows the streamed reply as usual", async () => {
    const e = await start({ taskDelayMs: 600 });
    const root = await humanMention(e, { channel: CHANNEL, text: "intro for CTOs" });
    await e.slack.waitFor(() => botReplies(e.slack, CHANNEL, root.ts).some((m) => QUESTION.test(m.text)), {
      timeoutMs: 10_000,
    });
    await humanMessage(e, { channel: CHANNEL, threadTs: root.ts, text: "Mid-market SaaS, CRO sends it" });
    await e.slack.waitFor(() => draftCards(e.slack, CHANNEL, root.ts).length === 1, { timeoutMs: 10_000 });
    await e.bot.idle();
    expect(e.slack.callsTo("chat.startStream")).toHaveLength(2);
    expect(
      botReplies(e.slack, CHANNEL, root.ts).filter((m) => /Drafting\.\.\./.test(visibleText(m))),
    ).toEqual([]);
  });
});

describe("when streaming fails, the status message shows the reply, once", () => {
  for (const error of ["unknown_method", "not_allowed"]) {
    it(`Slack refuses the streaming methods (${error})`, async () => {
      const e = await start();
      e.slack.disableStreaming(error);
      const root = await humanMention(e, { channel: CHANNEL, text: `intro, streaming ${error}` });
      await e.slack.waitFor(() => botReplies(e.slack, CHANNEL, root.ts).some((m) => QUESTION.test(m.text)), {
        timeoutMs: 10_000,
      });
      await e.bot.idle();
      expect(e.slack.timesShown(CHANNEL, root.ts, QUESTION)).toBe(1);
      expect(botReplies(e.slack, CHANNEL, root.ts)).toHaveLength(1);
      expect(e.logs.some((line) => line.includes("slack.stream_fallback"))).toBe(true);
    });
  }

  it("the stream expires before the task ends: the message still ends as the whole reply", async () => {
    const e = await start({ taskDelayMs: 1500 }, { streamMaxAgeMs: 400 });
    const root = await humanMention(e, { channel: CHANNEL, text: "intro, a stream that expires" });
    await e.slack.waitFor(
      () =>
        botReplies(e.slack, CHANNEL, root.ts).some((m) => QUESTION.test(m.text) && /framework/.test(m.text)),
      { timeoutMs: 10_000 },
    );
    await e.bot.idle();
    expect(e.slack.timesShown(CHANNEL, root.ts, QUESTION)).toBe(1);
    expect(botReplies(e.slack, CHANNEL, root.ts)).toHaveLength(1);
  });

  it("the run's stream refuses the token: no stream, the status message path", async () => {
    const e = await start();
    e.emulator.faults.inject({ kind: "stream_401" });
    const root = await humanMention(e, { channel: CHANNEL, text: "intro, stream refused" });
    await e.slack.waitFor(() => botReplies(e.slack, CHANNEL, root.ts).some((m) => QUESTION.test(m.text)), {
      timeoutMs: 10_000,
    });
    await e.bot.idle();
    expect(e.slack.timesShown(CHANNEL, root.ts, QUESTION)).toBe(1);
  });

  it("a stream cut off half-way ends as the whole reply", async () => {
    const e = await start();
    e.emulator.faults.inject({ kind: "stream_cut", afterChunks: 5, how: "end" });
    const root = await humanMention(e, { channel: CHANNEL, text: "intro, stream cut" });
    await e.slack.waitFor(() => botReplies(e.slack, CHANNEL, root.ts).some((m) => /framework/.test(m.text)), {
      timeoutMs: 10_000,
    });
    await e.bot.idle();
    expect(e.slack.timesShown(CHANNEL, root.ts, QUESTION)).toBe(1);
    expect(botReplies(e.slack, CHANNEL, root.ts)).toHaveLength(1);
  });
});
