import { setTimeout as sleep } from "node:timers/promises";
import { type Logger, LogLevel, WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, type FakeSlackOptions, startFakeSlack } from "../support/fake-slack.ts";

const CHANNEL = "C0DRAFTS";
const DM = "D0DANA";

let fake: FakeSlack;
let client: WebClient;

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

async function start(options: FakeSlackOptions = {}): Promise<void> {
  fake = await startFakeSlack(options);
  client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: silent });
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  await fake.close();
});

/** A person's root message in CHANNEL and the recipient arguments a channel stream needs. */
function rootAndRecipient() {
  const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "write the intro" });
  const args = {
    channel: CHANNEL,
    thread_ts: root.ts,
    recipient_user_id: "U0DANA",
    recipient_team_id: fake.teamId,
  };
  return { root, args };
}

const errorOf = (call: Promise<unknown>) =>
  call.then(
    () => "ok",
    (e: { data?: { error?: string } }) => e.data?.error,
  );

describe("chat.startStream", () => {
  it("needs recipient_user_id and recipient_team_id in a channel, not in a DM", async () => {
    const { root } = rootAndRecipient();
    const base = { channel: CHANNEL, thread_ts: root.ts };
    expect(await errorOf(client.chat.startStream(base))).toBe("missing_recipient_team_id");
    expect(await errorOf(client.chat.startStream({ ...base, recipient_team_id: fake.teamId }))).toBe(
      "missing_recipient_user_id",
    );
    expect(await errorOf(client.chat.startStream({ ...base, recipient_user_id: "U0DANA" }))).toBe(
      "missing_recipient_team_id",
    );
    const dmRoot = fake.addHumanMessage({ channel: DM, user: "U0DANA", text: "hi" });
    const dm = await client.chat.startStream({ channel: DM, thread_ts: dmRoot.ts, markdown_text: "Hel" });
    expect(dm.ts).toMatch(/^\d+\.\d{6}$/);
    expect(fake.thread(DM, dmRoot.ts).map((m) => m.text)).toEqual(["hi", "Hel"]);
  });

  it("is a message in the thread showing the text streamed so far", async () => {
    const { root, args } = rootAndRecipient();
    const { ts = "" } = await client.chat.startStream({ ...args, markdown_text: "Here is " });
    await client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "your **draft**" });
    expect(fake.thread(CHANNEL, root.ts).map((m) => m.text)).toEqual([
      "write the intro",
      "Here is your **draft**",
    ]);
    expect(fake.message(CHANNEL, ts)).toMatchObject({
      user: fake.botUserId,
      bot_id: fake.botId,
      thread_ts: root.ts,
      stream: { state: "streaming", recipient_user_id: "U0DANA" },
    });
    expect(fake.render(CHANNEL, root.ts)).toContain(`· ${ts} · streaming\n  Here is your **draft**`);
    const replies = await client.conversations.replies({ channel: CHANNEL, ts: root.ts });
    expect(replies.messages?.[1]).toMatchObject({ ts, text: "Here is your **draft**", bot_id: fake.botId });

    await client.chat.stopStream({ channel: CHANNEL, ts });
    expect(fake.message(CHANNEL, ts)?.stream?.state).toBe("stopped");
    expect(fake.render(CHANNEL, root.ts)).not.toContain("streaming");
  });
});

describe("a stream through the WebClient's chatStream helper", () => {
  it("records every state a person saw, with times, and the final text exactly once", async () => {
    const { root, args } = rootAndRecipient();
    const streamer = client.chatStream({ ...args, buffer_size: 5 });
    const before = performance.now();
    await streamer.append({ markdown_text: "Hello" });
    await streamer.append({ markdown_text: " there," });
    await streamer.append({ markdown_text: " Dana" });
    await streamer.stop({ markdown_text: "!" });
    const ts = streamer.ts ?? "";

    const history = fake.streamHistory(CHANNEL, ts);
    expect(history.map((v) => [v.via, v.text, v.stream])).toEqual([
      ["chat.startStream", "Hello", "streaming"],
      ["chat.appendStream", "Hello there,", "streaming"],
      ["chat.appendStream", "Hello there, Dana", "streaming"],
      ["chat.stopStream", "Hello there, Dana!", "stopped"],
    ]);
    const times = history.map((v) => v.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(fake.seenAt(CHANNEL, root.ts, "Hello")).toBe(times[0]);
    expect(fake.seenAt(CHANNEL, root.ts, "Dana!")).toBe(times[3]);
    expect(fake.seenAt(CHANNEL, root.ts, "Hello")).toBeGreaterThanOrEqual(before);
    expect(fake.seenAt(CHANNEL, root.ts, "nowhere")).toBeUndefined();
    expect(fake.timesShown(CHANNEL, root.ts, "Hello there, Dana!")).toBe(1);
  });

  it("counts a fallback post of the same text as a second showing", async () => {
    const { root, args } = rootAndRecipient();
    const streamer = client.chatStream({ ...args, buffer_size: 1 });
    await streamer.append({ markdown_text: "The reply" });
    await streamer.stop();
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts, text: "The reply" });
    expect(fake.timesShown(CHANNEL, root.ts, "The reply")).toBe(2);
  });
});

