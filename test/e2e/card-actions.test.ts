import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { ACTIONS, refineActionId, VIEWS } from "../../src/slack/ids.ts";
import type { StoredMessage } from "../support/fake-slack.ts";
import {
  ackBody,
  botReplies,
  buttonsOf,
  chooseCampaign,
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
  submitPicker,
  textHistory,
  threadSettled,
  visibleText,
  waitForQuestion,
} from "../support/harness.ts";

const draft = SEED.draftCampaign;

/** The live (button-carrying) draft card of a thread, once there is one. */
function liveCard(e2e: E2E, channel: string, threadTs: string, header = /Draft v\d/): Promise<StoredMessage> {
  return e2e.slack.waitFor(
    () =>
      draftCards(e2e.slack, channel, threadTs).find(
        (m) => buttonsOf(m).length > 0 && header.test(visibleText(m)),
      ),
    { message: `a live draft card ${header} in ${channel}/${threadTs}` },
  );
}

/** Mention, clarifying question, reply, first draft card. */
async function threadWithCard(e2e: E2E, channel: string, brief = "intro email for VPs of Sales") {
  const root = await humanMention(e2e, { channel, text: brief });
  await waitForQuestion(e2e, channel, root.ts);
  await humanMessage(e2e, {
    channel,
    threadTs: root.ts,
    text: "Mid-market SaaS, our CRO sends it, ask for 15 minutes",
  });
  const card = await liveCard(e2e, channel, root.ts, /Draft v1/);
  // What a person sees next: the status message replaced by Puffle's reply. Then the turn is recorded done.
  await e2e.slack.waitFor(() =>
    botReplies(e2e.slack, channel, root.ts).find((m) => /first framework/i.test(m.text)),
  );
  await threadSettled(e2e, channel, root.ts);
  return { root, card, sessionId: await sessionOf(e2e, channel, root.ts) };
}

/** A person clicks a button of a message; the value is the button's own unless forged. */
function click(
  e2e: E2E,
  input: { user: string; channel: string; message: StoredMessage; actionId: string; value?: string },
) {
  const value = input.value ?? buttonsOf(input.message).find((b) => b.action_id === input.actionId)?.value;
  if (value === undefined) throw new Error(`no ${input.actionId} button on ${input.message.ts}`);
  return e2e.requester.blockAction({
    user: input.user,
    channel: input.channel,
    message: input.message,
    actions: [{ action_id: input.actionId, value }],
  });
}

const sentTo = (e2e: E2E, sessionId: string) =>
  e2e.emulator.state.turnRequests(sessionId).map((request) => request.message);

