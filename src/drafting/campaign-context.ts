import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { PuffleClient } from "../puffle/client.ts";
import { CONTRACT } from "../puffle/contract.ts";
import { isPuffleError } from "../puffle/errors.ts";
import type {
  Campaign,
  LeadInput,
  Prospect,
  SequenceContext,
  SequenceNode,
  Session,
  TurnRequest,
} from "../puffle/schemas.ts";
import { buildDraftView, type DraftView } from "./draft-view.ts";
import type { StepChoice } from "./store.ts";

/** What we know about one campaign: its steps and a first page of leads. */
export interface CampaignSnapshot {
  campaign: Campaign;
  nodes: SequenceNode[];
  leads: Prospect[];
}

export type TurnHints = Required<Pick<TurnRequest, "availableVarNames" | "sampleLeads" | "sequenceContext">>;

export interface CampaignContext {
  /** The campaign (cached about 10 minutes). Throws the Puffle error when it cannot be read. */
  get(campaignId: string): Promise<CampaignSnapshot>;
  /** Turn hints for a step; undefined (after a logged warning) when they cannot be built. Never throws. */
  hints(campaignId: string, nodeId: string): Promise<TurnHints | undefined>;
  invalidate(campaignId: string): void;
}

export interface CampaignContextOptions {
  puffle: PuffleClient;
  clock: Clock;
  logger: Logger;
  ttlMs?: number;
  failureTtlMs?: number;
}

type Entry =
  | { kind: "loading"; promise: Promise<CampaignSnapshot> }
  | { kind: "ready"; snapshot: CampaignSnapshot; expiresAt: number }
  | { kind: "failed"; error: unknown; expiresAt: number };

/** How many leads we read per campaign: enough for hints and for an examples batch. */
const LEADS_PAGE = Math.max(CONTRACT.sampleLeadCount, CONTRACT.examplesLeads.max);

export function createCampaignContext(options: CampaignContextOptions): CampaignContext {
  const ttlMs = options.ttlMs ?? CONTRACT.hintsTtlMs;
  const failureTtlMs = options.failureTtlMs ?? CONTRACT.hintsFailureTtlMs;
  const entries = new Map<string, Entry>();

  async function load(campaignId: string): Promise<CampaignSnapshot> {
    const [detail, leads] = await Promise.all([
      options.puffle.getCampaign(campaignId),
      options.puffle.listLeads(campaignId, { page: 1, limit: LEADS_PAGE }),
    ]);
    return { campaign: detail.campaign, nodes: detail.sequence_nodes, leads: leads.prospects };
  }

  function get(campaignId: string): Promise<CampaignSnapshot> {
    const now = options.clock.now();
    const entry = entries.get(campaignId);
    if (entry?.kind === "loading") return entry.promise;
    if (entry?.kind === "ready" && entry.expiresAt > now) return Promise.resolve(entry.snapshot);
    if (entry?.kind === "failed" && entry.expiresAt > now) return Promise.reject(entry.error);
    // One fetch per campaign, however many turns ask at once.
    const promise = load(campaignId).then(
      (snapshot) => {
        entries.set(campaignId, { kind: "ready", snapshot, expiresAt: options.clock.now() + ttlMs });
        return snapshot;
      },
      (error: unknown) => {
        entries.set(campaignId, { kind: "failed", error, expiresAt: options.clock.now() + failureTtlMs });
        throw error;
      },
    );
    entries.set(campaignId, { kind: "loading", promise });
    return promise;
  }

  return {
    get,
    async hints(campaignId, nodeId) {
      try {
        return buildHints(await get(campaignId), nodeId);
      } catch (error) {
        options.logger.warn(
          { campaignId, nodeId, err: isPuffleError(error) ? error.toLog() : String(error) },
          "hints.unavailable",
        );
        return undefined;
      }
    },
    invalidate(campaignId) {
      entries.delete(campaignId);
    },
  };
}

