import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.ts";
import type { ThreadRecord } from "../../src/drafting/store.ts";
import { createSilentLogger } from "../../src/logger.ts";
import { createPoster } from "../../src/slack/poster.ts";
import { createStreamWriter } from "../../src/slack/stream-writer.ts";
import type { Store } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(() => slack.close());

const held = { held: true, assertHeld() {} };
const dana = { id: "U0DANA", name: "Dana" };

function writerOn(store: Store) {
  const client = new WebClient(slack.token, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const clients = { forTeam: async () => client };
  const logger = createSilentLogger();
  const queues = new Map<number, Promise<void>>();
  return createStreamWriter({
    clients,
    poster: createPoster({ clients, messages: store, clock: systemClock, logger }),
    messages: store,
    clock: systemClock,
    logger,
    run: (threadId, _what, work) => {
      const next = (queues.get(threadId) ?? Promise.resolve()).then(work).catch(() => {});
      queues.set(threadId, next);
      return next;
    },
  });
}

function threadIn(channel: string): ThreadRecord {
  const root = slack.addHumanMessage({ channel, user: "U0DANA", text: "brief" });
  return {
    id: Number(root.ts.replace(".", "").slice(-6)),
    teamId: slack.teamId,
    channelId: channel,
    threadTs: root.ts,
    sessionId: "s",
    campaignId: "c",
    nodeId: "n",
    startedBy: "U0DANA",
    createdAt: 0,
    draftHash: null,
    turnCount: 1,
    messageCount: 0,
    endedAt: null,
    endedReason: null,
    savedAt: null,
    draftVersion: null,
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

describe("stream writer", () => {
  it("batches appends: many small deltas in a moment make a few calls", async () => {
    const writer = writerOn(createSqliteStore({ url: "sqlite::memory:" }));
    const thread = threadIn("C0SW1");
    slack.resetCalls();
    for (let i = 0; i < 40; i++) await writer.text(thread, "stream:a", dana, `word${i} `, held);
    await settle();
    expect(slack.callsTo("chat.startStream")).toHaveLength(1);
    // 40 words (about 280 characters) in a few milliseconds: the 200-character rule, then the timer.
    expect(slack.callsTo("chat.appendStream").length).toBeLessThanOrEqual(2);
    expect(
      await writer.finish(
        thread,
        "stream:a",
        [Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ")],
        held,
      ),
    ).toBe(true);
    const [message] = slack.thread(thread.channelId, thread.threadTs).filter((m) => m.bot_id);
    expect(message?.text.trim()).toBe(Array.from({ length: 40 }, (_, i) => `word${i}`).join(" "));
  });

  it("ends as the session's reply where the streamed text differs from it", async () => {
    const writer = writerOn(createSqliteStore({ url: "sqlite::memory:" }));
    const thread = threadIn("C0SW2");
    await writer.text(thread, "stream:b", dana, "Hi the", held);
    await writer.text(thread, "stream:b", dana, "re, draft", held);
    await settle();
    expect(await writer.finish(thread, "stream:b", ["Hello there, here is the draft"], held)).toBe(true);
    const messages = slack.thread(thread.channelId, thread.threadTs).filter((m) => m.bot_id);
    expect(messages.map((m) => m.text)).toEqual([expect.stringContaining("Hello there, here is the draft")]);
    expect(messages[0]?.text).not.toContain("Hi there");
  });

  it("escapes what the model wrote: no channel ping, no invented link", async () => {
    const writer = writerOn(createSqliteStore({ url: "sqlite::memory:" }));
    const thread = threadIn("C0SW3");
    await writer.text(thread, "stream:c", dana, "Tell <!channel> about <https://evil.example|this>", held);
    await settle();
    const call = slack.callsTo("chat.startStream").at(-1);
    expect(String(call?.args.markdown_text)).toBe(
      "Tell &lt;!channel&gt; about &lt;https://evil.example|this&gt;",
    );
    await writer.finish(thread, "stream:c", ["Tell <!channel> about <https://evil.example|this>"], held);
  });

  it("a replica taking the thread over finishes the stream another one started, and never appends to it", async () => {
    const store = createSqliteStore({ url: "sqlite::memory:" });
    const first = writerOn(store);
    const thread = threadIn("C0SW4");
    await first.text(thread, "stream:d", dana, "Half of the ", held);
    await settle();
    const second = writerOn(store);
    const appendsBefore = slack.callsTo("chat.appendStream").length;
    await second.text(thread, "stream:d", dana, "answer", held); // the new driver re-reads the run's stream
    await settle();
    expect(slack.callsTo("chat.appendStream").length).toBe(appendsBefore);
    expect(await second.active("stream:d")).toBe(true);
    expect(await second.finish(thread, "stream:d", ["Half of the answer, whole."], held)).toBe(true);
    const messages = slack.thread(thread.channelId, thread.threadTs).filter((m) => m.bot_id);
    expect(messages.map((m) => m.text)).toEqual([expect.stringContaining("Half of the answer, whole.")]);
  });

  it("answers false when nothing streamed, so the reply goes the usual way", async () => {
    const writer = writerOn(createSqliteStore({ url: "sqlite::memory:" }));
    expect(await writer.finish(threadIn("C0SW5"), "stream:e", ["Reply."], held)).toBe(false);
  });
});
