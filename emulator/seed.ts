// Seed data with fixed ids, so tests, `.env` examples and a Slack demo can name campaigns and nodes
// without looking them up. Every id is a valid RFC 4122 v4 UUID (strict validators accept it), and the
// digits say what it is: c1.. = draft campaign, c2.. = active, c3.. = paused; ..01xx nodes, ..02xx leads.

export const SEED = {
  userId: "a0000000-0000-4000-8000-000000000001",
  /** The workspace user whose first name fills `%sender_first%`. */
  senderFirstName: "Alex",
  draftCampaign: {
    id: "c1000000-0000-4000-8000-000000000001",
    name: "Q1 VP Sales outreach",
    emailNodeId: "c1000000-0000-4000-8000-000000000100",
    firstDelayNodeId: "c1000000-0000-4000-8000-000000000101",
    aiNodeId: "c1000000-0000-4000-8000-000000000102",
    secondDelayNodeId: "c1000000-0000-4000-8000-000000000103",
    secondEmailNodeId: "c1000000-0000-4000-8000-000000000104",
    endNodeId: "c1000000-0000-4000-8000-000000000105",
    leadIds: [
      "c1000000-0000-4000-8000-000000000201",
      "c1000000-0000-4000-8000-000000000202",
      "c1000000-0000-4000-8000-000000000203",
      "c1000000-0000-4000-8000-000000000204",
      "c1000000-0000-4000-8000-000000000205",
      "c1000000-0000-4000-8000-000000000206",
    ],
  },
  activeCampaign: {
    id: "c2000000-0000-4000-8000-000000000001",
    name: "Fintech CFO follow-ups",
    emailNodeId: "c2000000-0000-4000-8000-000000000100",
    delayNodeId: "c2000000-0000-4000-8000-000000000101",
    secondEmailNodeId: "c2000000-0000-4000-8000-000000000102",
    endNodeId: "c2000000-0000-4000-8000-000000000103",
    leadIds: ["c2000000-0000-4000-8000-000000000201", "c2000000-0000-4000-8000-000000000202"],
  },
  pausedCampaign: {
    id: "c3000000-0000-4000-8000-000000000001",
    name: "Founder connects (LinkedIn)",
    connectionNodeId: "c3000000-0000-4000-8000-000000000100",
    delayNodeId: "c3000000-0000-4000-8000-000000000101",
    messageNodeId: "c3000000-0000-4000-8000-000000000102",
    endNodeId: "c3000000-0000-4000-8000-000000000103",
    leadIds: ["c3000000-0000-4000-8000-000000000201", "c3000000-0000-4000-8000-000000000202"],
  },
} as const;

export type CampaignType = "email" | "linkedin";
export type CampaignStatus = "draft" | "active" | "paused" | "completed";
export type NodeType = "email" | "ai" | "delay" | "end" | "message" | "connection_request";

export interface Campaign {
  id: string;
  user_id: string;
  name: string;
  type: CampaignType;
  status: CampaignStatus;
  created_at: string;
  updated_at: string;
}

/** Keys that do not apply to a node type are absent, not null (the docs mark them optional). */
export interface SequenceNode {
  id: string;
  campaign_id: string;
  position: number;
  type: NodeType;
  subject?: string;
  body?: string;
  ai_node?: { purpose: string; output_type: string };
  delay_days?: number;
  created_at: string;
  updated_at: string;
}

export interface Prospect {
  id: string;
  campaign_id: string;
  first_name: string;
  last_name: string;
  name: string;
  company: string;
  position: string;
  headline: string;
  linkedin_url: string;
  email: string;
  custom_fields: Record<string, string>;
  status: "new" | "contacted" | "replied";
}

export interface SeedData {
  campaigns: Campaign[];
  nodes: SequenceNode[];
  prospects: Prospect[];
}

const SEEDED_AT = "2026-01-05T09:00:00.000Z";

type NodeSpec = Omit<SequenceNode, "campaign_id" | "position" | "created_at" | "updated_at">;

function sequence(campaignId: string, specs: NodeSpec[]): SequenceNode[] {
  return specs.map((spec, position) => ({
    ...spec,
    campaign_id: campaignId,
    position,
    created_at: SEEDED_AT,
    updated_at: SEEDED_AT,
  }));
}

type PersonSpec = [first: string, last: string, company: string, position: string, headline: string];

function prospects(
  campaignId: string,
  ids: readonly string[],
  people: Array<{
    person: PersonSpec;
    domain: string;
    status: Prospect["status"];
    custom: Record<string, string>;
  }>,
): Prospect[] {
  return people.map(({ person: [first, last, company, position, headline], domain, status, custom }, i) => {
    const id = ids[i];
    if (!id) throw new Error(`seed: no lead id for ${first} ${last}`);
    const slug = `${first}-${last}`
      .toLowerCase()
      .normalize("NFD")
      .replace(/[^a-z-]/g, "");
    return {
      id,
      campaign_id: campaignId,
      first_name: first,
      last_name: last,
      name: `${first} ${last}`,
      company,
      position,
      headline,
      linkedin_url: `https://www.linkedin.com/in/${slug}`,
      email: `${slug.replace("-", ".")}@${domain}`,
      custom_fields: custom,
      status,
    };
  });
}

