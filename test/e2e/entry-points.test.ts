import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { ACTIONS, INPUTS, SHORTCUT_DRAFT_FROM_MESSAGE, VIEWS } from "../../src/slack/ids.ts";
import type { StoredMessage, StoredView } from "../support/fake-slack.ts";
import {
  ackBody,
  botReplies,
  buttonsOf,
  CHANNEL,
  chooseCampaign,
  type currentView,
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
  submitPicker,
  submittedState,
  visibleText,
  waitForQuestion,
} from "../support/harness.ts";

const draft = SEED.draftCampaign;

/** Root messages the bot posted at the top level of a channel. */
function botRoots(e2e: E2E, channel: string): StoredMessage[] {
  return e2e.slack
    .messages(channel)
    .filter((m) => m.bot_id && (m.thread_ts === undefined || m.thread_ts === m.ts));
}

/** The session the emulator created for a thread. */
async function sessionFor(e2e: E2E, channel: string, threadTs: string) {
  const id = await sessionOf(e2e, channel, threadTs);
  const session = e2e.emulator.state.sessions.get(id);
  if (!session) throw new Error(`no Puffle session for ${channel}/${threadTs}`);
  return session;
}

const sentTo = (e2e: E2E, sessionId: string) =>
  e2e.emulator.state.turnRequests(sessionId).map((request) => request.message);

/** Options of the select with this action id in a modal, as value/label pairs. */
function selectOptions(view: ReturnType<typeof currentView>, actionId: string) {
  const element = view && inputsOf(view).find((b) => b.element?.action_id === actionId)?.element;
  return ((element?.options ?? []) as { value: string; text: { text: string } }[]).map((o) => ({
    value: o.value,
    label: o.text.text,
  }));
}

