import { WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

const CHANNEL = "C0DRAFTS";
const metadata = { event_type: "puffle_turn", event_payload: { turn: "t1", version: 2 } };

let fake: FakeSlack;
let client: WebClient;

beforeEach(async () => {
  fake = await startFakeSlack();
  client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
});

afterEach(async () => {
  await fake.close();
});

/** A thread: a person's root, then `count` bot replies "r0", "r1", ... */
async function threadWith(count: number): Promise<string> {
  const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "root" });
  for (let i = 0; i < count; i += 1) {
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts, text: `r${i}` });
  }
  return root.ts;
}

describe("message metadata", () => {
  it("stores metadata from chat.postMessage and replaces it on chat.update", async () => {
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: "Draft v1", metadata });
    const ts = posted.ts ?? "";
    expect(fake.message(CHANNEL, ts)?.metadata).toEqual(metadata);
    const next = { event_type: "puffle_turn", event_payload: { turn: "t1", version: 3 } };
    await client.chat.update({ channel: CHANNEL, ts, text: "Draft v2", metadata: next });
    expect(fake.message(CHANNEL, ts)?.metadata).toEqual(next);
    expect(fake.message(CHANNEL, ts)?.edits[0]?.metadata).toEqual(metadata);
  });

  it("shows metadata in conversations.replies and history only with include_all_metadata", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "root" });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts, text: "reply", metadata });
    const top = await client.chat.postMessage({ channel: CHANNEL, text: "top", metadata });

    const plain = await client.conversations.replies({ channel: CHANNEL, ts: root.ts });
    expect(plain.messages?.[1]).not.toHaveProperty("metadata");
    const withMetadata = await client.conversations.replies({
      channel: CHANNEL,
      ts: root.ts,
      include_all_metadata: true,
    });
    expect(withMetadata.messages?.[1]).toMatchObject({ text: "reply", metadata, bot_id: fake.botId });
    expect(withMetadata.messages?.[0]).not.toHaveProperty("metadata");

    const history = await client.conversations.history({ channel: CHANNEL });
    expect(history.messages?.find((m) => m.ts === top.ts)).not.toHaveProperty("metadata");
    const historyWith = await client.conversations.history({ channel: CHANNEL, include_all_metadata: true });
    expect(historyWith.messages?.find((m) => m.ts === top.ts)).toMatchObject({ metadata });
  });
});