describe("buttons on the draft card", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E({ emulator: { examplesDelayMs: 300 } });
  });
  afterAll(() => e2e.close());
  beforeEach(() => {
    e2e.emulator.reset();
  });

  it("Generate examples: status for 5 leads, then one subject and body per lead with merge fields filled", async () => {
    const channel = "C0EXAMPLES";
    const { root, card, sessionId } = await threadWithCard(e2e, channel);
    await click(e2e, { user: LEE, channel, message: card, actionId: ACTIONS.examples });

    const examples = await e2e.slack.waitFor(() =>
      e2e.slack.thread(channel, root.ts).find((m) => m.bot_id && /^Examples/.test(m.text)),
    );
    // The status said what was happening while Puffle worked.
    const status = botReplies(e2e.slack, channel, root.ts).find((m) =>
      textHistory(m).some((t) => t.includes("Generating examples for 5 leads")),
    );
    expect(status).toBeDefined();

    // Five leads were sent: the campaign's first five.
    const leads = e2e.emulator.state.examplesRequests(sessionId)[0]?.leads ?? [];
    expect(leads.map((lead) => lead.id)).toEqual(draft.leadIds.slice(0, 5));

    // What a person reads in the examples messages (bodies are shown literally, labels in bold).
    const shown = e2e.slack
      .thread(channel, root.ts)
      .filter((m) => m.bot_id && /^Examples/.test(m.text))
      .map((m) => e2e.slack.seen(channel, m.ts)?.text ?? "")
      .join("\n");
    expect(examples.text).toMatch(/5 examples/);
    expect(shown.match(/^Subject: /gm)).toHaveLength(5);
    for (const first of ["Maya", "Daniel", "Sofia", "James", "Priya"]) expect(shown).toContain(first);
    expect(shown).not.toContain("Tomás");
    expect(shown).not.toMatch(/%first_name%|%company%/);
    // The live card is still the draft card: examples do not supersede it.
    expect(buttonsOf(e2e.slack.message(channel, card.ts)).length).toBeGreaterThan(0);
  });

  it("each example is headed by the lead it was written for, not by an id", async () => {
    const channel = "C0EXAMPLENAMES";
    const { root, card } = await threadWithCard(e2e, channel);
    await click(e2e, { user: DANA, channel, message: card, actionId: ACTIONS.examples });
    await e2e.slack.waitFor(() =>
      e2e.slack.thread(channel, root.ts).find((m) => m.bot_id && /^Examples/.test(m.text)),
    );
    const examples = e2e.slack.thread(channel, root.ts).filter((m) => m.bot_id && /^Examples/.test(m.text));
    const spans = examples.flatMap((m) => e2e.slack.seen(channel, m.ts)?.spans ?? []);
    // Each lead's name heads its example, in bold.
    for (const name of ["Maya Patel", "Daniel Okafor", "Sofia Lindqvist", "James Whitaker", "Priya Raman"])
      expect(spans.some((span) => span.bold && span.text.includes(name))).toBe(true);
    expect(e2e.slack.render(channel, root.ts)).not.toMatch(/Lead c1000000-/);
  });

  it("Edit: modal with the current subject and body; saving PATCHes and posts a new card", async () => {
    const channel = "C0EDIT";
    const { root, card, sessionId } = await threadWithCard(e2e, channel);
    const session = e2e.emulator.state.sessions.get(sessionId);
    const opensBefore = e2e.slack.callsTo("views.open").length;

    const modal = await opensModal(e2e.slack, VIEWS.edit, () =>
      click(e2e, { user: DANA, channel, message: card, actionId: ACTIONS.edit }),
    );
    const opened = e2e.slack.callsTo("views.open").slice(opensBefore);
    expect(opened).toHaveLength(1);
    expect(JSON.stringify(opened[0]?.args.view)).toMatch(/Loading/);
    expect(modal.via).toBe("views.update");
    const fields = Object.fromEntries(inputsOf(modal).map((b) => [b.block_id, b.element?.initial_value]));
    expect(session?.draft_subject).toBeTruthy();
    expect(fields["edit.subject"]).toBe(session?.draft_subject);
    expect(fields["edit.body"]).toBe(session?.draft_body);

    const response = await submitModal(e2e, DANA, modal, {
      "edit.subject_input": "A faster ramp for your new reps",
      "edit.body_input": "Hi %first_name%,\n\nEdited by hand: one line about ramp time.\n\n%sender_first%",
    });
    expect(ackBody(response)).toEqual({});

    const edited = await e2e.slack.waitFor(() =>
      draftCards(e2e.slack, channel, root.ts).find(
        (m) => m.ts !== card.ts && visibleText(m).includes("A faster ramp for your new reps"),
      ),
    );
    expect(visibleText(edited)).toContain("Edited by hand: one line about ramp time.");
    expect(buttonsOf(edited).length).toBeGreaterThan(0);
    expect(e2e.emulator.state.sessions.get(sessionId)).toMatchObject({
      draft_subject: "A faster ramp for your new reps",
      draft_body: "Hi %first_name%,\n\nEdited by hand: one line about ramp time.\n\n%sender_first%",
    });
    expect(e2e.emulator.stats().requests["sessions.patch"]).toBe(1);
    const old = await e2e.slack.waitFor(() => {
      const current = e2e.slack.message(channel, card.ts);
      return current && buttonsOf(current).length === 0 ? current : undefined;
    });
    expect(visibleText(old)).toMatch(/Replaced by the edited draft below/);
  });

  it("Edit submitted while a turn runs gets a field error and changes nothing", async () => {
    const channel = "C0EDITBUSY";
    const { root, card, sessionId } = await threadWithCard(e2e, channel);
    // The modal is opened while idle...
    const modal = await opensModal(e2e.slack, VIEWS.edit, () =>
      click(e2e, { user: DANA, channel, message: card, actionId: ACTIONS.edit }),
    );
    const before = e2e.emulator.state.sessions.get(sessionId);
    const subjectBefore = before?.draft_subject;

    // ...then a teammate's reply starts a (slow) turn before it is submitted.
    e2e.emulator.faults.inject({ kind: "slow_task", delayMs: 1500, route: "sessions.turn" });
    await humanMessage(e2e, { channel, threadTs: root.ts, user: LEE, text: "make it warmer" });
    await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, channel, root.ts).find((m) => /Drafting\.\.\. turn 3/.test(m.text)),
    );

    const response = await submitModal(e2e, DANA, modal, {
      "edit.subject_input": "Edited during a turn",
      "edit.body_input": "This must not be saved.",
    });
    const body = ackBody(response);
    expect(body.response_action).toBe("errors");
    expect(Object.values(body.errors as Record<string, string>).join(" ")).toMatch(/working on this draft/i);

    await e2e.bot.idle();
    expect(e2e.emulator.stats().requests["sessions.patch"] ?? 0).toBe(0);
    expect(e2e.emulator.state.sessions.get(sessionId)?.draft_subject).toBe(subjectBefore);
    // The turn still finishes, and no card ever shows the refused edit.
    const v2 = await liveCard(e2e, channel, root.ts, /Draft v2/);
    expect(sentTo(e2e, sessionId).at(-1)).toBe("make it warmer");
    for (const m of draftCards(e2e.slack, channel, root.ts))
      expect(visibleText(m)).not.toContain("Edited during a turn");
    expect(visibleText(v2)).not.toContain("This must not be saved.");
  });

  it("Save to campaign writes subject and body to the email step and says so in the thread", async () => {
    const channel = "C0SAVE";
    const { root, card, sessionId } = await threadWithCard(e2e, channel);
    const session = e2e.emulator.state.sessions.get(sessionId);
    expect(e2e.emulator.state.nodes.get(draft.emailNodeId)?.subject).not.toBe(session?.draft_subject);

    await click(e2e, { user: LEE, channel, message: card, actionId: ACTIONS.save });
    const saved = await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, channel, root.ts).find((m) => /Saved the subject and body/.test(m.text)),
    );
    expect(saved.text).toContain(draft.name);
    expect(saved.text).toContain("Step 1 · Email");
    expect(saved.text).toContain(`<@${LEE}>`);
    const node = e2e.emulator.state.nodes.get(draft.emailNodeId);
    expect(node?.subject).toBe(session?.draft_subject);
    expect(node?.body).toBe(session?.draft_body);
    expect(e2e.emulator.stats().requests["nodes.update"]).toBe(1);
  });

  // Puffle is idle as soon as the card shows, even if Slack is slow to apply the status edit.
  it("Save clicked as soon as the card shows is not refused as busy while Slack lags", async () => {
    const channel = "C0SAVEFAST";
    const root = await humanMention(e2e, { channel, text: "intro email for VPs of Sales" });
    await waitForQuestion(e2e, channel, root.ts);
    await threadSettled(e2e, channel, root.ts);
    const sessionId = await sessionOf(e2e, channel, root.ts);
    // Slack applies edits slowly (as under rate limiting): the card is posted, the status edit lags.
    e2e.slack.delay("chat.update", 800);
    try {
      await humanMessage(e2e, { channel, threadTs: root.ts, text: "Mid-market SaaS, ask for 15 minutes" });
      const card = await liveCard(e2e, channel, root.ts, /Draft v1/);
      expect(e2e.emulator.state.sessions.get(sessionId)?.task_status).toBeNull();
      await click(e2e, { user: LEE, channel, message: card, actionId: ACTIONS.save });
      const outcome = await e2e.slack.waitFor(
        () =>
          e2e.slack.ephemerals(channel, LEE).find((m) => m.thread_ts === root.ts) ??
          botReplies(e2e.slack, channel, root.ts).find((m) => /Saved the subject/.test(m.text)),
      );
      expect(outcome.text).toMatch(/Saved the subject and body/);
    } finally {
      e2e.slack.delay("chat.update", 0);
      await threadSettled(e2e, channel, root.ts);
    }
  });

  it("Save on a thread drafting the AI step explains why (ephemeral) and never PUTs", async () => {
    const channel = "C0SAVEAI";
    // The channel's choice is the AI step, set through /draft settings.
    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.command({ user_id: DANA, channel_id: channel, text: "settings" }),
    );
    const withSteps = await chooseCampaign(e2e, DANA, picker, draft.id);
    await submitPicker(e2e, DANA, withSteps, {
      campaignId: draft.id,
      nodeId: draft.aiNodeId,
      remember: true,
    });
    await e2e.slack.waitFor(() =>
      e2e.slack.ephemerals(channel, DANA).find((m) => /new drafts in this channel/i.test(m.text)),
    );

    const { root, card, sessionId } = await threadWithCard(e2e, channel, "follow-up for VPs of Sales");
    expect(e2e.emulator.state.sessions.get(sessionId)?.node_id).toBe(draft.aiNodeId);
    const aiNodeBefore = JSON.stringify(e2e.emulator.state.nodes.get(draft.aiNodeId));

    await click(e2e, { user: DANA, channel, message: card, actionId: ACTIONS.save });
    const told = await e2e.slack.waitFor(() =>
      e2e.slack.ephemerals(channel, DANA).find((m) => /email steps/i.test(m.text)),
    );
    expect(told.text).toMatch(/AI step/);
    expect(told.thread_ts).toBe(root.ts);
    await e2e.bot.idle();
    expect(e2e.emulator.stats().requests["nodes.update"] ?? 0).toBe(0);
    expect(JSON.stringify(e2e.emulator.state.nodes.get(draft.aiNodeId))).toBe(aiNodeBefore);
    expect(botReplies(e2e.slack, channel, root.ts).some((m) => /Saved the subject/.test(m.text))).toBe(false);
  });

  it("Custom...: the instruction typed in the modal is the next turn, attributed to its author", async () => {
    const channel = "C0CUSTOM";
    const { root, card, sessionId } = await threadWithCard(e2e, channel);
    const modal = await opensModal(e2e.slack, VIEWS.custom, () =>
      click(e2e, { user: LEE, channel, message: card, actionId: ACTIONS.custom }),
    );
    const instruction = "Mention our SOC 2 Type II report in the second paragraph";
    const response = await submitModal(e2e, LEE, modal, { "refine.instruction_input": instruction });
    expect(ackBody(response)).toEqual({});

    const v2 = await liveCard(e2e, channel, root.ts, /Draft v2/);
    expect(sentTo(e2e, sessionId)).toEqual([
      "intro email for VPs of Sales",
      "Mid-market SaaS, our CRO sends it, ask for 15 minutes",
      instruction,
    ]);
    expect(visibleText(v2)).toMatch(/asked by Lee/);
    const status = botReplies(e2e.slack, channel, root.ts).find((m) =>
      textHistory(m).some((t) => /Drafting\.\.\. turn 3 for Lee/.test(t)),
    );
    expect(status).toBeDefined();
  });

  it("Retry after a failure sends the same message again and the result replaces the failure", async () => {
    const channel = "C0RETRY";
    const root = await humanMention(e2e, { channel, text: "intro email for VPs of Sales" });
    await waitForQuestion(e2e, channel, root.ts);
    const sessionId = await sessionOf(e2e, channel, root.ts);

    e2e.emulator.faults.inject({ kind: "status", status: 402, route: "sessions.turn" });
    const reply = "Mid-market SaaS, our CRO sends it, ask for 15 minutes";
    await humanMessage(e2e, { channel, threadTs: root.ts, text: reply });
    const failure = await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, channel, root.ts).find((m) => /out of credits/i.test(m.text)),
    );
    expect(buttonsOf(failure).map((b) => b.action_id)).toEqual([ACTIONS.retry]);
    expect(draftCards(e2e.slack, channel, root.ts)).toHaveLength(0);

    await click(e2e, { user: LEE, channel, message: failure, actionId: ACTIONS.retry });
    await liveCard(e2e, channel, root.ts, /Draft v1/);
    expect(sentTo(e2e, sessionId)).toEqual(["intro email for VPs of Sales", reply]);
    // Turn 1, the refused send, and the retry.
    expect(e2e.emulator.stats().requests["sessions.turn"]).toBe(3);
    const replaced = await e2e.slack.waitFor(() => {
      const current = e2e.slack.message(channel, failure.ts);
      return current && /first framework/i.test(current.text) ? current : undefined;
    });
    expect(visibleText(replaced)).not.toMatch(/out of credits/i);
    expect(buttonsOf(replaced)).toHaveLength(0);
  });

  it("button values are checked against the store: forged session, channel or thread gets 'outdated'", async () => {
    const channel = "C0FORGED";
    const a = await threadWithCard(e2e, channel, "intro for CFOs");
    const b = await threadWithCard(e2e, channel, "intro for CTOs");
    const shorter = refineActionId("shorter");
    const valueA = buttonsOf(a.card).find((x) => x.action_id === shorter)?.value ?? "";
    const revision = valueA.split(":")[1];
    const turnsA = sentTo(e2e, a.sessionId).length;
    const turnsB = sentTo(e2e, b.sessionId).length;

    // Card A, but the value names B's session.
    await click(e2e, {
      user: DANA,
      channel,
      message: a.card,
      actionId: shorter,
      value: `${b.sessionId}:${revision}`,
    });
    // Card A's own value, clicked "from" another channel.
    await click(e2e, { user: DANA, channel: "C0OTHER", message: a.card, actionId: shorter, value: valueA });
    // Card A's value on a message of thread B.
    await click(e2e, { user: DANA, channel, message: b.card, actionId: shorter, value: valueA });

    await e2e.slack.waitFor(
      () =>
        e2e.slack.ephemerals(channel, DANA).filter((m) => /outdated/i.test(m.text)).length === 2 &&
        e2e.slack.ephemerals("C0OTHER", DANA).some((m) => /outdated/i.test(m.text)),
    );
    await e2e.bot.idle();
    expect(sentTo(e2e, a.sessionId)).toHaveLength(turnsA);
    expect(sentTo(e2e, b.sessionId)).toHaveLength(turnsB);
    expect(e2e.emulator.stats().requests["sessions.turn"]).toBe(turnsA + turnsB);
    expect(draftCards(e2e.slack, channel, a.root.ts)).toHaveLength(1);
    expect(draftCards(e2e.slack, channel, b.root.ts)).toHaveLength(1);
  });
});