describe("with the workspace default step", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(() => e2e.close());
  beforeEach(() => {
    e2e.emulator.reset();
  });

  it("/draft <brief> posts a new root message and runs turn 1 in its thread", async () => {
    const channel = "C0CMDBRIEF";
    const response = await e2e.requester.command({
      user_id: DANA,
      channel_id: channel,
      text: "intro email for VPs of Sales, time-to-ROI angle",
    });
    expect(response.status).toBe(200);

    const root = await e2e.slack.waitFor(() => botRoots(e2e, channel)[0]);
    expect(root.text).toBe(`<@${DANA}> started a draft: intro email for VPs of Sales, time-to-ROI angle`);
    const question = await waitForQuestion(e2e, channel, root.ts);
    expect(visibleText(question)).toContain("VPs of Sales");

    const session = await sessionFor(e2e, channel, root.ts);
    expect(session.node_id).toBe(draft.emailNodeId);
    expect(sentTo(e2e, session.id)).toEqual(["intro email for VPs of Sales, time-to-ROI angle"]);
    // No modal was needed, and the only top-level message is the new root.
    expect(e2e.slack.callsTo("views.open")).toHaveLength(0);
    expect(botRoots(e2e, channel)).toHaveLength(1);
  });

  it("/draft without a brief opens the picker; submitting starts the draft and remembers the channel", async () => {
    const channel = "C0CMDPICK";
    const opensBefore = e2e.slack.callsTo("views.open").length;
    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.command({ user_id: DANA, channel_id: channel, text: "" }),
    );
    // A loading modal first (the trigger_id lives 3 s), then the picker through views.update.
    const open = e2e.slack.callsTo("views.open").slice(opensBefore);
    expect(open).toHaveLength(1);
    expect(JSON.stringify(open[0]?.args.view)).toMatch(/Loading/);
    expect(picker.via).toBe("views.update");

    // Draft campaigns first, then the others; a brief input and a "remember" checkbox.
    const campaigns = selectOptions(picker, ACTIONS.pickerCampaign);
    expect(campaigns.map((c) => c.value)).toEqual([
      draft.id,
      ...[SEED.activeCampaign.id, SEED.pausedCampaign.id].sort((a, b) =>
        (campaigns.find((c) => c.value === a)?.label ?? "").localeCompare(
          campaigns.find((c) => c.value === b)?.label ?? "",
        ),
      ),
    ]);
    expect(campaigns[0]?.label).toContain(draft.name);
    const blockIds = inputsOf(picker).map((b) => b.block_id);
    expect(blockIds).toEqual(expect.arrayContaining(["picker.campaign", "picker.brief", "picker.remember"]));

    // Choosing a campaign lists its email and AI steps.
    const withSteps = await chooseCampaign(e2e, DANA, picker, draft.id);
    expect(selectOptions(withSteps, ACTIONS.pickerStep).map((s) => s.value)).toEqual([
      draft.emailNodeId,
      draft.aiNodeId,
      draft.secondEmailNodeId,
    ]);
    expect(selectOptions(withSteps, ACTIONS.pickerStep).map((s) => s.label)).toEqual([
      "Step 1 · Email",
      "Step 2 · AI email",
      "Step 3 · Email",
    ]);

    const submitted = await submitPicker(e2e, DANA, withSteps, {
      campaignId: draft.id,
      nodeId: draft.aiNodeId,
      brief: "follow-up for VPs of Sales who opened but did not reply",
      remember: true,
    });
    expect(submitted.status).toBe(200);
    expect(ackBody(submitted)).toEqual({});

    const root = await e2e.slack.waitFor(() => botRoots(e2e, channel)[0]);
    expect(root.text).toBe(
      `<@${DANA}> started a draft: follow-up for VPs of Sales who opened but did not reply`,
    );
    await waitForQuestion(e2e, channel, root.ts);
    const session = await sessionFor(e2e, channel, root.ts);
    expect(session.node_id).toBe(draft.aiNodeId);
    expect(sentTo(e2e, session.id)).toEqual(["follow-up for VPs of Sales who opened but did not reply"]);

    // The channel now has a saved choice (the AI step, not the workspace default): /draft with a brief
    // starts at once, without a modal, on that step.
    const viewsBefore = e2e.slack.callsTo("views.open").length;
    await e2e.requester.command({ user_id: LEE, channel_id: channel, text: "other brief: CFO intro" });
    const second = await e2e.slack.waitFor(() => botRoots(e2e, channel)[1]);
    expect(second.text).toBe(`<@${LEE}> started a draft: other brief: CFO intro`);
    await waitForQuestion(e2e, channel, second.ts);
    const secondSession = await sessionFor(e2e, channel, second.ts);
    expect(secondSession.node_id).toBe(draft.aiNodeId);
    expect(sentTo(e2e, secondSession.id)).toEqual(["other brief: CFO intro"]);
    expect(e2e.slack.callsTo("views.open")).toHaveLength(viewsBefore);
  });

  it("submitting the picker without a step gets field errors and starts nothing", async () => {
    const channel = "C0CMDNOSTEP";
    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.command({ user_id: DANA, channel_id: channel, text: "" }),
    );
    const withSteps = await chooseCampaign(e2e, DANA, picker, draft.id);
    const response = await submitPicker(e2e, DANA, withSteps, {
      campaignId: draft.id,
      nodeId: null,
      brief: "intro for HR leaders",
    });
    expect(response.status).toBe(200);
    const body = ackBody(response);
    expect(body.response_action).toBe("errors");
    // The error sits on the step input the person sees (its block_id names the campaign).
    const stepBlock = inputsOf(withSteps).find((b) => b.element?.action_id === ACTIONS.pickerStep)?.block_id;
    expect(stepBlock).toBeDefined();
    expect(body.errors).toEqual({ [stepBlock ?? ""]: expect.stringMatching(/choose a step/i) });

    await e2e.bot.idle();
    expect(e2e.slack.messages(channel)).toHaveLength(0);
    expect(e2e.emulator.stats().requests["sessions.create"] ?? 0).toBe(0);
  });

  /**
   * Submits the picker with a campaign and step it did not offer (a forged or stale form):
   * the values are written into the submitted state as they are.
   */
  function submitChoice(view: StoredView, choice: { campaignId: string; nodeId: string; brief: string }) {
    const state = submittedState(view, {
      [ACTIONS.pickerCampaign]: draft.id,
      [INPUTS.brief.action]: choice.brief,
    });
    for (const [blockId, actions] of Object.entries(state.values)) {
      if (actions[ACTIONS.pickerCampaign]) {
        actions[ACTIONS.pickerCampaign] = {
          type: "static_select",
          selected_option: { value: choice.campaignId, text: { type: "plain_text", text: "x" } },
        };
      }
      if (blockId.startsWith(INPUTS.step.block)) {
        actions[ACTIONS.pickerStep] = {
          type: "static_select",
          selected_option: { value: choice.nodeId, text: { type: "plain_text", text: "x" } },
        };
      }
    }
    return e2e.requester.viewSubmission({
      user: DANA,
      view: { ...view.view, callback_id: String(view.view.callback_id), state },
    });
  }

  it("a step that is not one of the campaign's draftable steps is refused in the modal", async () => {
    const channel = "C0CMDBADSTEP";
    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.command({ user_id: DANA, channel_id: channel, text: "" }),
    );
    const withSteps = await chooseCampaign(e2e, DANA, picker, draft.id);
    // A delay step: never offered by the picker, so only a forged or stale form can send it.
    const response = await submitChoice(withSteps, {
      campaignId: draft.id,
      nodeId: draft.firstDelayNodeId,
      brief: "intro",
    });
    expect(ackBody(response)).toMatchObject({
      response_action: "errors",
      errors: expect.objectContaining({}),
    });
    expect(JSON.stringify(ackBody(response).errors)).toMatch(/Choose one of this campaign's steps/);
    await e2e.bot.idle();
    expect(e2e.slack.messages(channel)).toHaveLength(0);
  });

  it("a slow Puffle while checking the chosen step does not hold up Slack's 3-second answer", async () => {
    const channel = "C0CMDSLOWCHECK";
    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.command({ user_id: DANA, channel_id: channel, text: "" }),
    );
    const withSteps = await chooseCampaign(e2e, DANA, picker, draft.id);
    // The other campaign was never loaded, so the check has to ask Puffle, which takes 2.6 s.
    e2e.emulator.faults.inject({ kind: "delay_response", ms: 2600, route: "campaigns.get", times: 3 });
    const getsBefore = e2e.emulator.stats().requests["campaigns.get"] ?? 0;
    const started = performance.now();
    const response = await submitChoice(withSteps, {
      campaignId: SEED.activeCampaign.id,
      nodeId: SEED.activeCampaign.emailNodeId,
      brief: "follow-up for CFOs",
    });
    const answeredIn = performance.now() - started;
    expect(response.status).toBe(200);
    expect(ackBody(response)).toEqual({});
    expect(answeredIn).toBeLessThan(2600);
    expect(e2e.emulator.stats().requests["campaigns.get"]).toBeGreaterThan(getsBefore);
    // The check finishes after the ack, and the draft starts.
    const root = await e2e.slack.waitFor(() => botRoots(e2e, channel)[0], { timeoutMs: 8000 });
    expect(root.text).toContain("follow-up for CFOs");
  });

  it("/draft help answers ephemerally; /draft settings opens the picker and saves the channel's choice", async () => {
    const channel = "C0CMDSETTINGS";
    await e2e.requester.command({ user_id: DANA, channel_id: channel, text: "help" });
    const help = await e2e.slack.waitFor(() => e2e.slack.ephemerals(channel, DANA)[0]);
    const helpText = JSON.stringify(help.blocks ?? []) + help.text;
    expect(helpText).toContain("/draft settings");
    expect(helpText).toContain("Draft from this message");
    expect(e2e.slack.messages(channel)).toHaveLength(0);

    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.command({ user_id: DANA, channel_id: channel, text: "settings" }),
    );
    expect(inputsOf(picker).map((b) => b.block_id)).not.toContain("picker.brief");
    const withSteps = await chooseCampaign(e2e, DANA, picker, draft.id);
    const response = await submitPicker(e2e, DANA, withSteps, {
      campaignId: draft.id,
      nodeId: draft.secondEmailNodeId,
      remember: true,
    });
    expect(ackBody(response)).toEqual({});

    const told = await e2e.slack.waitFor(() =>
      e2e.slack.ephemerals(channel, DANA).find((m) => /new drafts in this channel/i.test(m.text)),
    );
    expect(told.text).toContain("Step 3 · Email");
    expect(e2e.slack.messages(channel)).toHaveLength(0);

    // The saved choice is used by the next draft in the channel (not the workspace default).
    await e2e.requester.command({ user_id: LEE, channel_id: channel, text: "breakup email" });
    const root = await e2e.slack.waitFor(() => botRoots(e2e, channel)[0]);
    await waitForQuestion(e2e, channel, root.ts);
    expect((await sessionFor(e2e, channel, root.ts)).node_id).toBe(draft.secondEmailNodeId);

    // Opening the settings again shows the saved choice.
    const again = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.command({ user_id: DANA, channel_id: channel, text: "settings" }),
    );
    const step = inputsOf(again).find((b) => b.element?.action_id === ACTIONS.pickerStep)?.element;
    expect((step?.initial_option as { value?: string } | undefined)?.value).toBe(draft.secondEmailNodeId);
  });

  it("the message shortcut starts a draft in an existing thread; in a mapped thread the text is the next turn", async () => {
    const channel = "C0SHORTCUT";
    const root = e2e.slack.addHumanMessage({ channel, user: LEE, text: "Team, we need an intro for CFOs" });
    const reply = e2e.slack.addHumanMessage({
      channel,
      user: DANA,
      thread_ts: root.ts,
      text: "intro for CFOs at fintechs &amp; payment companies",
    });
    const response = await e2e.requester.messageShortcut({
      callback_id: SHORTCUT_DRAFT_FROM_MESSAGE,
      user: DANA,
      channel,
      message: reply,
    });
    expect(response.status).toBe(200);

    // The draft lives in that thread (under the root), with the message's text as the brief.
    await waitForQuestion(e2e, channel, root.ts);
    const sessionId = await sessionOf(e2e, channel, root.ts);
    expect(sessionId).not.toBe("");
    expect(sentTo(e2e, sessionId)).toEqual(["intro for CFOs at fintechs & payment companies"]);
    expect(botRoots(e2e, channel)).toHaveLength(0);

    // Someone wrote in the thread without the bot hearing it (e.g. before the draft existed):
    // the shortcut on that message makes it the next turn of the same session.
    const note = e2e.slack.addHumanMessage({
      channel,
      user: LEE,
      thread_ts: root.ts,
      text: "Audience: CFOs at 200-1000 person fintechs; ask for 15 minutes",
    });
    await e2e.requester.messageShortcut({
      callback_id: SHORTCUT_DRAFT_FROM_MESSAGE,
      user: LEE,
      channel,
      message: note,
    });
    const card = await e2e.slack.waitFor(() => draftCards(e2e.slack, channel, root.ts)[0]);
    expect(visibleText(card)).toContain("Draft v1");
    expect(sentTo(e2e, sessionId)).toEqual([
      "intro for CFOs at fintechs & payment companies",
      "Audience: CFOs at 200-1000 person fintechs; ask for 15 minutes",
    ]);
    expect(e2e.emulator.stats().requests["sessions.create"]).toBe(1);
  });

  it("a DM to the bot starts a draft thread under that message; a reply there is the next turn", async () => {
    const dm = "D0PAT";
    const pat = "U0PAT";
    const first = await humanMessage(e2e, {
      channel: dm,
      user: pat,
      text: "intro email for heads of RevOps, pipeline hygiene angle",
    });
    await waitForQuestion(e2e, dm, first.ts);
    const sessionId = await sessionOf(e2e, dm, first.ts);
    expect(sentTo(e2e, sessionId)).toEqual(["intro email for heads of RevOps, pipeline hygiene angle"]);

    await humanMessage(e2e, {
      channel: dm,
      user: pat,
      threadTs: first.ts,
      text: "Series B SaaS, 50-200 people, ask for a reply",
    });
    const card = await e2e.slack.waitFor(() => draftCards(e2e.slack, dm, first.ts)[0]);
    expect(visibleText(card)).toContain("Draft v1");
    expect(sentTo(e2e, sessionId)).toEqual([
      "intro email for heads of RevOps, pipeline hygiene angle",
      "Series B SaaS, 50-200 people, ask for a reply",
    ]);
    expect(e2e.emulator.stats().requests["sessions.create"]).toBe(1);
  });

  it("a mention inside an existing thread without a session starts a session for that thread", async () => {
    const channel = "C0INTHREAD";
    const root = e2e.slack.addHumanMessage({ channel, user: LEE, text: "Q2 outbound planning" });
    const mention = await humanMention(e2e, {
      channel,
      threadTs: root.ts,
      text: "draft an intro for VPs of Marketing",
    });
    // Slack also delivers the same message as a `message` event: still one turn.
    await e2e.requester.event({
      type: "message",
      user: DANA,
      text: mention.text,
      ts: mention.ts,
      thread_ts: root.ts,
      channel,
      channel_type: "channel",
      event_ts: mention.ts,
    });
    await waitForQuestion(e2e, channel, root.ts);
    const sessionId = await sessionOf(e2e, channel, root.ts);
    expect(sentTo(e2e, sessionId)).toEqual(["draft an intro for VPs of Marketing"]);
    await e2e.bot.idle();
    expect(sentTo(e2e, sessionId)).toHaveLength(1);
    expect(e2e.emulator.stats().requests["sessions.create"]).toBe(1);
    // The answer is in the thread, not in a new one under the mention.
    expect(botReplies(e2e.slack, channel, mention.ts)).toHaveLength(0);
  });
});

