import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACTIONS, refineActionId, VIEWS } from "../../src/slack/ids.ts";
import type { StoredMessage } from "../support/fake-slack.ts";
import {
  ackBody,
  botReplies,
  buttonsOf,
  DANA,
  draftCards,
  type E2E,
  humanMention,
  humanMessage,
  inputsOf,
  LEE,
  opensModal,
  sessionOf,
  startE2E,
  submitModal,
  threadSettled,
  visibleText,
  waitForQuestion,
} from "../support/harness.ts";

/** The thumbs of a card: its feedback_buttons elements, with the value each side sends. */
function thumbsOf(message: StoredMessage | undefined): { actionId: string; up: string; down: string }[] {
  const blocks = (message?.blocks ?? []) as { type?: string; elements?: Record<string, unknown>[] }[];
  return blocks
    .filter((block) => block.type === "context_actions")
    .flatMap((block) => block.elements ?? [])
    .filter((element) => element.type === "feedback_buttons")
    .map((element) => ({
      actionId: String(element.action_id),
      up: String((element.positive_button as { value?: string }).value),
      down: String((element.negative_button as { value?: string }).value),
    }));
}

/** The live (button-carrying) draft card of a thread whose header matches, once there is one. */
function liveCard(e2e: E2E, channel: string, threadTs: string, header: RegExp): Promise<StoredMessage> {
  return e2e.slack.waitFor(
    () =>
      draftCards(e2e.slack, channel, threadTs).find(
        (m) => buttonsOf(m).length > 0 && header.test(visibleText(m)),
      ),
    { message: `a live draft card ${header} in ${channel}/${threadTs}` },
  );
}

/** Mention, clarifying question, reply: the first draft card, with the thread idle. */
async function threadWithCard(e2e: E2E, channel: string) {
  const root = await humanMention(e2e, { channel, text: "intro email for VPs of Sales" });
  await waitForQuestion(e2e, channel, root.ts);
  await humanMessage(e2e, { channel, threadTs: root.ts, text: "Mid-market SaaS, ask for 15 minutes" });
  const card = await liveCard(e2e, channel, root.ts, /Draft v1/);
  await threadSettled(e2e, channel, root.ts);
  await e2e.bot.idle();
  return { root, card, sessionId: await sessionOf(e2e, channel, root.ts) };
}

/** A person clicks a thumb on a card: Slack sends the feedback_buttons action with that side's value. */
function thumb(e2e: E2E, input: { user: string; channel: string; card: StoredMessage; value: string }) {
  return e2e.requester.blockAction({
    user: input.user,
    channel: input.channel,
    message: input.card,
    actions: [{ action_id: ACTIONS.feedback, type: "feedback_buttons", value: input.value }],
  });
}

/** A second card: the live card's Shorter button, clicked by Lee. */
async function refineToV2(e2e: E2E, channel: string, threadTs: string, card: StoredMessage) {
  const shorter = buttonsOf(card).find((b) => b.action_id === refineActionId("shorter"));
  await e2e.requester.blockAction({
    user: LEE,
    channel,
    message: card,
    actions: [{ action_id: refineActionId("shorter"), value: shorter?.value }],
  });
  const v2 = await liveCard(e2e, channel, threadTs, /Draft v2/);
  await threadSettled(e2e, channel, threadTs);
  await e2e.bot.idle();
  return v2;
}

