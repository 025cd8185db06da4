import { ErrorCode, WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

const CHANNEL = "C0DRAFTS";

let fake: FakeSlack;
let client: WebClient;

beforeEach(async () => {
  fake = await startFakeSlack();
  client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
});

afterEach(async () => {
  await fake.close();
});

/** The Slack error code a WebClient call failed with. */
async function slackErrorOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (error) {
    if (error && typeof error === "object" && "data" in error) {
      return (error as { data: { error?: string } }).data.error;
    }
    throw error;
  }
  return undefined;
}

describe("fake Slack Web API through the real WebClient", () => {
  it("answers auth.test with the bot identity and the scopes header", async () => {
    const result = await client.auth.test();
    expect(result).toMatchObject({ ok: true, team_id: "T0TEAM", user_id: "U0BOT", bot_id: "B0BOT" });
    expect(result.is_enterprise_install).toBe(false);
    expect(result.response_metadata?.scopes).toContain("chat:write");
  });

  it("rejects a wrong token with invalid_auth and records the call", async () => {
    const intruder = new WebClient("xoxb-wrong", { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    expect(await slackErrorOf(intruder.auth.test())).toBe("invalid_auth");
    expect(fake.callsTo("auth.test")).toMatchObject([{ ok: false, error: "invalid_auth" }]);
  });

  it("answers not_authed without a token and unknown_method for methods it does not serve", async () => {
    const anonymous = new WebClient(undefined, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    expect(await slackErrorOf(anonymous.chat.postMessage({ channel: CHANNEL, text: "hi" }))).toBe(
      "not_authed",
    );
    expect(await slackErrorOf(client.apiCall("files.list"))).toBe("unknown_method");
    expect(fake.callsTo("files.list")).toHaveLength(1);
  });

  it("posts a root message and threaded replies with increasing ts", async () => {
    const human = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "intro email for VPs" });
    const reply = await client.chat.postMessage({
      channel: CHANNEL,
      thread_ts: human.ts,
      text: "Drafting...",
    });
    const second = await client.chat.postMessage({ channel: CHANNEL, thread_ts: human.ts, text: "Done" });

    expect(reply).toMatchObject({ ok: true, channel: CHANNEL, message: { user: "U0BOT", bot_id: "B0BOT" } });
    expect(Number(reply.ts)).toBeGreaterThan(Number(human.ts));
    expect(Number(second.ts)).toBeGreaterThan(Number(reply.ts));
    expect(fake.thread(CHANNEL, human.ts).map((m) => m.text)).toEqual([
      "intro email for VPs",
      "Drafting...",
      "Done",
    ]);
    expect(fake.message(CHANNEL, human.ts)?.thread_ts).toBe(human.ts);
  });

  it("accepts a reply to an unknown thread_ts, like Slack", async () => {
    const reply = await client.chat.postMessage({
      channel: CHANNEL,
      thread_ts: "1600000000.000100",
      text: "hi",
    });
    expect(fake.message(CHANNEL, reply.ts ?? "")?.thread_ts).toBe("1600000000.000100");
  });

  it("refuses a post with neither text nor blocks", async () => {
    expect(await slackErrorOf(client.apiCall("chat.postMessage", { channel: CHANNEL }))).toBe("no_text");
  });

  it("decodes blocks and metadata sent as form fields", async () => {
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*Subject:* Hello" } }];
    const metadata = { event_type: "draft_card", event_payload: { version: 2 } };
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: "Draft v2", blocks, metadata });
    expect(fake.message(CHANNEL, posted.ts ?? "")).toMatchObject({ blocks, metadata, text: "Draft v2" });
  });

  it("updates a bot message in place and keeps the earlier versions", async () => {
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: "Drafting... turn 1" });
    const ts = posted.ts ?? "";
    const updated = await client.chat.update({ channel: CHANNEL, ts, text: "Here is your draft" });

    expect(updated).toMatchObject({ ok: true, channel: CHANNEL, ts, text: "Here is your draft" });
    const message = fake.message(CHANNEL, ts);
    expect(message?.text).toBe("Here is your draft");
    expect(message?.edits.map((v) => v.text)).toEqual(["Drafting... turn 1"]);
    expect(message?.edited?.user).toBe("U0BOT");
  });

  it("keeps blocks on an update without blocks and removes them with an empty array", async () => {
    const blocks = [{ type: "divider" }];
    const { ts = "" } = await client.chat.postMessage({ channel: CHANNEL, text: "a", blocks });
    await client.chat.update({ channel: CHANNEL, ts, text: "b" });
    expect(fake.message(CHANNEL, ts)?.blocks).toEqual(blocks);
    await client.chat.update({ channel: CHANNEL, ts, text: "c", blocks: [] });
    expect(fake.message(CHANNEL, ts)?.blocks).toBeUndefined();
  });

  it("refuses to update unknown messages and messages of people", async () => {
    const human = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "mine" });
    expect(await slackErrorOf(client.chat.update({ channel: CHANNEL, ts: "1.000000", text: "x" }))).toBe(
      "message_not_found",
    );
    expect(await slackErrorOf(client.chat.update({ channel: CHANNEL, ts: human.ts, text: "x" }))).toBe(
      "cant_update_message",
    );
  });

  it("stores ephemeral messages per user, apart from the channel", async () => {
    const result = await client.chat.postEphemeral({
      channel: CHANNEL,
      user: "U0DANA",
      text: "This draft is outdated",
    });
    expect(result.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.ephemerals(CHANNEL, "U0DANA")).toMatchObject([{ text: "This draft is outdated" }]);
    expect(fake.ephemerals(CHANNEL, "U0LEE")).toEqual([]);
    expect(fake.messages(CHANNEL)).toEqual([]);
  });

  it("deletes messages and builds permalinks for roots and replies", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "root" });
    const { ts = "" } = await client.chat.postMessage({
      channel: CHANNEL,
      thread_ts: root.ts,
      text: "reply",
    });
    const rootLink = await client.chat.getPermalink({ channel: CHANNEL, message_ts: root.ts });
    const replyLink = await client.chat.getPermalink({ channel: CHANNEL, message_ts: ts });
    expect(rootLink.permalink).toBe(
      `https://fake.slack.test/archives/${CHANNEL}/p${root.ts.replace(".", "")}`,
    );
    expect(replyLink.permalink).toContain(`?thread_ts=${root.ts}&cid=${CHANNEL}`);

    await client.chat.delete({ channel: CHANNEL, ts });
    expect(fake.thread(CHANNEL, root.ts).map((m) => m.text)).toEqual(["root"]);
    expect(fake.message(CHANNEL, ts)?.deleted).toBe(true);
  });

  it("opens a modal, then updates it by id with hash checks", async () => {
    const view = {
      type: "modal" as const,
      callback_id: "picker.submit",
      title: { type: "plain_text" as const, text: "Start a draft" },
      submit: { type: "plain_text" as const, text: "Start" },
      blocks: [
        {
          type: "input",
          block_id: "brief",
          label: { type: "plain_text" as const, text: "Brief" },
          element: { type: "plain_text_input", action_id: "value", max_length: 3000 },
        },
      ],
    };
    const opened = await client.views.open({ trigger_id: "123.456.abc", view });
    const id = opened.view?.id ?? "";
    expect(id).toMatch(/^V/);
    expect(opened.view).toMatchObject({ callback_id: "picker.submit", state: { values: {} } });
    expect(opened.view?.hash).toBeTruthy();

    const stale = client.views.update({ view_id: id, hash: "stale", view });
    expect(await slackErrorOf(stale)).toBe("hash_conflict");
    await client.views.update({
      view_id: id,
      hash: opened.view?.hash,
      view: { ...view, callback_id: "picker.v2" },
    });
    expect(fake.views()).toMatchObject([{ id, via: "views.update", view: { callback_id: "picker.v2" } }]);
    expect(await slackErrorOf(client.views.update({ view_id: "V404", view }))).toBe("not_found");
  });

  it("refuses an expired trigger_id and a missing one", async () => {
    const view = { type: "modal" as const, title: { type: "plain_text" as const, text: "Hi" }, blocks: [] };
    fake.expireTrigger("old.trigger");
    expect(await slackErrorOf(client.views.open({ trigger_id: "old.trigger", view }))).toBe(
      "expired_trigger_id",
    );
    expect(await slackErrorOf(client.apiCall("views.open", { view }))).toBe("invalid_arguments");
  });

  it("publishes one Home tab per user", async () => {
    const view = {
      type: "home" as const,
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "Hi" } }],
    };
    const first = await client.views.publish({ user_id: "U0DANA", view });
    const second = await client.views.publish({ user_id: "U0DANA", view });
    expect(second.view?.id).toBe(first.view?.id);
    expect(fake.views()).toHaveLength(1);
  });

  it("records thread status history and clears it on an empty status or a bot reply", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "go" });
    const args = { channel_id: CHANNEL, thread_ts: root.ts };
    await client.assistant.threads.setStatus({
      ...args,
      status: "is drafting...",
      loading_messages: ["Reading"],
    });
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("is drafting...");
    await client.assistant.threads.setStatus({ ...args, status: "" });
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("");

    await client.assistant.threads.setStatus({ ...args, status: "is drafting..." });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts, text: "Done" });
    expect(fake.currentStatus(CHANNEL, root.ts)).toBe("");
    expect(fake.statuses(CHANNEL, root.ts).map((s) => s.status)).toEqual([
      "is drafting...",
      "",
      "is drafting...",
    ]);
    expect(fake.statuses(CHANNEL, root.ts)[0]?.loading_messages).toEqual(["Reading"]);
  });

  it("adds and removes reactions like Slack", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "go" });
    const target = { channel: CHANNEL, timestamp: root.ts, name: "eyes" };
    await client.reactions.add(target);
    expect(await slackErrorOf(client.reactions.add(target))).toBe("already_reacted");
    expect(fake.reactions(CHANNEL, root.ts)).toEqual([{ name: "eyes", users: ["U0BOT"] }]);
    await client.reactions.remove(target);
    expect(await slackErrorOf(client.reactions.remove(target))).toBe("no_reaction");
  });

  it("answers conversations.info, conversations.replies and users.info", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "root" });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts, text: "reply" });
    fake.addUser("U0LEE", "Lee Park");

    const info = await client.conversations.info({ channel: "D0DM" });
    expect(info.channel).toMatchObject({ id: "D0DM", is_im: true, is_private: true });
    const replies = await client.conversations.replies({ channel: CHANNEL, ts: root.ts });
    expect(replies.messages?.map((m) => m.text)).toEqual(["root", "reply"]);
    expect(replies.messages?.[0]).toMatchObject({ reply_count: 1, thread_ts: root.ts });
    expect((await client.users.info({ user: "U0LEE" })).user?.real_name).toBe("Lee Park");
    expect((await client.users.info({ user: "U0DANA" })).user?.real_name).toBe("Dana");
  });

  it("accepts JSON bodies with a bearer token", async () => {
    const response = await fetch(`${fake.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.token}`, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ channel: CHANNEL, text: "json", blocks: [{ type: "divider" }] }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: CHANNEL });
    expect(fake.messages(CHANNEL)[0]?.blocks).toEqual([{ type: "divider" }]);
  });

  it("records response_url posts: ephemeral, in channel, replace and delete original", async () => {
    const card = await client.chat.postMessage({ channel: CHANNEL, text: "Draft v1" });
    const context = { channel: CHANNEL, user: "U0DANA", messageTs: card.ts };
    const post = (body: object) =>
      fetch(fake.responseUrl(context), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    expect((await post({ text: "Only you can see this" })).status).toBe(200);
    expect(fake.ephemerals(CHANNEL, "U0DANA")).toMatchObject([
      { text: "Only you can see this", via: "response_url" },
    ]);
    await post({ response_type: "in_channel", text: "Dana started a draft" });
    await post({ replace_original: true, text: "Draft v1 (superseded)" });
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual([
      "Draft v1 (superseded)",
      "Dana started a draft",
    ]);
    await post({ delete_original: true });
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(["Dana started a draft"]);
    expect(fake.callsTo("response_url")).toHaveLength(4);

    const unknown = await fetch(`${fake.origin}/respond/nope`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
  });

  it("answers a WebAPIPlatformError the WebClient understands", async () => {
    fake.failNext("chat.postMessage", "channel_not_found");
    const error = await client.chat.postMessage({ channel: CHANNEL, text: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: "channel_not_found" },
    });
  });
});
