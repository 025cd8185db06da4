import { describe, expect, it } from "vitest";
import { buildHints, createCampaignContext, toLeadInput } from "../../src/drafting/campaign-context.ts";
import { createSilentLogger } from "../../src/logger.ts";
import type { PuffleClient } from "../../src/puffle/client.ts";
import { ServerError } from "../../src/puffle/errors.ts";
import type { CampaignDetail, LeadsPage, SequenceNode } from "../../src/puffle/schemas.ts";
import { ManualClock } from "../support/manual-clock.ts";

const node = (id: string, position: number, type: string, subject: string | null = null): SequenceNode => ({
  id,
  position,
  type,
  subject,
  body: subject ? `${subject} body` : null,
  ai_node: null,
});

const detail: CampaignDetail = {
  campaign: { id: "camp", name: "Camp", type: "email", status: "draft", node_count: 6 },
  sequence_nodes: [
    node("n0", 0, "email", "First"),
    node("n1", 1, "delay"),
    node("n2", 2, "ai"),
    node("n3", 3, "delay"),
    node("n4", 4, "email"),
    node("n5", 5, "end"),
  ],
};

const prospect = (i: number, custom: Record<string, unknown> = {}) => ({
  id: `p${i}`,
  first_name: `First${i}`,
  last_name: `Last${i}`,
  name: null,
  company: `Co${i}`,
  position: null,
  headline: null,
  linkedin_url: null,
  email: null,
  custom_fields: custom,
  status: null,
});

const leads: LeadsPage = {
  prospects: [
    prospect(1, { industry: "SaaS" }),
    prospect(2, { team_size: 40 }),
    ...[3, 4, 5, 6].map((i) => prospect(i)),
  ],
  total: 6,
  page: 1,
  limit: 10,
};

function stubPuffle() {
  const calls = { campaign: 0, leads: 0, fail: false };
  const client = {
    async getCampaign() {
      calls.campaign++;
      if (calls.fail) throw new ServerError({ method: "GET", path: "/api/campaigns/camp", status: 503 });
      return detail;
    },
    async listLeads() {
      calls.leads++;
      return leads;
    },
  } as unknown as PuffleClient;
  return { calls, client };
}

describe("campaign hints", () => {
  it("builds sequence context from the sendable steps before the node", () => {
    const hints = buildHints(
      { campaign: detail.campaign, nodes: detail.sequence_nodes, leads: leads.prospects },
      "n2",
    );
    expect(hints?.sequenceContext).toEqual({
      position: 2,
      total_nodes: 3,
      prior_nodes: [{ type: "email", position: 0, subject: "First", body: "First body" }],
    });
    expect(hints?.sampleLeads).toHaveLength(5);
    expect(hints?.sampleLeads[0]).toMatchObject({
      full_name: "First1 Last1",
      company: "Co1",
      custom_fields: { industry: "SaaS" },
    });
    expect(hints?.availableVarNames).toEqual([
      "first_name",
      "last_name",
      "full_name",
      "company",
      "position",
      "headline",
      "linkedin_url",
      "industry",
      "team_size",
    ]);
    expect(
      buildHints({ campaign: detail.campaign, nodes: detail.sequence_nodes, leads: [] }, "missing"),
    ).toBeUndefined();
  });

  it("uses the prospect's name as full_name when Puffle gives one, and leaves unset fields out", () => {
    expect(toLeadInput({ ...prospect(9), name: "Dr. Nine" })).toEqual({
      id: "p9",
      first_name: "First9",
      last_name: "Last9",
      full_name: "Dr. Nine",
      company: "Co9",
      custom_fields: {},
    });
  });

  it("caches per campaign for about 10 minutes, with one fetch for concurrent asks", async () => {
    const clock = new ManualClock();
    const { calls, client } = stubPuffle();
    const context = createCampaignContext({ puffle: client, clock, logger: createSilentLogger() });
    await Promise.all(Array.from({ length: 20 }, () => context.hints("camp", "n0")));
    expect(calls).toMatchObject({ campaign: 1, leads: 1 });
    await clock.advance(9 * 60_000);
    await context.hints("camp", "n0");
    expect(calls.campaign).toBe(1);
    await clock.advance(2 * 60_000);
    await context.hints("camp", "n0");
    expect(calls.campaign).toBe(2);
  });

  it("a failed fetch gives no hints (never an error) and is not retried on every turn", async () => {
    const clock = new ManualClock();
    const { calls, client } = stubPuffle();
    calls.fail = true;
    const context = createCampaignContext({ puffle: client, clock, logger: createSilentLogger() });
    expect(await context.hints("camp", "n0")).toBeUndefined();
    expect(await context.hints("camp", "n0")).toBeUndefined();
    expect(calls.campaign).toBe(1);
    calls.fail = false;
    await clock.advance(31_000);
    expect(await context.hints("camp", "n0")).toBeDefined();
  });
});