describe("conversations.replies", () => {
  it("answers the parent then the replies with user, bot_id, ts, thread_ts, text and blocks", async () => {
    const rootTs = await threadWith(1);
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*card*" } }];
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: rootTs, text: "card", blocks });
    const result = await client.conversations.replies({ channel: CHANNEL, ts: rootTs });
    expect(result.messages).toMatchObject([
      { user: "U0DANA", ts: rootTs, thread_ts: rootTs, text: "root", reply_count: 2 },
      { user: fake.botUserId, bot_id: fake.botId, thread_ts: rootTs, text: "r0" },
      { user: fake.botUserId, bot_id: fake.botId, thread_ts: rootTs, text: "card", blocks },
    ]);
    expect(result.messages?.[0]).not.toHaveProperty("bot_id");
    expect(result.has_more).toBe(false);
  });

  it("finds the thread from a reply's ts too", async () => {
    const rootTs = await threadWith(2);
    const replyTs = fake.thread(CHANNEL, rootTs)[2]?.ts ?? "";
    const result = await client.conversations.replies({ channel: CHANNEL, ts: replyTs });
    expect(result.messages?.map((m) => m.text)).toEqual(["root", "r0", "r1"]);
  });

  it("pages with limit, has_more and response_metadata.next_cursor", async () => {
    const rootTs = await threadWith(5);
    const texts: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.conversations.replies({ channel: CHANNEL, ts: rootTs, limit: 2, cursor });
      pages += 1;
      texts.push(...(page.messages ?? []).map((m) => m.text ?? ""));
      expect(page.has_more).toBe(Boolean(page.response_metadata?.next_cursor));
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    expect(pages).toBe(3);
    expect(texts).toEqual(["root", "r0", "r1", "r2", "r3", "r4"]);
  });

  it("filters by oldest, exclusive unless inclusive", async () => {
    const rootTs = await threadWith(3);
    const r1 = fake.thread(CHANNEL, rootTs)[2]?.ts ?? "";
    const after = await client.conversations.replies({ channel: CHANNEL, ts: rootTs, oldest: r1 });
    expect(after.messages?.map((m) => m.text)).toEqual(["r2"]);
    const from = await client.conversations.replies({
      channel: CHANNEL,
      ts: rootTs,
      oldest: r1,
      inclusive: true,
    });
    expect(from.messages?.map((m) => m.text)).toEqual(["r1", "r2"]);
  });

  it("refuses an unknown thread and a bad cursor", async () => {
    await expect(client.conversations.replies({ channel: CHANNEL, ts: "1.000000" })).rejects.toMatchObject({
      data: { error: "thread_not_found" },
    });
    const rootTs = await threadWith(1);
    await expect(
      client.conversations.replies({ channel: CHANNEL, ts: rootTs, cursor: "bm9wZQ==" }),
    ).rejects.toMatchObject({ data: { error: "invalid_cursor" } });
  });

  it("counts the reads so tests can assert the bot reads rarely", async () => {
    const rootTs = await threadWith(1);
    await client.conversations.replies({ channel: CHANNEL, ts: rootTs });
    await client.conversations.history({ channel: CHANNEL });
    expect(fake.callsTo("conversations.replies")).toHaveLength(1);
    expect(fake.callsTo("conversations.history")).toHaveLength(1);
  });
});

describe("conversations.history", () => {
  it("answers the top level newest first, threads as their root, broadcasts included", async () => {
    const rootTs = await threadWith(1);
    await client.chat.postMessage({
      channel: CHANNEL,
      thread_ts: rootTs,
      text: "also",
      reply_broadcast: true,
    });
    await client.chat.postMessage({ channel: CHANNEL, text: "later" });
    const result = await client.conversations.history({ channel: CHANNEL });
    expect(result.messages?.map((m) => m.text)).toEqual(["later", "also", "root"]);
    expect(result.messages?.[2]).toMatchObject({ reply_count: 2, thread_ts: rootTs });
  });

  it("pages newest first and bounds by oldest and latest", async () => {
    const posted: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      posted.push((await client.chat.postMessage({ channel: CHANNEL, text: `m${i}` })).ts ?? "");
    }
    const first = await client.conversations.history({ channel: CHANNEL, limit: 3 });
    expect(first.messages?.map((m) => m.text)).toEqual(["m4", "m3", "m2"]);
    expect(first.has_more).toBe(true);
    const second = await client.conversations.history({
      channel: CHANNEL,
      limit: 3,
      cursor: first.response_metadata?.next_cursor,
    });
    expect(second.messages?.map((m) => m.text)).toEqual(["m1", "m0"]);
    expect(second).toMatchObject({ has_more: false, response_metadata: { next_cursor: "" } });

    const bounded = await client.conversations.history({
      channel: CHANNEL,
      oldest: posted[1],
      latest: posted[3],
      inclusive: true,
    });
    expect(bounded.messages?.map((m) => m.text)).toEqual(["m3", "m2", "m1"]);
    const open = await client.conversations.history({
      channel: CHANNEL,
      oldest: posted[1],
      latest: posted[3],
    });
    expect(open.messages?.map((m) => m.text)).toEqual(["m2"]);
  });

  it("answers an empty channel with no messages", async () => {
    const result = await client.conversations.history({ channel: "C0EMPTY" });
    expect(result).toMatchObject({ ok: true, messages: [], has_more: false });
  });
});
