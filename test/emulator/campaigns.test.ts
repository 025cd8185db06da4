import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Prospect, SEED, type SequenceNode } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { call } from "./helpers.ts";

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});
beforeEach(() => {
  emu.reset();
});
afterAll(async () => {
  await emu.close();
});

const draft = SEED.draftCampaign;
const nodePath = (campaignId: string, nodeId: string) =>
  `/api/campaigns/${campaignId}/sequence/nodes/${nodeId}`;

describe("campaigns", () => {
  it("lists every campaign with its type, status and node count", async () => {
    const response = await call<{ campaigns: Array<Record<string, unknown>> }>(emu, "GET", "/api/campaigns");
    expect(response.status).toBe(200);
    expect(response.body.campaigns).toEqual([
      expect.objectContaining({
        id: draft.id,
        name: draft.name,
        type: "email",
        status: "draft",
        node_count: 6,
      }),
      expect.objectContaining({ id: SEED.activeCampaign.id, type: "email", status: "active", node_count: 4 }),
      expect.objectContaining({
        id: SEED.pausedCampaign.id,
        type: "linkedin",
        status: "paused",
        node_count: 4,
      }),
    ]);
    for (const campaign of response.body.campaigns) {
      expect(campaign.created_at).toEqual(expect.any(String));
    }
  });

  it("shows the draft campaign's sequence: email, delay, ai, delay, email, end at contiguous positions", async () => {
    const response = await call<{ campaign: Record<string, unknown>; sequence_nodes: SequenceNode[] }>(
      emu,
      "GET",
      `/api/campaigns/${draft.id}`,
    );
    expect(response.status).toBe(200);
    expect(response.body.campaign).toMatchObject({ id: draft.id, status: "draft", node_count: 6 });
    const nodes = response.body.sequence_nodes;
    expect(nodes.map((node) => [node.position, node.type, node.id])).toEqual([
      [0, "email", draft.emailNodeId],
      [1, "delay", draft.firstDelayNodeId],
      [2, "ai", draft.aiNodeId],
      [3, "delay", draft.secondDelayNodeId],
      [4, "email", draft.secondEmailNodeId],
      [5, "end", draft.endNodeId],
    ]);
    expect(nodes[0]).toMatchObject({ subject: expect.any(String), body: expect.any(String) });
    expect(nodes[2]?.ai_node).toEqual({ purpose: expect.any(String), output_type: "email" });
    expect(nodes[1]).not.toHaveProperty("subject");
  });

  it("answers 404 for an unknown or malformed campaign id", async () => {
    expect((await call(emu, "GET", "/api/campaigns/0b5c7f0e-9a4e-4d7b-8f34-2b1e6f3c9a10")).status).toBe(404);
    expect((await call(emu, "GET", "/api/campaigns/q1-outreach")).status).toBe(404);
    expect((await call(emu, "GET", "/api/campaigns/q1-outreach/leads")).status).toBe(404);
  });
});

describe("leads", () => {
  type Page = { prospects: Prospect[]; total: number; page: number; limit: number };

  it("pages the campaign's prospects, 50 by default, with custom fields", async () => {
    const response = await call<Page>(emu, "GET", `/api/campaigns/${draft.id}/leads`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ total: 6, page: 1, limit: 50 });
    expect(response.body.prospects.map((prospect) => prospect.id)).toEqual(draft.leadIds);
    expect(response.body.prospects[0]).toMatchObject({
      first_name: "Maya",
      last_name: "Patel",
      name: "Maya Patel",
      company: "Brightlane",
      position: "VP of Sales",
      headline: expect.any(String),
      linkedin_url: expect.stringMatching(/^https:\/\/www\.linkedin\.com\/in\//),
      email: expect.stringContaining("@"),
      custom_fields: { industry: "HR software", team_size: "38" },
      status: "new",
    });
  });

  it("honours page, limit and status", async () => {
    const second = await call<Page>(emu, "GET", `/api/campaigns/${draft.id}/leads?page=2&limit=4`);
    expect(second.body).toMatchObject({ total: 6, page: 2, limit: 4 });
    expect(second.body.prospects.map((prospect) => prospect.id)).toEqual(draft.leadIds.slice(4));
    const contacted = await call<Page>(emu, "GET", `/api/campaigns/${draft.id}/leads?status=contacted`);
    expect(contacted.body.total).toBe(1);
    expect(contacted.body.prospects[0]?.status).toBe("contacted");
  });

  it("answers 400 for a page or limit that is not a positive integer", async () => {
    for (const query of ["page=0", "page=-1", "limit=abc", "page=1.5"]) {
      expect((await call(emu, "GET", `/api/campaigns/${draft.id}/leads?${query}`)).status, query).toBe(400);
    }
  });
});

describe("updating a sequence node", () => {
  it("writes subject and body to an email node of a draft campaign", async () => {
    const response = await call<{ node: SequenceNode }>(emu, "PUT", nodePath(draft.id, draft.emailNodeId), {
      subject: "New subject for %company%",
      body: "Hi %first_name%,\n\nNew body.\n\n%sender_first%",
    });
    expect(response.status).toBe(200);
    expect(response.body.node).toMatchObject({
      id: draft.emailNodeId,
      position: 0,
      type: "email",
      subject: "New subject for %company%",
      body: "Hi %first_name%,\n\nNew body.\n\n%sender_first%",
    });
    const campaign = await call<{ sequence_nodes: SequenceNode[] }>(emu, "GET", `/api/campaigns/${draft.id}`);
    expect(campaign.body.sequence_nodes[0]?.subject).toBe("New subject for %company%");
  });

  it("accepts a partial update", async () => {
    const response = await call<{ node: SequenceNode }>(
      emu,
      "PUT",
      nodePath(draft.id, draft.secondEmailNodeId),
      {
        subject: "Only the subject",
      },
    );
    expect(response.body.node.subject).toBe("Only the subject");
    expect(response.body.node.body).toContain("%first_name%");
  });

  it("answers 400 when the campaign is not a draft, or the body is invalid", async () => {
    const active = await call(emu, "PUT", nodePath(SEED.activeCampaign.id, SEED.activeCampaign.emailNodeId), {
      subject: "x",
    });
    expect(active.status).toBe(400);
    expect(active.body).toEqual({ error: expect.stringMatching(/draft/) });
    expect((await call(emu, "PUT", nodePath(draft.id, draft.emailNodeId), { subject: 5 })).status).toBe(400);
    expect((await call(emu, "PUT", nodePath(draft.id, draft.emailNodeId), { colour: "red" })).status).toBe(
      400,
    );
  });

  it("answers 404 for a node of another campaign or an unknown node", async () => {
    expect(
      (await call(emu, "PUT", nodePath(draft.id, SEED.activeCampaign.emailNodeId), { subject: "x" })).status,
    ).toBe(404);
    expect(
      (await call(emu, "PUT", nodePath(draft.id, "0b5c7f0e-9a4e-4d7b-8f34-2b1e6f3c9a10"), { subject: "x" }))
        .status,
    ).toBe(404);
  });
});