describe("a turn that outlives the deadline", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E({ env: { TURN_TIMEOUT_MS: "1000" } });
  });
  afterAll(() => e2e.close());

  it("shows 'taking longer' with Check again; after Puffle finishes, the click shows the result", async () => {
    const channel = "C0TIMEOUT";
    const root = await humanMention(e2e, { channel, text: "intro email for VPs of Sales" });
    await waitForQuestion(e2e, channel, root.ts);
    const sessionId = await sessionOf(e2e, channel, root.ts);

    e2e.emulator.faults.inject({ kind: "never_finish", route: "sessions.turn" });
    await humanMessage(e2e, {
      channel,
      threadTs: root.ts,
      text: "Mid-market SaaS, our CRO sends it, ask for 15 minutes",
    });
    const late = await e2e.slack.waitFor(
      () => botReplies(e2e.slack, channel, root.ts).find((m) => /taking longer/i.test(m.text)),
      { timeoutMs: 5000 },
    );
    expect(buttonsOf(late).map((b) => b.action_id)).toEqual([ACTIONS.checkAgain]);

    expect(e2e.emulator.finishTask(sessionId)).toBe(true);
    // The watch ended at the deadline: nothing shows the result until someone checks.
    await e2e.bot.idle();
    expect(draftCards(e2e.slack, channel, root.ts)).toHaveLength(0);

    await click(e2e, { user: LEE, channel, message: late, actionId: ACTIONS.checkAgain });
    const card = await liveCard(e2e, channel, root.ts, /Draft v1/);
    expect(visibleText(card)).toContain(draft.name);
    const replaced = await e2e.slack.waitFor(() => {
      const current = e2e.slack.message(channel, late.ts);
      return current && /first framework/i.test(current.text) ? current : undefined;
    });
    expect(buttonsOf(replaced)).toHaveLength(0);
    expect(e2e.slack.ephemerals(channel, LEE)).toHaveLength(0);
  });
});
