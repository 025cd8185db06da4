import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import type { StepChoice } from "../../src/drafting/store.ts";
import {
  DRAFT_STEP,
  type DraftingHarness,
  type DraftingInstance,
  dana,
  lee,
  newThreadRef,
  startDraftingHarness,
} from "../support/drafting-harness.ts";

let harness: DraftingHarness;
let bot: DraftingInstance;

beforeAll(async () => {
  harness = await startDraftingHarness();
});
afterAll(() => harness.close());
beforeEach(async () => {
  await bot?.stop();
  harness.emulator.reset();
  bot = await harness.start();
});

/** A thread whose draft exists (turn 1 asks questions, turn 2 drafts). */
async function draftedThread(step: StepChoice = DRAFT_STEP) {
  const ref = newThreadRef();
  const started = await bot.service.startDraft({
    thread: ref,
    step,
    author: dana,
    text: "Intro for VPs of Sales",
  });
  if (started.status !== "accepted") throw new Error(started.status);
  await bot.waitFor("result", started.thread.id);
  await bot.service.submitMessage({
    thread: ref,
    author: dana,
    text: "Mid-market SaaS, CRO sender, ask for 15 min",
  });
  const [, result] = await bot.waitFor("result", started.thread.id, 2);
  if (result?.type !== "result") throw new Error("no draft");
  const sessionId = (await bot.store.getThreadById(started.thread.id))?.sessionId ?? "";
  return { ref, thread: started.thread, draft: result.draft, changed: result.draftChanged, sessionId };
}

