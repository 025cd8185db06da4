import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import type { Session } from "../../emulator/state.ts";
import { call, createSession, getSession, LEADS, nextCompletion, runTurn, SESSIONS } from "./helpers.ts";

let emu: Emulator;

beforeEach(async () => {
  emu = await startEmulator({ taskDelayMs: 60, examplesDelayMs: 80 });
});
afterEach(async () => {
  await emu.close();
});

const BRIEF = "Intro email for VPs of Sales, time-to-ROI angle";
const ANSWER = "Series B SaaS, 20-80 reps; lead with ramp time; ask for a 15-minute call";

function words(text: string | null): number {
  return (text ?? "").split(/\s+/).filter(Boolean).length;
}

function lastAssistant(session: Session): string {
  return session.messages?.filter((message) => message.role === "assistant").at(-1)?.content ?? "";
}

/** A session with a framework (two turns done). */
async function framedSession(hints: Record<string, unknown> = {}): Promise<Session> {
  const session = await createSession(emu);
  await runTurn(emu, session.id, BRIEF, hints);
  return runTurn(emu, session.id, ANSWER, hints);
}

describe("a chat turn", () => {
  it("claims the session at once and clears task_status when the task ends", async () => {
    const session = await createSession(emu);
    const done = nextCompletion(emu, session.id);
    const response = await call<{ runId: string; publicAccessToken: string }>(
      emu,
      "POST",
      `${SESSIONS}/${session.id}/turn`,
      { message: BRIEF },
    );
    expect(response.status).toBe(200);
    expect(response.body.runId).toMatch(/^run_[a-z0-9]+$/);
    expect(response.body.publicAccessToken).toEqual(expect.any(String));
    expect((await getSession(emu, session.id)).task_status).toBe("chat_processing");

    const event = await done;
    expect(event).toMatchObject({ sessionId: session.id, runId: response.body.runId, kind: "turn" });
    expect((await getSession(emu, session.id)).task_status).toBeNull();
  });

  it("turn 1 asks clarifying questions about the brief and drafts nothing", async () => {
    const session = await createSession(emu);
    const after = await runTurn(emu, session.id, BRIEF);

    expect(after.messages?.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(after.messages?.[0]?.content).toBe(BRIEF);
    const reply = lastAssistant(after);
    expect(reply).toContain(BRIEF);
    expect(reply.match(/\?/g)?.length).toBeGreaterThanOrEqual(2);
    expect(after).toMatchObject({
      skeleton: null,
      draft_subject: null,
      draft_body: null,
      framework_version: null,
    });
  });

  it("turn 2 creates the skeleton and draft at version 1, with examples for the first sample lead", async () => {
    const after = await framedSession({ sampleLeads: LEADS, availableVarNames: ["first_name", "company"] });

    expect(after.framework_version).toBe(1);
    expect(after.messages).toHaveLength(4);
    expect(after.draft_subject).toEqual(expect.any(String));
    expect(after.draft_body).toMatch(/%first_name%/);
    expect(after.draft_body).toMatch(/&&[^&]+&&/);
    expect(after.draft_body).toMatch(/%sender_first%/);
    const skeleton = after.skeleton as Record<string, unknown> & {
      blocks: Array<{ name: string; strategy: string; personalization: Record<string, unknown> }>;
      exampleSubject: string;
      exampleBody: string;
    };
    expect(skeleton.subject).toBe(after.draft_subject);
    expect(skeleton.body).toBe(after.draft_body);
    expect(skeleton.blocks.length).toBeGreaterThanOrEqual(3);
    expect(skeleton.blocks.length).toBeLessThanOrEqual(4);
    for (const block of skeleton.blocks) {
      expect(block).toMatchObject({ name: expect.any(String), strategy: expect.any(String) });
      expect(block.personalization).toMatchObject({
        fields: expect.any(Array),
        approach: expect.any(String),
        fallback: expect.any(String),
      });
    }
    expect(skeleton.exampleBody).toContain("Maya");
    expect(skeleton.exampleBody).toContain("Brightlane");
    expect(skeleton.exampleBody).not.toMatch(/%\w+%|&&/);
    expect(skeleton.exampleSubject).not.toMatch(/%\w+%/);
    expect(after.skeleton_history).toEqual([]);
    expect(after.draft_history).toEqual([]);
    expect(lastAssistant(after)).toContain("**");
  });

  it("uses a built-in sample person when the turn carries no sample leads", async () => {
    const after = await framedSession();
    expect((after.skeleton as { exampleBody: string }).exampleBody).toContain("Sarah");
  });

  it("'make it shorter' shortens the body, bumps the version and grows both histories", async () => {
    const before = await framedSession();
    const after = await runTurn(emu, before.id, "Make it shorter please");

    expect(words(after.draft_body)).toBeLessThan(words(before.draft_body));
    expect(after.framework_version).toBe(2);
    expect(after.skeleton_history).toEqual([before.skeleton]);
    expect(after.draft_history).toEqual([{ subject: before.draft_subject, body: before.draft_body }]);
    expect(lastAssistant(after)).toMatch(/shorter/i);

    const again = await runTurn(emu, before.id, "even more concise");
    expect(words(again.draft_body)).toBeLessThan(words(after.draft_body));
    expect(again.framework_version).toBe(3);
    expect(again.skeleton_history).toHaveLength(2);
    expect(again.draft_history).toHaveLength(2);
    expect(again.draft_body).toMatch(/%sender_first%$/);
  });

  it("follows warmer, more direct, stronger CTA and longer visibly", async () => {
    const base = await framedSession();

    const warmer = await runTurn(emu, base.id, "Warmer tone");
    const firstParagraph = (body: string | null) => body?.split("\n\n")[1] ?? "";
    expect(firstParagraph(warmer.draft_body)).not.toBe(firstParagraph(base.draft_body));
    expect(warmer.draft_body).not.toBe(base.draft_body);

    const direct = await runTurn(emu, base.id, "Be more direct");
    expect(warmer.draft_body).toMatch(/I think|maybe|might be wrong/);
    expect(direct.draft_body).not.toMatch(/I think|maybe|might be wrong/);

    const cta = await runTurn(emu, base.id, "Stronger CTA");
    const closing = (body: string | null) => body?.split("\n\n").at(-2) ?? "";
    expect(closing(cta.draft_body)).not.toBe(closing(direct.draft_body));

    const longer = await runTurn(emu, base.id, "Can you expand on the value?");
    expect(words(longer.draft_body)).toBeGreaterThan(words(cta.draft_body));
    expect(longer.draft_body?.split("\n\n").length).toBe((cta.draft_body?.split("\n\n").length ?? 0) + 1);
    expect(longer.framework_version).toBe(5);
  });

  it("'new subject lines' changes the subject and proposes three", async () => {
    const base = await framedSession();
    const after = await runTurn(emu, base.id, "Give me new subject line options");
    expect(after.draft_subject).not.toBe(base.draft_subject);
    const reply = lastAssistant(after);
    expect(reply).toMatch(/1\. .+\n.*2\. .+\n.*3\. /);
    expect(reply).toContain(after.draft_subject ?? "missing");
  });

  it("works any other instruction into the body", async () => {
    const base = await framedSession();
    const after = await runTurn(emu, base.id, "mention our SOC 2 certification");
    expect(after.draft_body).toContain("mention our SOC 2 certification");
    expect(after.framework_version).toBe(2);
  });

  it("revises from the draft as PATCHed by the user", async () => {
    const base = await framedSession();
    const edited =
      "Hi %first_name%,\n\nA hand-written line from the user.\n\nWould Tuesday work?\n\nBest,\n%sender_first%";
    await call(emu, "PATCH", `${SESSIONS}/${base.id}`, { draft_body: edited });
    const after = await runTurn(emu, base.id, "Stronger call to action");
    expect(after.draft_body).toContain("A hand-written line from the user.");
    expect(after.draft_body).not.toContain("Would Tuesday work?");
    expect(after.draft_history?.at(-1)).toEqual({ subject: base.draft_subject, body: edited });
  });

  it("is deterministic: the same turns give the same drafts", async () => {
    const a = await framedSession({ sampleLeads: LEADS });
    const b = await framedSession({ sampleLeads: LEADS });
    const revisedA = await runTurn(emu, a.id, "shorter and warmer, new subject", { sampleLeads: LEADS });
    const revisedB = await runTurn(emu, b.id, "shorter and warmer, new subject", { sampleLeads: LEADS });
    expect(revisedA.skeleton).toEqual(revisedB.skeleton);
    expect(revisedA.messages).toEqual(revisedB.messages);
    expect(revisedA.draft_subject).not.toBe(a.draft_subject);
  });

  it("records every accepted turn body, hints included", async () => {
    const session = await createSession(emu);
    const hints = {
      availableVarNames: ["first_name", "industry"],
      sampleLeads: LEADS,
      sequenceContext: { position: 0, total_nodes: 3, prior_nodes: [] },
    };
    await runTurn(emu, session.id, BRIEF, hints);
    await call(emu, "POST", `${SESSIONS}/${session.id}/turn`, { message: "" });
    await runTurn(emu, session.id, ANSWER);
    expect(emu.state.turnRequests(session.id)).toEqual([{ message: BRIEF, ...hints }, { message: ANSWER }]);
  });
});

describe("the busy claim", () => {
  it("20 parallel turns on an idle session: exactly one 200, nineteen 409", async () => {
    const session = await createSession(emu);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(emu, "POST", `${SESSIONS}/${session.id}/turn`, { message: `message ${i}` }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    const conflict = responses.find((response) => response.status === 409);
    expect(conflict?.body).toEqual({ error: expect.stringMatching(/busy/i) });
    expect(emu.state.turnRequests(session.id)).toHaveLength(1);
  });

  it("a turn while examples are generating gets 409, and vice versa", async () => {
    const session = await framedSession();
    const examples = await call(emu, "POST", `${SESSIONS}/${session.id}/generate-examples`, {
      leads: LEADS,
      isFirstBatch: true,
    });
    expect(examples.status).toBe(200);
    expect((await getSession(emu, session.id)).task_status).toBe("generating_examples");
    expect((await call(emu, "POST", `${SESSIONS}/${session.id}/turn`, { message: "hi" })).status).toBe(409);

    emu.finishTask(session.id);
    await call(emu, "POST", `${SESSIONS}/${session.id}/turn`, { message: "hi" });
    const busy = await call(emu, "POST", `${SESSIONS}/${session.id}/generate-examples`, {
      leads: LEADS,
      isFirstBatch: true,
    });
    expect(busy.status).toBe(409);
  });
});

describe("generate-examples", () => {
  const examplesPath = (id: string) => `${SESSIONS}/${id}/generate-examples`;

  it("answers 400 while the session has no framework", async () => {
    const session = await createSession(emu);
    const response = await call(emu, "POST", examplesPath(session.id), { leads: LEADS, isFirstBatch: true });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: "Session has no framework yet. Chat first to create one." });
  });

  it("validates the lead count (3 to 10) and isFirstBatch", async () => {
    const session = await framedSession();
    const lead = LEADS[0];
    for (const body of [
      { leads: [lead, lead], isFirstBatch: true },
      { leads: Array.from({ length: 11 }, () => lead), isFirstBatch: true },
      { leads: LEADS },
      { leads: LEADS, isFirstBatch: "yes" },
    ]) {
      expect((await call(emu, "POST", examplesPath(session.id), body)).status).toBe(400);
    }
  });

  it("writes one example per lead with merge fields and AI passages filled; appends or overwrites", async () => {
    const session = await framedSession();
    const done = nextCompletion(emu, session.id);
    const response = await call(emu, "POST", examplesPath(session.id), { leads: LEADS, isFirstBatch: true });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      runId: expect.stringMatching(/^run_/),
      publicAccessToken: expect.any(String),
    });
    expect((await done).kind).toBe("examples");

    const after = await getSession(emu, session.id);
    const examples = after.generated_examples as Array<Record<string, string>>;
    expect(examples).toHaveLength(3);
    expect(examples[0]?.lead_id).toBe(SEED.draftCampaign.leadIds[0]);
    expect(examples[1]?.lead_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(examples.map((example) => example.lead_name)).toEqual([
      "Maya Patel",
      "Daniel Okafor",
      "Sofia Lindqvist",
    ]);
    LEADS.forEach((lead, i) => {
      const example = examples[i];
      expect(example?.body).toContain(`Hi ${lead.first_name},`);
      expect(example?.body).toContain(lead.company);
      expect(example?.body).toContain(SEED.senderFirstName);
      expect(`${example?.subject}\n${example?.body}`).not.toMatch(/%\w+%|&&/);
    });
    expect(examples[1]?.body).toContain("22");
    expect(lastAssistant(after)).toBe("Generated 3 examples.");
    expect(emu.state.examplesRequests(session.id)).toEqual([{ leads: LEADS, isFirstBatch: true }]);

    await runExamples(session.id, false);
    expect((await getSession(emu, session.id)).generated_examples).toHaveLength(6);
    await runExamples(session.id, true);
    expect((await getSession(emu, session.id)).generated_examples).toHaveLength(3);
  });

  it("derives the same lead_id for the same lead without an id", async () => {
    const session = await framedSession();
    await runExamples(session.id, true);
    const first = (await getSession(emu, session.id)).generated_examples;
    await runExamples(session.id, true);
    expect((await getSession(emu, session.id)).generated_examples).toEqual(first);
  });

  async function runExamples(sessionId: string, isFirstBatch: boolean) {
    const done = nextCompletion(emu, sessionId);
    const response = await call(emu, "POST", examplesPath(sessionId), { leads: LEADS, isFirstBatch });
    expect(response.status).toBe(200);
    await done;
  }
});