/** A campaign prospect as `/turn` and `/generate-examples` take it (only the fields that are set). */
export function toLeadInput(prospect: Prospect): LeadInput {
  const fullName =
    prospect.name ?? ([prospect.first_name, prospect.last_name].filter(Boolean).join(" ") || undefined);
  const lead: LeadInput = { id: prospect.id };
  const assign = (key: keyof LeadInput, value: string | null | undefined) => {
    if (value) (lead as Record<string, unknown>)[key] = value;
  };
  assign("first_name", prospect.first_name);
  assign("last_name", prospect.last_name);
  assign("full_name", fullName);
  assign("company", prospect.company);
  assign("position", prospect.position);
  assign("headline", prospect.headline);
  assign("linkedin_url", prospect.linkedin_url);
  lead.custom_fields = prospect.custom_fields ?? {};
  return lead;
}

const isSendable = (node: SequenceNode) =>
  (CONTRACT.sendableNodeTypes as readonly string[]).includes(node.type);

export function buildSequenceContext(nodes: SequenceNode[], nodeId: string): SequenceContext | undefined {
  const node = nodes.find((n) => n.id === nodeId);
  if (!node) return undefined;
  const sendable = nodes.filter(isSendable).sort((a, b) => a.position - b.position);
  return {
    position: node.position,
    total_nodes: sendable.length,
    prior_nodes: sendable
      .filter((n) => n.position < node.position)
      .map((n) => ({ type: n.type, position: n.position, subject: n.subject, body: n.body })),
  };
}

/** The hints of puffle-api.md "[our choice]". Undefined when the step is not in the campaign. */
export function buildHints(snapshot: CampaignSnapshot, nodeId: string): TurnHints | undefined {
  const sequenceContext = buildSequenceContext(snapshot.nodes, nodeId);
  if (!sequenceContext) return undefined;
  const sampleLeads = snapshot.leads.slice(0, CONTRACT.sampleLeadCount).map(toLeadInput);
  const customKeys = new Set<string>();
  for (const lead of sampleLeads)
    for (const key of Object.keys(lead.custom_fields ?? {})) customKeys.add(key);
  return {
    availableVarNames: [...CONTRACT.standardVarNames, ...[...customKeys].sort()],
    sampleLeads,
    sequenceContext,
  };
}

/** "Step 1 · Email": the step's 1-based place among sendable steps and its type. */
export function stepLabel(snapshot: CampaignSnapshot, nodeId: string): string {
  const sendable = snapshot.nodes.filter(isSendable).sort((a, b) => a.position - b.position);
  const index = sendable.findIndex((n) => n.id === nodeId);
  const node = snapshot.nodes.find((n) => n.id === nodeId);
  if (!node) return "unknown step";
  const type = node.type === "ai" ? "AI email" : node.type.replace(/_/g, " ");
  const label = `${type.charAt(0).toUpperCase()}${type.slice(1)}`;
  return index >= 0 ? `Step ${index + 1} · ${label}` : label;
}

/**
 * The draft view of a session, with the campaign and step names and a preview lead when the
 * campaign can be read (they are extras: the draft shows without them).
 */
export async function draftViewOf(
  campaigns: CampaignContext,
  step: StepChoice,
  session: Session,
): Promise<DraftView> {
  let snapshot: CampaignSnapshot | undefined;
  try {
    snapshot = await campaigns.get(step.campaignId);
  } catch {
    // already logged by hints; the card shows without names
  }
  const first = snapshot?.leads[0];
  return buildDraftView(session, {
    campaignId: step.campaignId,
    nodeId: step.nodeId,
    campaignName: snapshot?.campaign.name ?? null,
    stepLabel: snapshot ? stepLabel(snapshot, step.nodeId) : null,
    previewLead: first ? toLeadInput(first) : null,
    leadNames: Object.fromEntries(
      (snapshot?.leads ?? []).flatMap((lead) => {
        const name = toLeadInput(lead).full_name;
        return name ? [[lead.id, name]] : [];
      }),
    ),
  });
}