describe("drafting use cases", () => {
  it("turn 2 produces a draft view: version, subject, body, skeleton, preview lead, variables", async () => {
    const { draft, changed } = await draftedThread();
    expect(changed).toBe(true);
    expect(draft.frameworkVersion).toBe(1);
    expect(draft.subject).toBeTruthy();
    expect(draft.body).toMatch(/%first_name%/);
    expect(draft.skeleton).toHaveProperty("blocks");
    expect(draft.campaignName).toBe("Q1 VP Sales outreach");
    expect(draft.stepLabel).toBe("Step 1 · Email");
    expect(draft.previewLead?.first_name).toBeTruthy();
    expect(draft.variables).toContain("first_name");
    expect(draft.wordCount).toBeGreaterThan(10);
  });

  it("a reply that does not change the draft is not reported as a change", async () => {
    const { ref, thread, sessionId } = await draftedThread();
    const current = harness.emulator.state.sessions.get(sessionId);
    harness.emulator.faults.inject({
      kind: "scripted_reply",
      assistant: "Happy to help. Anything else?",
      draft_subject: current?.draft_subject ?? "",
      draft_body: current?.draft_body ?? "",
      skeleton: current?.skeleton ?? null,
    });
    await bot.service.submitMessage({ thread: ref, author: lee, text: "thanks!" });
    const results = await bot.waitFor("result", thread.id, 3);
    const last = results[2];
    expect(last?.type === "result" && last.draftChanged).toBe(false);
    expect(last?.type === "result" && last.replies).toEqual(["Happy to help. Anything else?"]);
  });

  it("generate examples: 3 to 5 campaign leads, isFirstBatch, watched like a turn", async () => {
    const { ref, thread, sessionId } = await draftedThread();
    const accepted = await bot.service.requestExamples({ thread: ref, author: lee });
    expect(accepted.status).toBe("accepted");
    const [dispatched] = (await bot.waitFor("dispatched", thread.id, 3)).slice(2);
    expect(dispatched).toMatchObject({ kind: "examples", leadCount: 5 });
    const [, , examples] = await bot.waitFor("result", thread.id, 3);
    if (examples?.type !== "result") throw new Error("no examples");
    expect(examples.kind).toBe("examples");
    expect(examples.draft.examples).toHaveLength(5);
    const [request] = harness.emulator.state.examplesRequests(sessionId);
    expect(request?.isFirstBatch).toBe(true);
    expect(request?.leads).toHaveLength(5);
  });

  it("examples before a draft exists fail with no_framework; a campaign with too few leads is refused clearly", async () => {
    const ref = newThreadRef();
    const started = await bot.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: dana,
      text: "Intro",
    });
    if (started.status !== "accepted") throw new Error(started.status);
    await bot.waitFor("result", started.thread.id);
    await bot.service.requestExamples({ thread: ref, author: dana });
    const [failed] = await bot.waitFor("failed", started.thread.id);
    expect(failed).toMatchObject({ code: "no_framework", retryable: false });

    const active = { campaignId: SEED.activeCampaign.id, nodeId: SEED.activeCampaign.emailNodeId };
    const small = await draftedThread(active);
    await bot.service.requestExamples({ thread: small.ref, author: dana });
    const [tooFew] = await bot.waitFor("failed", small.thread.id);
    expect(tooFew).toMatchObject({ code: "not_enough_leads" });
  });

  it("edit saves subject and body with PATCH while idle, and is refused while a task runs", async () => {
    const { ref, sessionId, thread } = await draftedThread();
    const saved = await bot.service.editDraft({
      thread: ref,
      author: lee,
      subject: "New subject",
      body: "Hi %first_name%",
    });
    expect(saved).toMatchObject({ status: "saved" });
    expect(harness.emulator.state.sessions.get(sessionId)?.draft_body).toBe("Hi %first_name%");

    harness.emulator.faults.inject({ kind: "slow_task", delayMs: 800 });
    await bot.service.submitMessage({ thread: ref, author: dana, text: "shorter" });
    await bot.waitFor("dispatched", thread.id, 3);
    const refused = await bot.service.editDraft({ thread: ref, author: lee, subject: "x", body: "y" });
    expect(refused).toMatchObject({ status: "refused", reason: "busy" });
    expect(harness.emulator.state.sessions.get(sessionId)?.draft_subject).not.toBe("x");
  });

  it("save to campaign writes subject and body to an email step of a draft campaign only", async () => {
    const email = await draftedThread();
    const saved = await bot.service.saveToCampaign({ thread: email.ref, author: dana });
    expect(saved).toMatchObject({ status: "saved", campaignName: "Q1 VP Sales outreach" });
    const node = harness.emulator.state.nodes.get(SEED.draftCampaign.emailNodeId);
    const session = harness.emulator.state.sessions.get(email.sessionId);
    expect(node?.subject).toBe(session?.draft_subject);
    expect(node?.body).toBe(session?.draft_body);

    const ai = await draftedThread({
      campaignId: SEED.draftCampaign.id,
      nodeId: SEED.draftCampaign.aiNodeId,
    });
    expect(await bot.service.saveToCampaign({ thread: ai.ref, author: dana })).toMatchObject({
      status: "refused",
      reason: "not_email_step",
    });

    const active = await draftedThread({
      campaignId: SEED.activeCampaign.id,
      nodeId: SEED.activeCampaign.emailNodeId,
    });
    expect(await bot.service.saveToCampaign({ thread: active.ref, author: dana })).toMatchObject({
      status: "refused",
      reason: "campaign_not_draft",
    });
    expect(harness.emulator.stats().requests["nodes.update"]).toBe(1);
  });

  it("a session that Puffle hands back for a second thread is never shared silently: the message moves", async () => {
    const first = await draftedThread();
    harness.emulator.faults.inject({ kind: "create_returns_existing" });
    const ref = newThreadRef();
    const started = await bot.service.startDraft({
      thread: ref,
      step: DRAFT_STEP,
      author: lee,
      text: "Second brief",
    });
    if (started.status !== "accepted") throw new Error(started.status);
    const [moved] = await bot.waitFor("moved", first.thread.id);
    expect(moved).toMatchObject({ from: { id: started.thread.id } });
    expect(await bot.store.getThreadById(started.thread.id)).toBeUndefined();
    await bot.waitFor("result", first.thread.id, 3);
    expect(
      harness.emulator.state
        .turnRequests(first.sessionId)
        .map((r) => r.message)
        .at(-1),
    ).toBe("Second brief");
  });

  it("a draft without a step keeps its message until a step is picked, then sends it", async () => {
    const ref = newThreadRef();
    const started = await bot.service.startDraft({
      thread: ref,
      step: undefined,
      author: dana,
      text: "Intro for CFOs",
    });
    expect(started.status).toBe("needs_step");
    if (started.status !== "needs_step") return;
    await bot.service.idle();
    expect(harness.emulator.stats().requests["sessions.create"] ?? 0).toBe(0);
    expect((await bot.store.listTurns(started.thread.id)).map((t) => t.state)).toEqual(["pending"]);

    expect(
      await bot.service.chooseStep({ threadId: started.thread.id, step: DRAFT_STEP, author: lee }),
    ).toMatchObject({
      status: "accepted",
    });
    await bot.waitFor("result", started.thread.id);
    const sessionId = (await bot.store.getThreadById(started.thread.id))?.sessionId ?? "";
    expect(harness.emulator.state.turnRequests(sessionId).map((r) => r.message)).toEqual(["Intro for CFOs"]);
    expect(
      await bot.service.chooseStep({ threadId: started.thread.id, step: DRAFT_STEP, author: lee }),
    ).toMatchObject({
      status: "refused",
      reason: "already_started",
    });
  });

  it("the step for a new draft: channel choice, else (in a DM) the user's, else the workspace default", async () => {
    const input = { teamId: "T0TEAM", channelId: "C0STEP", userId: dana.id, isDirect: false };
    expect(await bot.service.resolveStep(input)).toBeUndefined();
    await bot.service.rememberStep({ ...input, step: DRAFT_STEP, forChannel: true });
    expect(await bot.service.resolveStep(input)).toEqual({ ...DRAFT_STEP, source: "channel" });
    const dm = { ...input, channelId: "D0DM", isDirect: true };
    expect(await bot.service.resolveStep(dm)).toEqual({ ...DRAFT_STEP, source: "user" });
    expect(await bot.service.resolveStep({ ...input, channelId: "C0OTHER", userId: lee.id })).toBeUndefined();
  });

  it("the picker lists draft campaigns first and the email and AI steps of a campaign", async () => {
    const campaigns = await bot.service.listCampaigns("T0TEAM");
    expect(campaigns[0]?.status).toBe("draft");
    const steps = await bot.service.listSteps("T0TEAM", SEED.draftCampaign.id);
    expect(steps.map((s) => s.label)).toEqual(["Step 1 · Email", "Step 2 · AI email", "Step 3 · Email"]);
  });
});
