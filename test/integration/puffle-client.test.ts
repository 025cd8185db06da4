import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import type { Emulator } from "../../emulator/server.ts";
import { createSilentLogger } from "../../src/logger.ts";
import { createPuffleClient, type PuffleClient } from "../../src/puffle/client.ts";
import { BadResponseError, ConnectionError, PuffleError, RateLimitedError } from "../../src/puffle/errors.ts";
import { eventually, startPuffle } from "../support/puffle.ts";

const campaignId = SEED.draftCampaign.id;
const nodeId = SEED.draftCampaign.emailNodeId;

let emulator: Emulator;
let client: PuffleClient;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, client, close } = await startPuffle());
});
afterAll(() => close());
beforeEach(() => emulator.reset());

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PuffleError) return error.code;
    throw error;
  }
  return "ok";
}

async function waitIdle(sessionId: string) {
  return eventually(
    async () => {
      const session = await client.getSession(sessionId);
      return session.task_status === null ? session : undefined;
    },
    5000,
    "the task to finish",
  );
}

describe("Puffle client against the emulator", () => {
  it("covers every session endpoint", async () => {
    const created = await client.createSession({ campaign_id: campaignId, node_id: nodeId });
    expect(created.task_status).toBeNull();
    expect(created.messages ?? []).toEqual([]);
    expect(created.skeleton).toBeNull();

    const listed = await client.listSessions(campaignId);
    expect(listed.map((s) => s.id)).toContain(created.id);

    const run = await client.sendTurn(created.id, {
      message: "Intro email for VPs of Sales, time-to-ROI angle",
    });
    expect(run.runId).toMatch(/^run_/);
    expect(run.publicAccessToken.length).toBeGreaterThan(10);
    const afterTurn1 = await waitIdle(created.id);
    expect(afterTurn1.messages?.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(afterTurn1.skeleton).toBeNull();

    await client.sendTurn(created.id, { message: "Sender is a CRO, keep it under 120 words" });
    const afterTurn2 = await waitIdle(created.id);
    expect(afterTurn2.skeleton).not.toBeNull();
    expect(afterTurn2.framework_version).toBe(1);
    expect(afterTurn2.draft_subject).toBeTruthy();

    const patched = await client.patchSession(created.id, {
      title: "VP intro",
      draft_subject: "Edited subject",
    });
    expect(patched.title).toBe("VP intro");
    expect(patched.draft_subject).toBe("Edited subject");
    expect((await client.getSession(created.id)).draft_subject).toBe("Edited subject");

    const leads = (await client.listLeads(campaignId, { page: 1, limit: 3 })).prospects;
    await client.generateExamples(created.id, {
      leads: leads.map((p) => ({
        id: p.id,
        first_name: p.first_name ?? undefined,
        company: p.company ?? undefined,
      })),
      isFirstBatch: true,
    });
    const afterExamples = await waitIdle(created.id);
    expect(afterExamples.generated_examples).toHaveLength(3);

    await client.deleteSession(created.id);
    expect(await codeOf(client.getSession(created.id))).toBe("not_found");
  });

  it("covers campaigns, leads and the sequence node update", async () => {
    const campaigns = await client.listCampaigns();
    expect(campaigns.map((c) => c.id)).toEqual(expect.arrayContaining([campaignId, SEED.activeCampaign.id]));
    const detail = await client.getCampaign(campaignId);
    expect(detail.campaign.status).toBe("draft");
    expect(detail.sequence_nodes.map((n) => n.type)).toEqual([
      "email",
      "delay",
      "ai",
      "delay",
      "email",
      "end",
    ]);
    const page = await client.listLeads(campaignId, { page: 1, limit: 4 });
    expect(page.prospects).toHaveLength(4);
    expect(page.total).toBe(6);
    expect(page.prospects[0]?.custom_fields).toBeTruthy();

    const node = await client.updateNode(campaignId, nodeId, { subject: "Hello %first_name%", body: "Body" });
    expect(node.subject).toBe("Hello %first_name%");
    expect(
      await codeOf(
        client.updateNode(SEED.activeCampaign.id, SEED.activeCampaign.emailNodeId, { subject: "x" }),
      ),
    ).toBe("bad_request");
  });

  it("maps every error class to its code", async () => {
    const session = await client.createSession({ campaign_id: campaignId, node_id: nodeId });
    const wrongKey = createPuffleClient({
      baseUrl: emulator.url,
      apiKey: "pk_test_wrong_key_123",
      logger: createSilentLogger(),
    });
    expect(await codeOf(wrongKey.listCampaigns())).toBe("unauthorized");
    await wrongKey.close();

    expect(await codeOf(client.getSession("00000000-0000-4000-8000-000000000000"))).toBe("not_found");
    expect(
      await codeOf(client.generateExamples(session.id, { leads: [{}, {}, {}], isFirstBatch: true })),
    ).toBe("no_framework");
    emulator.faults.inject({ kind: "status", status: 402, route: "sessions.turn", error: "Out of credits" });
    expect(await codeOf(client.sendTurn(session.id, { message: "hi" }))).toBe("out_of_credits");
    emulator.faults.inject({ kind: "status", status: 403, route: "campaigns.list" });
    expect(await codeOf(client.listCampaigns())).toBe("forbidden");
    emulator.faults.inject({
      kind: "status",
      status: 400,
      route: "sessions.turn",
      error: "message is required",
    });
    expect(await codeOf(client.sendTurn(session.id, { message: "hi" }))).toBe("bad_request");

    emulator.faults.inject({ kind: "status", status: 503, route: "campaigns.list", times: 10 });
    expect(await codeOf(client.listCampaigns())).toBe("server_error");
    emulator.faults.clear();

    emulator.faults.inject({ kind: "malformed_json", route: "sessions.get" });
    const bad = await client.getSession(session.id).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadResponseError);
    expect((bad as BadResponseError).rawBody).toBeTruthy();

    emulator.faults.inject({ kind: "wrong_shape", route: "sessions.get" });
    const shape = await client.getSession(session.id).catch((e: unknown) => e);
    expect(shape).toBeInstanceOf(BadResponseError);
    expect((shape as BadResponseError).problems.join(" ")).toMatch(/session/);

    emulator.faults.inject({ kind: "status", status: 429, route: "campaigns.list", retryAfterSeconds: 120 });
    const limited = await client.listCampaigns().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(120_000);

    emulator.faults.inject({ kind: "delay_response", ms: 1000, route: "sessions.turn" });
    expect(await codeOf(client.sendTurn(session.id, { message: "slow" }, { timeoutMs: 200 }))).toBe(
      "timeout",
    );
    emulator.faults.clear();

    const refused = createPuffleClient({
      baseUrl: "http://127.0.0.1:9",
      apiKey: "k",
      logger: createSilentLogger(),
      retry: { maxAttempts: 1 },
    });
    const connection = await refused.listCampaigns().catch((e: unknown) => e);
    expect(connection).toBeInstanceOf(ConnectionError);
    expect((connection as ConnectionError).notSent).toBe(true);
    await refused.close();
  });

  it("retries a read after a 429, waiting as long as Retry-After says", async () => {
    emulator.faults.inject({ kind: "rate_limit", route: "campaigns.list", retryAfterSeconds: 1 });
    const started = performance.now();
    const campaigns = await client.listCampaigns();
    const waited = performance.now() - started;
    expect(campaigns.length).toBeGreaterThan(0);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(emulator.stats().requests["campaigns.list"]).toBe(2);
  });

  it("retries reads on 5xx and dropped connections", async () => {
    emulator.faults.inject({ kind: "status", status: 503, route: "campaigns.get", times: 2 });
    expect((await client.getCampaign(campaignId)).campaign.id).toBe(campaignId);
    emulator.faults.inject({ kind: "drop_connection", route: "campaigns.get" });
    expect((await client.getCampaign(campaignId)).campaign.id).toBe(campaignId);
    expect(emulator.stats().requests["campaigns.get"]).toBe(5);
  });

  it("retries a /turn 500 (the claim was released) but never a 409", async () => {
    const session = await client.createSession({ campaign_id: campaignId, node_id: nodeId });
    emulator.faults.inject({ kind: "dispatch_500", route: "sessions.turn" });
    const run = await client.sendTurn(session.id, { message: "first" });
    expect(run.runId).toBeTruthy();
    expect(emulator.stats().requests["sessions.turn"]).toBe(2);
    expect(emulator.state.turnRequests(session.id)).toHaveLength(1);

    // Busy now: a second turn is refused with 409, exactly once (no retry).
    expect(await codeOf(client.sendTurn(session.id, { message: "second" }))).toBe("session_busy");
    expect(emulator.stats().requests["sessions.turn"]).toBe(3);
    await waitIdle(session.id);
  });

  it("does not retry /turn blindly after a timeout: the turn went through once", async () => {
    const session = await client.createSession({ campaign_id: campaignId, node_id: nodeId });
    emulator.faults.inject({
      kind: "delay_response",
      ms: 800,
      route: "sessions.turn",
      afterProcessing: true,
    });
    expect(await codeOf(client.sendTurn(session.id, { message: "maybe sent" }, { timeoutMs: 200 }))).toBe(
      "timeout",
    );
    expect(emulator.stats().requests["sessions.turn"]).toBe(1);
    const idle = await waitIdle(session.id);
    expect(idle.messages?.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["maybe sent"]);
  });

  it("claim rule under load: 20 parallel turns on one idle session give one success and 19 busy", async () => {
    const session = await client.createSession({ campaign_id: campaignId, node_id: nodeId });
    const codes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => codeOf(client.sendTurn(session.id, { message: `parallel ${i}` }))),
    );
    expect(codes.filter((c) => c === "ok")).toHaveLength(1);
    expect(codes.filter((c) => c === "session_busy")).toHaveLength(19);
    await waitIdle(session.id);
  });
});