describe("with no workspace default and no saved choice", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E({ env: { PUFFLE_CAMPAIGN_ID: "", PUFFLE_NODE_ID: "" } });
  });
  afterAll(() => e2e.close());
  beforeEach(() => {
    e2e.emulator.reset();
  });

  it("/draft <brief> opens the picker with the brief filled in", async () => {
    const channel = "C0NODEFCMD";
    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.command({ user_id: DANA, channel_id: channel, text: "intro for CFOs, month-end angle" }),
    );
    const brief = inputsOf(picker).find((b) => b.block_id === "picker.brief")?.element;
    expect(brief?.initial_value).toBe("intro for CFOs, month-end angle");
    expect(e2e.slack.messages(channel)).toHaveLength(0);
    expect(e2e.emulator.stats().requests["sessions.create"] ?? 0).toBe(0);

    // Submitting it (the brief kept as prefilled) starts the draft with that brief.
    const withSteps = await chooseCampaign(e2e, DANA, picker, draft.id);
    expect(inputsOf(withSteps).find((b) => b.block_id === "picker.brief")?.element?.initial_value).toBe(
      "intro for CFOs, month-end angle",
    );
    await submitPicker(e2e, DANA, withSteps, { campaignId: draft.id, nodeId: draft.emailNodeId });
    const root = await e2e.slack.waitFor(() => botRoots(e2e, channel)[0]);
    expect(root.text).toBe(`<@${DANA}> started a draft: intro for CFOs, month-end angle`);
    await waitForQuestion(e2e, channel, root.ts);
    expect(sentTo(e2e, await sessionOf(e2e, channel, root.ts))).toEqual(["intro for CFOs, month-end angle"]);
  });

  it("a top-level mention asks for campaign and step with a button; picking starts the kept message", async () => {
    const channel = "C0NODEFMENTION";
    const mention = await humanMention(e2e, {
      channel,
      text: "intro email for VPs of Sales, time-to-ROI &amp; ramp angle",
    });
    const prompt = await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, channel, mention.ts).find((m) =>
        buttonsOf(m).some((b) => b.action_id === ACTIONS.openPicker),
      ),
    );
    const button = buttonsOf(prompt).find((b) => b.action_id === ACTIONS.openPicker);
    expect(visibleText(prompt)).toContain("Choose campaign and step");
    expect(e2e.emulator.stats().requests["sessions.create"] ?? 0).toBe(0);

    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      e2e.requester.blockAction({
        user: LEE,
        channel,
        message: prompt,
        actions: [{ action_id: ACTIONS.openPicker, value: button?.value ?? "" }],
      }),
    );
    // Thread mode: the brief is the kept message, so the form does not ask for one.
    expect(inputsOf(picker).map((b) => b.block_id)).not.toContain("picker.brief");
    expect(JSON.parse(String(picker.view.private_metadata))).toMatchObject({ mode: "thread" });

    const withSteps = await chooseCampaign(e2e, LEE, picker, draft.id);
    const response = await submitPicker(e2e, LEE, withSteps, {
      campaignId: draft.id,
      nodeId: draft.emailNodeId,
    });
    expect(ackBody(response)).toEqual({});

    await waitForQuestion(e2e, channel, mention.ts);
    const sessionId = await sessionOf(e2e, channel, mention.ts);
    expect(sentTo(e2e, sessionId)).toEqual(["intro email for VPs of Sales, time-to-ROI & ramp angle"]);
    expect(e2e.emulator.state.sessions.get(sessionId)?.node_id).toBe(draft.emailNodeId);

    // The prompt now says what was chosen, and its button is gone.
    const updated = await e2e.slack.waitFor(() => {
      const current = e2e.slack.message(channel, prompt.ts);
      return current && buttonsOf(current).length === 0 ? current : undefined;
    });
    expect(visibleText(updated)).toContain(draft.name);
    expect(visibleText(updated)).toContain("Step 1 · Email");
    expect(visibleText(updated)).toContain(`<@${LEE}>`);
  });
});