describe("streaming and the thread status", () => {
  it("keeps the status through the start and clears it on the first append", async () => {
    const { root, args } = rootAndRecipient();
    await client.assistant.threads.setStatus({
      channel_id: CHANNEL,
      thread_ts: root.ts,
      status: "is drafting...",
    });
    const { ts = "" } = await client.chat.startStream({ ...args, markdown_text: "A" });
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("is drafting...");
    await client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "B" });
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("");
    // A status set after that stays through later appends, until the stop.
    await client.assistant.threads.setStatus({
      channel_id: CHANNEL,
      thread_ts: root.ts,
      status: "is checking...",
    });
    await client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "C" });
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("is checking...");
    await client.chat.stopStream({ channel: CHANNEL, ts });
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("");
  });

  it("clears it on the stop when nothing was appended", async () => {
    const { root, args } = rootAndRecipient();
    await client.assistant.threads.setStatus({
      channel_id: CHANNEL,
      thread_ts: root.ts,
      status: "is drafting...",
    });
    const { ts = "" } = await client.chat.startStream(args);
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("is drafting...");
    await client.chat.stopStream({ channel: CHANNEL, ts, markdown_text: "Done" });
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("");
  });
});

describe("stream limits and states", () => {
  it("refuses more than 12,000 characters in one call with msg_too_long", async () => {
    const { args } = rootAndRecipient();
    expect(await errorOf(client.chat.startStream({ ...args, markdown_text: "a".repeat(12_001) }))).toBe(
      "msg_too_long",
    );
    const { ts = "" } = await client.chat.startStream({ ...args, markdown_text: "a".repeat(12_000) });
    expect(fake.message(CHANNEL, ts)?.text).toHaveLength(12_000);
    const chunks = [
      { type: "markdown_text" as const, text: "a".repeat(6000) },
      { type: "markdown_text" as const, text: "a".repeat(6001) },
    ];
    const second = await client.chat.startStream({ ...args });
    expect(await errorOf(client.chat.appendStream({ channel: CHANNEL, ts: second.ts ?? "", chunks }))).toBe(
      "msg_too_long",
    );
  });

  it("refuses an append or a stop taking the whole text past 12,000 characters, appending nothing", async () => {
    const { args } = rootAndRecipient();
    const { ts = "" } = await client.chat.startStream({ ...args, markdown_text: "a".repeat(7000) });
    const append = client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "b".repeat(5001) });
    expect(await errorOf(append)).toBe("msg_too_long");
    expect(fake.message(CHANNEL, ts)?.text).toHaveLength(7000);
    await client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "b".repeat(5000) });
    const stop = client.chat.stopStream({ channel: CHANNEL, ts, markdown_text: "c" });
    expect(await errorOf(stop)).toBe("msg_too_long");
    expect(fake.message(CHANNEL, ts)?.stream?.state).toBe("streaming");
    await client.chat.stopStream({ channel: CHANNEL, ts });
    expect(fake.message(CHANNEL, ts)?.stream?.state).toBe("stopped");
  });

  it("answers message_not_in_streaming_state after the stop, and for a message that never streamed", async () => {
    const { root, args } = rootAndRecipient();
    const { ts = "" } = await client.chat.startStream({ ...args, markdown_text: "x" });
    await client.chat.stopStream({ channel: CHANNEL, ts });
    expect(await errorOf(client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "y" }))).toBe(
      "message_not_in_streaming_state",
    );
    expect(await errorOf(client.chat.stopStream({ channel: CHANNEL, ts }))).toBe(
      "message_not_in_streaming_state",
    );
    const posted = await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts, text: "plain" });
    expect(
      await errorOf(client.chat.appendStream({ channel: CHANNEL, ts: posted.ts ?? "", markdown_text: "y" })),
    ).toBe("message_not_in_streaming_state");
  });

  it("answers message_not_found for an unknown ts, and needs markdown_text or chunks to append", async () => {
    const { args } = rootAndRecipient();
    expect(
      await errorOf(client.chat.appendStream({ channel: CHANNEL, ts: "1.000000", markdown_text: "y" })),
    ).toBe("message_not_found");
    const { ts = "" } = await client.chat.startStream(args);
    expect(await errorOf(client.apiCall("chat.appendStream", { channel: CHANNEL, ts }))).toBe(
      "invalid_arguments",
    );
  });

  it("stops streaming after streamMaxAgeMs; chat.update works then, and not before", async () => {
    await fake.close();
    await start({ streamMaxAgeMs: 150 });
    const { root, args } = rootAndRecipient();
    const { ts = "" } = await client.chat.startStream({ ...args, markdown_text: "Half" });
    expect(await errorOf(client.chat.update({ channel: CHANNEL, ts, text: "Whole" }))).toBe(
      "streaming_state_conflict",
    );
    await sleep(200);
    expect(await errorOf(client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: " more" }))).toBe(
      "message_not_in_streaming_state",
    );
    const history = fake.streamHistory(CHANNEL, ts);
    expect(history.at(-1)).toMatchObject({ via: "expiry", stream: "expired", text: "Half" });
    expect((history.at(-1)?.at ?? 0) - (history[0]?.at ?? 0)).toBeCloseTo(150, -1);
    expect(fake.message(CHANNEL, ts)?.stream?.state).toBe("expired");

    await client.chat.update({ channel: CHANNEL, ts, text: "Whole" });
    expect(fake.thread(CHANNEL, root.ts).map((m) => m.text)).toEqual(["write the intro", "Whole"]);
  });

  it("stops streaming after streamIdleMs without an append", async () => {
    await fake.close();
    await start({ streamIdleMs: 100 });
    const { args } = rootAndRecipient();
    const { ts = "" } = await client.chat.startStream({ ...args, markdown_text: "a" });
    await sleep(60);
    await client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "b" });
    await sleep(60);
    await client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "c" });
    await sleep(150);
    expect(await errorOf(client.chat.stopStream({ channel: CHANNEL, ts }))).toBe(
      "message_not_in_streaming_state",
    );
  });
});

