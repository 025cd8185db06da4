import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUT_OF_DATE } from "../../src/slack/render/words.ts";
import {
  ackBody,
  botReplies,
  CHANNEL,
  DANA,
  type E2E,
  humanMention,
  sessionOf,
  startE2E,
  visibleText,
  waitForQuestion,
} from "../support/harness.ts";
import { appMentionEvent, messageEvent } from "../support/slack-requests.ts";

let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(async () => {
  await e2e.close();
});

/** Milliseconds a request took to be answered. */
async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe("record before acknowledging", () => {
  it("the message copy of a mention alone (its app_mention lost) starts the draft", async () => {
    const root = e2e.slack.addHumanMessage({
      channel: CHANNEL,
      user: DANA,
      text: `<@${e2e.slack.botUserId}> intro email, only the message copy arrives`,
    });
    const response = await e2e.requester.event(
      messageEvent({ user: DANA, channel: CHANNEL, text: root.text, ts: root.ts }),
    );
    expect(response.status).toBe(200);
    await waitForQuestion(e2e, CHANNEL, root.ts);
    // The app_mention copy arriving late is the same message: no second turn.
    await e2e.requester.event(
      appMentionEvent({ user: DANA, channel: CHANNEL, text: root.text, ts: root.ts }),
    );
    await e2e.bot.drafting.idle();
    const turns = await e2e.bot.store.listTurns(
      (await e2e.bot.drafting.findThread({ teamId: e2e.slack.teamId, channelId: CHANNEL, threadTs: root.ts }))
        ?.id ?? 0,
    );
    expect(turns.map((t) => t.text)).toEqual(["intro email, only the message copy arrives"]);
  });

  it("a mention inside a thread, delivered only as a message event, starts a draft there", async () => {
    const root = e2e.slack.addHumanMessage({
      channel: CHANNEL,
      user: DANA,
      text: "planning the Q3 outreach",
    });
    const reply = e2e.slack.addHumanMessage({
      channel: CHANNEL,
      user: DANA,
      text: `<@${e2e.slack.botUserId}> draft the first touch`,
      thread_ts: root.ts,
    });
    await e2e.requester.event(
      messageEvent({ user: DANA, channel: CHANNEL, text: reply.text, ts: reply.ts, thread_ts: root.ts }),
    );
    await waitForQuestion(e2e, CHANNEL, root.ts);
  });

  it("when the message cannot be recorded, Slack is answered 500 (it delivers again) and nothing is lost", async () => {
    const root = e2e.slack.addHumanMessage({
      channel: CHANNEL,
      user: DANA,
      text: `<@${e2e.slack.botUserId}> recorded only on the second delivery`,
    });
    const event = appMentionEvent({ user: DANA, channel: CHANNEL, text: root.text, ts: root.ts });
    await e2e.bot.store.close(); // the database goes away under the running bot
    const first = await e2e.requester.event(event, { eventId: "Ev0STOREDOWN" });
    expect(first.status).toBe(500);
    await e2e.restart();
    const again = await e2e.requester.event(event, { eventId: "Ev0STOREDOWN", retryNum: 1 });
    expect(again.status).toBe(200);
    await waitForQuestion(e2e, CHANNEL, root.ts);
    expect(await sessionOf(e2e, CHANNEL, root.ts)).not.toBe("");
  });

  it("a lone UTF-16 surrogate reaches Puffle as one replacement character", async () => {
    const root = e2e.slack.addHumanMessage({
      channel: CHANNEL,
      user: DANA,
      text: `<@${e2e.slack.botUserId}> broken emoji \ud83d here`,
    });
    await e2e.requester.event(
      appMentionEvent({ user: DANA, channel: CHANNEL, text: root.text, ts: root.ts }),
    );
    await waitForQuestion(e2e, CHANNEL, root.ts);
    const sessionId = await sessionOf(e2e, CHANNEL, root.ts);
    expect(e2e.emulator.state.turnRequests(sessionId).map((turn) => turn.message)).toEqual([
      "broken emoji \uFFFD here",
    ]);
  });
});

