import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACTIONS, refineActionId } from "../../src/slack/ids.ts";
import {
  botReplies,
  buttonsOf,
  CHANNEL,
  DANA,
  draftCards,
  type E2E,
  humanMention as harnessMention,
  sessionOf as harnessSessionOf,
  humanMessage,
  LEE,
  startE2E,
  visibleText,
} from "../support/harness.ts";
import { messageEvent } from "../support/slack-requests.ts";

let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(() => e2e.close());
beforeEach(() => {
  e2e.emulator.reset();
});

const humanMention = (text: string, user = DANA, threadTs?: string) =>
  harnessMention(e2e, { channel: CHANNEL, text, user, ...(threadTs ? { threadTs } : {}) });
const humanReply = (threadTs: string, text: string, user = DANA) =>
  humanMessage(e2e, { channel: CHANNEL, text, user, threadTs });
const sessionOf = (threadTs: string) => harnessSessionOf(e2e, CHANNEL, threadTs);

describe("a drafting conversation in a thread", () => {
  it("mention, clarifying question, reply, draft card, Shorter, v2 card with v1 superseded", async () => {
    const root = await humanMention("intro email for VPs of Sales, time-to-ROI angle");

    // Turn 1: Puffle asks clarifying questions; the status message becomes the answer.
    const question = await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, CHANNEL, root.ts).find((m) => /question/i.test(visibleText(m))),
    );
    expect(visibleText(question)).toContain("VPs of Sales");
    expect(draftCards(e2e.slack, CHANNEL, root.ts)).toHaveLength(0);
    const requests = e2e.emulator.state.turnRequests(await sessionOf(root.ts));
    expect(requests.map((r) => r.message)).toEqual(["intro email for VPs of Sales, time-to-ROI angle"]);

    // Turn 2: a reply; the draft card appears with live buttons.
    await humanReply(root.ts, "Mid-market SaaS, our CRO sends it, ask for 15 minutes");
    const v1 = await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts)[0]);
    expect(visibleText(v1)).toContain("Draft v1");
    expect(visibleText(v1)).toContain("Q1 VP Sales outreach");
    const buttons = buttonsOf(v1).map((b) => b.action_id);
    expect(buttons).toEqual(
      expect.arrayContaining([
        refineActionId("shorter"),
        ACTIONS.custom,
        ACTIONS.examples,
        ACTIONS.edit,
        ACTIONS.save,
      ]),
    );

    // Click "Shorter" on v1.
    const shorter = buttonsOf(v1).find((b) => b.action_id === refineActionId("shorter"));
    const click = await e2e.requester.blockAction({
      user: LEE,
      channel: CHANNEL,
      message: v1,
      actions: [{ action_id: refineActionId("shorter"), value: shorter?.value ?? "" }],
    });
    expect(click.status).toBe(200);
    const v2 = await e2e.slack.waitFor(() =>
      draftCards(e2e.slack, CHANNEL, root.ts).find((m) => visibleText(m).includes("Draft v2")),
    );
    expect(buttonsOf(v2).length).toBeGreaterThan(0);
    const v1Now = await e2e.slack.waitFor(() => {
      const current = e2e.slack.message(CHANNEL, v1.ts);
      return current && buttonsOf(current).length === 0 ? current : undefined;
    });
    expect(visibleText(v1Now)).toMatch(/Superseded by v2/);
    // The turn sent to Puffle was the refine instruction, attributed to the person who clicked.
    const sent = e2e.emulator.state.turnRequests(await sessionOf(root.ts)).map((r) => r.message);
    expect(sent.at(-1)).toMatch(/shorter/i);
    expect(visibleText(v2)).toContain("Lee");
    // Shorter really is shorter: the body on the v2 card has fewer words than v1's.
    const session = e2e.emulator.state.sessions.get(await sessionOf(root.ts));
    const previous = session?.draft_history?.at(-1) as { body?: string } | undefined;
    expect(session?.draft_body?.length ?? 0).toBeLessThan(previous?.body?.length ?? 0);
  });

  it("a click on a superseded card gets an ephemeral 'outdated' answer and sends nothing", async () => {
    const root = await humanMention("intro for CFOs");
    await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, CHANNEL, root.ts).find((m) => /question/i.test(visibleText(m))),
    );
    await humanReply(root.ts, "fintech, 200-1000 employees");
    const v1 = await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts)[0]);
    const value = buttonsOf(v1).find((b) => b.action_id === refineActionId("warmer"))?.value ?? "";
    await e2e.requester.blockAction({
      user: DANA,
      channel: CHANNEL,
      message: v1,
      actions: [{ action_id: refineActionId("warmer"), value }],
    });
    await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts).length === 2);
    const turnsBefore = e2e.emulator.state.turnRequests(await sessionOf(root.ts)).length;

    // The old card's button, clicked again (e.g. from a stale client).
    await e2e.requester.blockAction({
      user: DANA,
      channel: CHANNEL,
      message: v1,
      actions: [{ action_id: refineActionId("warmer"), value }],
    });
    const ephemeral = await e2e.slack.waitFor(() =>
      e2e.slack.ephemerals(CHANNEL, DANA).find((m) => /outdated/i.test(m.text ?? "")),
    );
    expect(ephemeral).toBeTruthy();
    await e2e.bot.idle();
    expect(e2e.emulator.state.turnRequests(await sessionOf(root.ts))).toHaveLength(turnsBefore);
  });

  it("replies that are not turns: side remarks, bot messages, edits, threads we do not own", async () => {
    const root = await humanMention("intro for HR leaders");
    await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, CHANNEL, root.ts).find((m) => /question/i.test(visibleText(m))),
    );
    const sessionId = await sessionOf(root.ts);

    await humanReply(root.ts, "// Dana, do we know their budget cycle?", LEE);
    await e2e.requester.event(
      messageEvent({ channel: CHANNEL, text: "a bot says hi", bot_id: "B0OTHER", thread_ts: root.ts }),
    );
    await e2e.requester.event(
      messageEvent({
        channel: CHANNEL,
        user: DANA,
        text: "edited",
        subtype: "message_changed",
        thread_ts: root.ts,
      }),
    );
    await e2e.requester.event(
      messageEvent({ channel: CHANNEL, user: e2e.slack.botUserId, text: "our own", thread_ts: root.ts }),
    );
    const elsewhere = e2e.slack.addHumanMessage({
      channel: CHANNEL,
      user: DANA,
      text: "unrelated thread root",
    });
    await humanReply(elsewhere.ts, "a reply in a thread we do not own");
    await e2e.requester.event(messageEvent({ channel: CHANNEL, user: DANA, text: "plain channel chatter" }));

    await e2e.bot.idle();
    expect(e2e.emulator.state.turnRequests(sessionId)).toHaveLength(1);
    expect(botReplies(e2e.slack, CHANNEL, elsewhere.ts)).toHaveLength(0);
    expect(e2e.emulator.stats().requests["sessions.create"]).toBe(1);
  });
});