describe("chunks, blocks and metadata", () => {
  it("appends markdown_text chunks and keeps other chunks as sent", async () => {
    const { args } = rootAndRecipient();
    const { ts = "" } = await client.chat.startStream(args);
    const task = {
      type: "task_update" as const,
      id: "t1",
      title: "Reading the brief",
      status: "in_progress" as const,
    };
    await client.chat.appendStream({
      channel: CHANNEL,
      ts,
      chunks: [task, { type: "markdown_text", text: "Drafting" }],
    });
    expect(fake.message(CHANNEL, ts)).toMatchObject({ text: "Drafting", stream: { chunks: [task] } });
  });

  it("shows the stop's blocks under the text and stores its metadata; refuses invalid blocks", async () => {
    const { root, args } = rootAndRecipient();
    const { ts = "" } = await client.chat.startStream({ ...args, markdown_text: "The reply" });
    const bad = client.chat.stopStream({ channel: CHANNEL, ts, blocks: [{ type: "carousel" } as never] });
    expect(await errorOf(bad)).toBe("invalid_blocks");
    const metadata = { event_type: "puffle_reply", event_payload: { turn: "t1" } };
    const blocks = [{ type: "context", elements: [{ type: "mrkdwn", text: "via Puffle" }] }];
    await client.chat.stopStream({ channel: CHANNEL, ts, blocks, metadata });
    expect(fake.message(CHANNEL, ts)).toMatchObject({ text: "The reply", blocks, metadata });
    expect(fake.render(CHANNEL, root.ts)).toContain("  The reply\n  via Puffle");
  });
});

describe("streaming faults", () => {
  it("makes the streaming methods unknown, or not allowed, until enabled again", async () => {
    const { args } = rootAndRecipient();
    fake.disableStreaming();
    expect(await errorOf(client.chat.startStream(args))).toBe("unknown_method");
    fake.disableStreaming("not_allowed");
    expect(await errorOf(client.chat.startStream(args))).toBe("not_allowed");
    fake.enableStreaming();
    const { ts = "" } = await client.chat.startStream(args);
    fake.disableStreaming("not_allowed");
    expect(await errorOf(client.chat.appendStream({ channel: CHANNEL, ts, markdown_text: "x" }))).toBe(
      "not_allowed",
    );
    expect(await errorOf(client.chat.stopStream({ channel: CHANNEL, ts }))).toBe("not_allowed");
  });

  it("can start a stream and lose the answer: the message exists, its ts never reached the caller", async () => {
    const { root, args } = rootAndRecipient();
    fake.failAfterStore("chat.startStream", { mode: "http_500" });
    await expect(client.chat.startStream({ ...args, markdown_text: "Hi" })).rejects.toThrow();
    expect(fake.thread(CHANNEL, root.ts).map((m) => m.text)).toEqual(["write the intro", "Hi"]);
    expect(fake.failedAfterStore("chat.startStream")).toHaveLength(1);
  });
});