describe("every click and submission gets an answer", () => {
  it("a button this release does not know is answered at once and the person is told it is out of date", async () => {
    const root = await humanMention(e2e, { channel: CHANNEL, text: "intro for an old card" });
    await waitForQuestion(e2e, CHANNEL, root.ts);
    const old = botReplies(e2e.slack, CHANNEL, root.ts)[0];
    if (!old) throw new Error("no bot message");
    const { value: response, ms } = await timed(() =>
      e2e.requester.blockAction({
        user: DANA,
        channel: CHANNEL,
        message: { ...old, blocks: [] },
        actions: [{ action_id: "draft.regenerate_v0", value: "x", block_id: "legacy" }],
      }),
    );
    expect(response.status).toBe(200);
    expect(ms).toBeLessThan(1500);
    await e2e.slack.waitFor(() =>
      e2e.slack.ephemerals(CHANNEL, DANA).find((note) => note.text === OUT_OF_DATE.button),
    );
  });

  it("a button inside a modal this release does not know turns the modal into a notice", async () => {
    const response = await e2e.requester.blockAction({
      user: DANA,
      view: { id: "V0GONE", callback_id: "old.form", blocks: [] },
      actions: [{ action_id: "old.select", block_id: "old" }],
    });
    expect(response.status).toBe(200);
    const update = await e2e.slack.waitFor(() =>
      e2e.slack.callsTo("views.update").find((call) => call.args.view_id === "V0GONE"),
    );
    expect(JSON.stringify(update.args.view)).toContain("Out of date");
  });

  it("a form this release does not know is answered with a notice in the modal, not Slack's error", async () => {
    const { value: response, ms } = await timed(() =>
      e2e.requester.viewSubmission({ user: DANA, view: { callback_id: "draft.legacy_form", blocks: [] } }),
    );
    expect(response.status).toBe(200);
    expect(ms).toBeLessThan(1500);
    const body = ackBody(response) as { response_action?: string; view?: { blocks?: unknown[] } };
    expect(body.response_action).toBe("update");
    expect(JSON.stringify(body.view?.blocks)).toContain("out of date");
    const closed = await e2e.requester.viewClosed({ user: DANA, view: { callback_id: "draft.legacy_form" } });
    expect(closed.status).toBe(200);
  });

  it("a slash command this release does not know gets an ephemeral answer", async () => {
    const response = await e2e.requester.command({
      command: "/redraft",
      text: "",
      user_id: DANA,
      channel_id: CHANNEL,
    });
    expect(response.status).toBe(200);
    expect(ackBody(response)).toEqual({ response_type: "ephemeral", text: OUT_OF_DATE.command("/redraft") });
  });

  it("an envelope without an event, and an event that is not an object, get a fast 400", async () => {
    for (const envelope of [
      { type: "event_callback", team_id: e2e.slack.teamId, event_id: "Ev0NOEVENT" },
      { type: "event_callback", team_id: e2e.slack.teamId, event_id: "Ev0STRING", event: "message" },
      { type: "event_callback", team_id: e2e.slack.teamId, event_id: "Ev0ARRAY", event: [1, 2] },
      { type: "something_else" },
    ]) {
      const { value: response, ms } = await timed(() => e2e.requester.raw(JSON.stringify(envelope)));
      expect(response.status).toBe(400);
      expect(ms).toBeLessThan(1000);
    }
    // Unsigned, the same body is refused as unsigned.
    const forged = await e2e.requester.raw(
      JSON.stringify({ type: "event_callback" }),
      {},
      { badSignature: true },
    );
    expect(forged.status).toBe(401);
    expect(e2e.logs.some((line) => line.includes("slack.payload_malformed"))).toBe(true);
    // And the bot still drafts.
    const root = await humanMention(e2e, { channel: CHANNEL, text: "still working after junk" });
    const question = await waitForQuestion(e2e, CHANNEL, root.ts);
    expect(visibleText(question)).toMatch(/quick questions/i);
  });
});