async function feedbackCounts(e2e: E2E): Promise<{ up: number; down: number }> {
  const text = await (await fetch(`http://127.0.0.1:${e2e.bot.port}/metrics`)).text();
  const count = (rating: string) =>
    Number(
      new RegExp(`^puffle_drafter_feedback_total\\{rating="${rating}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0,
    );
  return { up: count("up"), down: count("down") };
}

const feedbackLogs = (e2e: E2E) =>
  e2e.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === "feedback.given");

const sentTo = (e2e: E2E, sessionId: string) =>
  e2e.emulator.state.turnRequests(sessionId).map((request) => request.message);

describe("thumbs up and down on the draft card", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(() => e2e.close());
  beforeEach(() => {
    e2e.emulator.reset();
  });

  it("only the latest card has them: the edit that supersedes a card takes them away, with no extra call", async () => {
    const channel = "C0THUMBS";
    const { root, card } = await threadWithCard(e2e, channel);
    expect(thumbsOf(card)).toHaveLength(1);
    expect(thumbsOf(card)[0]?.actionId).toBe(ACTIONS.feedback);
    expect(e2e.slack.render(channel, root.ts).match(/\[👍\]\[👎\]/g)).toHaveLength(1);

    const v2 = await refineToV2(e2e, channel, root.ts, card);
    expect(thumbsOf(v2)).toHaveLength(1);
    const old = e2e.slack.message(channel, card.ts);
    expect(visibleText(old as StoredMessage)).toMatch(/Superseded by v2/);
    expect(thumbsOf(old)).toEqual([]);
    // The thumbs went in the one edit that marks the card superseded.
    expect(old?.edits).toHaveLength(1);
    expect(e2e.slack.callsTo("chat.update").filter((call) => call.args.ts === card.ts)).toHaveLength(1);
    expect(e2e.slack.render(channel, root.ts).match(/\[👍\]\[👎\]/g)).toHaveLength(1);
  });

  it("up is counted and logged, thanks the person quietly, and sends nothing to Puffle", async () => {
    const channel = "C0THUMBSUP";
    const { root, card, sessionId } = await threadWithCard(e2e, channel);
    const before = await feedbackCounts(e2e);
    const turns = sentTo(e2e, sessionId).length;
    const cards = draftCards(e2e.slack, channel, root.ts).length;
    const thumbs = thumbsOf(card)[0];

    const response = await thumb(e2e, { user: DANA, channel, card, value: thumbs?.up ?? "" });
    expect(response.status).toBe(200);
    const thanks = await e2e.slack.waitFor(() =>
      e2e.slack.ephemerals(channel, DANA).find((m) => /thanks/i.test(m.text)),
    );
    expect(thanks.thread_ts).toBe(root.ts);
    await e2e.bot.idle();

    expect(await feedbackCounts(e2e)).toEqual({ up: before.up + 1, down: before.down });
    const logged = feedbackLogs(e2e).at(-1);
    expect(logged).toMatchObject({ rating: "up", channelId: channel, revision: 1, sessionId });
    expect(typeof logged?.threadId).toBe("number");
    expect(sentTo(e2e, sessionId)).toHaveLength(turns);
    expect(draftCards(e2e.slack, channel, root.ts)).toHaveLength(cards);
    expect(e2e.slack.views().filter((v) => v.view.callback_id === VIEWS.feedback)).toHaveLength(0);
  });

  it("down asks 'What should change?'; the answer is the next turn, in the person's name", async () => {
    const channel = "C0THUMBSDOWN";
    const { root, card, sessionId } = await threadWithCard(e2e, channel);
    const before = await feedbackCounts(e2e);

    const modal = await opensModal(e2e.slack, VIEWS.feedback, () =>
      thumb(e2e, { user: DANA, channel, card, value: thumbsOf(card)[0]?.down ?? "" }),
    );
    expect(modal.view.title).toMatchObject({ text: "What should change?" });
    expect(inputsOf(modal)).toHaveLength(1);
    await e2e.bot.idle();
    expect(await feedbackCounts(e2e)).toEqual({ up: before.up, down: before.down + 1 });
    expect(feedbackLogs(e2e).at(-1)).toMatchObject({ rating: "down", channelId: channel, revision: 1 });

    // Nothing is sent until the form is: the click alone is not a turn.
    const turns = sentTo(e2e, sessionId);
    const response = await submitModal(e2e, DANA, modal, { "feedback.answer_input": "shorter, less salesy" });
    expect(ackBody(response)).toEqual({});
    const v2 = await liveCard(e2e, channel, root.ts, /Draft v2/);
    expect(sentTo(e2e, sessionId)).toEqual([...turns, "Dana: shorter, less salesy"]);
    expect(visibleText(v2)).toMatch(/asked by Dana/);
    await threadSettled(e2e, channel, root.ts);
    await e2e.bot.idle();
    // The answer is not a log field: no user text in the logs' feedback lines.
    expect(JSON.stringify(feedbackLogs(e2e))).not.toContain("salesy");
  });

  it("an empty answer is refused in the form, and nothing is sent", async () => {
    const channel = "C0THUMBSEMPTY";
    const { card, sessionId } = await threadWithCard(e2e, channel);
    const modal = await opensModal(e2e.slack, VIEWS.feedback, () =>
      thumb(e2e, { user: LEE, channel, card, value: thumbsOf(card)[0]?.down ?? "" }),
    );
    const turns = sentTo(e2e, sessionId).length;
    const response = await submitModal(e2e, LEE, modal, { "feedback.answer_input": "   " });
    expect(ackBody(response)).toMatchObject({
      response_action: "errors",
      errors: { "feedback.answer": "Write what should change." },
    });
    await e2e.bot.idle();
    expect(sentTo(e2e, sessionId)).toHaveLength(turns);
  });

  it("a thumb on a superseded card is refused like the other buttons: nothing counted, opened or sent", async () => {
    const channel = "C0THUMBSSTALE";
    const { root, card: live, sessionId } = await threadWithCard(e2e, channel);
    // The card as someone's Slack still shows it (the fake's record changes with the edit): thumbs and all.
    const card = structuredClone(live);
    await refineToV2(e2e, channel, root.ts, live);
    const before = await feedbackCounts(e2e);
    const logged = feedbackLogs(e2e).length;
    const turns = sentTo(e2e, sessionId).length;
    const views = e2e.slack.views().length;

    const [thumbs] = thumbsOf(card);
    expect(thumbs).toBeDefined();
    await thumb(e2e, { user: DANA, channel, card, value: thumbs?.up ?? "" });
    await thumb(e2e, { user: DANA, channel, card, value: thumbs?.down ?? "" });
    await e2e.slack.waitFor(
      () => e2e.slack.ephemerals(channel, DANA).filter((m) => /outdated/i.test(m.text)).length === 2,
    );
    await e2e.bot.idle();

    expect(await feedbackCounts(e2e)).toEqual(before);
    expect(feedbackLogs(e2e)).toHaveLength(logged);
    expect(e2e.slack.views()).toHaveLength(views);
    expect(sentTo(e2e, sessionId)).toHaveLength(turns);
    expect(draftCards(e2e.slack, channel, root.ts)).toHaveLength(2);
  });

  it("a malformed feedback click gets a clear answer and no crash; the next good click still counts", async () => {
    const channel = "C0THUMBSBAD";
    const { root, card, sessionId } = await threadWithCard(e2e, channel);
    const before = await feedbackCounts(e2e);
    const turns = sentTo(e2e, sessionId).length;
    const views = e2e.slack.views().length;
    const [thumbs] = thumbsOf(card);

    // A value that is no rating of ours, and one with no value at all.
    const sideways = await thumb(e2e, { user: LEE, channel, card, value: `sideways:${sessionId}:1` });
    expect(sideways.status).toBe(200);
    const noValue = await e2e.requester.blockAction({
      user: LEE,
      channel,
      message: card,
      actions: [{ action_id: ACTIONS.feedback, type: "feedback_buttons" }],
    });
    expect(noValue.status).toBe(200);
    await e2e.slack.waitFor(
      () =>
        e2e.slack.ephemerals(channel, LEE).filter((m) => /feedback button could not be read/i.test(m.text))
          .length === 2,
    );
    // A payload without its message or channel: answered, logged, nothing else.
    const bare = await e2e.requester.action({
      type: "block_actions",
      team: { id: e2e.slack.teamId },
      user: { id: LEE },
      trigger_id: "1.2.abc",
      actions: [{ action_id: ACTIONS.feedback, type: "feedback_buttons", value: thumbs?.up }],
    });
    expect(bare.status).toBe(200);
    await e2e.bot.idle();
    expect(e2e.logs.join("")).toContain("action.without_message");
    expect(await feedbackCounts(e2e)).toEqual(before);
    expect(e2e.slack.views()).toHaveLength(views);
    expect(sentTo(e2e, sessionId)).toHaveLength(turns);

    // The bot is fine: a real thumb still counts.
    await thumb(e2e, { user: LEE, channel, card, value: thumbs?.up ?? "" });
    await e2e.slack.waitFor(() => e2e.slack.ephemerals(channel, LEE).find((m) => /thanks/i.test(m.text)));
    await e2e.bot.idle();
    expect(await feedbackCounts(e2e)).toEqual({ up: before.up + 1, down: before.down });
    expect(botReplies(e2e.slack, channel, root.ts).some((m) => /went wrong/i.test(m.text))).toBe(false);
  });
});