describe("with a channel allow-list", () => {
  let e2e: E2E;
  const allowed = "C0ALLOWED";
  beforeAll(async () => {
    e2e = await startE2E({ env: { ALLOWED_CHANNEL_IDS: allowed } });
  });
  afterAll(() => e2e.close());
  beforeEach(() => {
    e2e.emulator.reset();
  });

  it("a mention in a channel not on the list is ignored; a DM and an allowed channel still work", async () => {
    const ignored = await humanMention(e2e, { channel: CHANNEL, text: "intro for CFOs" });

    const dm = await humanMessage(e2e, { channel: "D0LEE", user: LEE, text: "intro for heads of people" });
    await waitForQuestion(e2e, "D0LEE", dm.ts);
    const inAllowed = await humanMention(e2e, { channel: allowed, text: "intro for CTOs" });
    await waitForQuestion(e2e, allowed, inAllowed.ts);

    await e2e.bot.idle();
    expect(e2e.slack.messages(CHANNEL).filter((m) => m.bot_id)).toHaveLength(0);
    expect(e2e.slack.ephemerals(CHANNEL)).toHaveLength(0);
    expect(botReplies(e2e.slack, CHANNEL, ignored.ts)).toHaveLength(0);
    expect(await sessionOf(e2e, CHANNEL, ignored.ts)).toBe("");
    // Exactly the two sessions of the DM and the allowed channel; nothing sent for the ignored one.
    expect(e2e.emulator.stats().requests["sessions.create"]).toBe(2);
    const sent = [...e2e.emulator.state.sessions.keys()].flatMap((id) => sentTo(e2e, id));
    expect(sent.sort()).toEqual(["intro for CTOs", "intro for heads of people"]);
  });

  it("/draft in a channel not on the list says so privately and opens nothing", async () => {
    const opens = e2e.slack.callsTo("views.open").length;
    await e2e.requester.command({ user_id: DANA, channel_id: CHANNEL, text: "intro for CFOs" });
    const told = await e2e.slack.waitFor(() => e2e.slack.ephemerals(CHANNEL, DANA)[0]);
    expect(told.text).toMatch(/not enabled in this channel/);
    await e2e.bot.idle();
    expect(e2e.slack.messages(CHANNEL).filter((m) => m.bot_id)).toHaveLength(0);
    expect(e2e.slack.callsTo("views.open")).toHaveLength(opens);
    expect(e2e.emulator.stats().requests["sessions.create"] ?? 0).toBe(0);
  });
});