/** A fresh deep copy each call, so a reset never shares objects with mutated state. */
export function createSeedData(): SeedData {
  const draft = SEED.draftCampaign;
  const active = SEED.activeCampaign;
  const paused = SEED.pausedCampaign;
  const campaign = (id: string, name: string, type: CampaignType, status: CampaignStatus): Campaign => ({
    id,
    user_id: SEED.userId,
    name,
    type,
    status,
    created_at: SEEDED_AT,
    updated_at: SEEDED_AT,
  });

  return {
    campaigns: [
      campaign(draft.id, draft.name, "email", "draft"),
      campaign(active.id, active.name, "email", "active"),
      campaign(paused.id, paused.name, "linkedin", "paused"),
    ],
    nodes: [
      ...sequence(draft.id, [
        {
          id: draft.emailNodeId,
          type: "email",
          subject: "Ramping new reps at %company%",
          body: "Hi %first_name%,\n\nPlaceholder: the intro email is still being drafted.\n\n%sender_first%",
        },
        { id: draft.firstDelayNodeId, type: "delay", delay_days: 3 },
        {
          id: draft.aiNodeId,
          type: "ai",
          ai_node: {
            purpose: "Follow up on the intro with one insight about the prospect's company",
            output_type: "email",
          },
        },
        { id: draft.secondDelayNodeId, type: "delay", delay_days: 4 },
        {
          id: draft.secondEmailNodeId,
          type: "email",
          subject: "Closing the loop, %first_name%",
          body: "Hi %first_name%,\n\nI will stop here unless ramp time is on your list this quarter.\n\n%sender_first%",
        },
        { id: draft.endNodeId, type: "end" },
      ]),
      ...sequence(active.id, [
        {
          id: active.emailNodeId,
          type: "email",
          subject: "Month-end close at %company%",
          body: "Hi %first_name%,\n\nHow many days does month-end close take at %company% today?\n\n%sender_first%",
        },
        { id: active.delayNodeId, type: "delay", delay_days: 5 },
        {
          id: active.secondEmailNodeId,
          type: "email",
          subject: "Re: Month-end close at %company%",
          body: "Hi %first_name%,\n\nFloating this back up in case it got buried.\n\n%sender_first%",
        },
        { id: active.endNodeId, type: "end" },
      ]),
      ...sequence(paused.id, [
        {
          id: paused.connectionNodeId,
          type: "connection_request",
          body: "Hi %first_name%, fellow founder here; would love to connect.",
        },
        { id: paused.delayNodeId, type: "delay", delay_days: 2 },
        {
          id: paused.messageNodeId,
          type: "message",
          body: "Thanks for connecting, %first_name%! How are you finding hiring at %company%?",
        },
        { id: paused.endNodeId, type: "end" },
      ]),
    ],
    prospects: [
      ...prospects(draft.id, draft.leadIds, [
        {
          person: [
            "Maya",
            "Patel",
            "Brightlane",
            "VP of Sales",
            "VP Sales @ Brightlane | Building a team that sells outcomes",
          ],
          domain: "brightlane.io",
          status: "new",
          custom: { industry: "HR software", team_size: "38" },
        },
        {
          person: [
            "Daniel",
            "Okafor",
            "Corvid Logistics",
            "Head of Sales",
            "Head of Sales at Corvid | Freight tech",
          ],
          domain: "corvidlogistics.com",
          status: "new",
          custom: { industry: "Logistics SaaS", team_size: "22" },
        },
        {
          person: [
            "Sofia",
            "Lindqvist",
            "Nordhaven Health",
            "Chief Revenue Officer",
            "CRO, Nordhaven Health | Ex-Salesforce",
          ],
          domain: "nordhaven.health",
          status: "new",
          custom: { industry: "Digital health", team_size: "64" },
        },
        {
          person: [
            "James",
            "Whitaker",
            "Ledgerline",
            "VP Sales",
            "VP Sales at Ledgerline | Payments for marketplaces",
          ],
          domain: "ledgerline.com",
          status: "contacted",
          custom: { industry: "Fintech", team_size: "41" },
        },
        {
          person: [
            "Priya",
            "Raman",
            "Stackwise",
            "Director of Sales",
            "Director of Sales @ Stackwise | PLG to enterprise",
          ],
          domain: "stackwise.dev",
          status: "new",
          custom: { industry: "Developer tools", team_size: "17" },
        },
        {
          person: [
            "Tomás",
            "Herrera",
            "Quanta Retail",
            "SVP Sales",
            "SVP Sales, Quanta Retail | Retail analytics for grocers",
          ],
          domain: "quantaretail.com",
          status: "replied",
          custom: { industry: "Retail analytics", team_size: "90" },
        },
      ]),
      ...prospects(active.id, active.leadIds, [
        {
          person: ["Hannah", "Becker", "Finlo", "CFO", "CFO at Finlo | Scaling finance ops"],
          domain: "finlo.com",
          status: "contacted",
          custom: { industry: "Fintech", team_size: "12" },
        },
        {
          person: ["Marcus", "Reid", "Paywell", "VP Finance", "VP Finance, Paywell"],
          domain: "paywell.io",
          status: "new",
          custom: { industry: "Payments", team_size: "8" },
        },
      ]),
      ...prospects(paused.id, paused.leadIds, [
        {
          person: ["Lena", "Vogel", "Kitepath", "Founder & CEO", "Founder @ Kitepath | Travel software"],
          domain: "kitepath.com",
          status: "new",
          custom: { industry: "Travel software", team_size: "9" },
        },
        {
          person: [
            "Omar",
            "Haddad",
            "Tessellate",
            "Co-founder",
            "Co-founder, Tessellate | AI for architects",
          ],
          domain: "tessellate.ai",
          status: "new",
          custom: { industry: "Construction tech", team_size: "14" },
        },
      ]),
    ],
  };
}
