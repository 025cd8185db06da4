import { createHash } from "node:crypto";
import type { GeneratedExample, LeadInput, Session, Skeleton } from "../puffle/schemas.ts";

/** The shapes of a draft's parts as the drafting layer hands them out (Puffle's, checked by its schemas). */
export type { GeneratedExample, LeadInput, Skeleton };

/** The draft as the Slack layer renders it. */
export interface DraftView {
  sessionId: string;
  campaignId: string;
  nodeId: string;
  campaignName: string | null;
  stepLabel: string | null;
  frameworkVersion: number | null;
  subject: string | null;
  body: string | null;
  skeleton: Skeleton | null;
  examples: GeneratedExample[];
  /** The campaign's first lead, for a preview with merge fields filled. */
  previewLead: LeadInput | null;
  /** Display names of the campaign leads we know, by lead id (examples are titled with them). */
  leadNames: Record<string, string>;
  /** Merge fields used in subject and body, in order of first use. */
  variables: string[];
  wordCount: number;
}

/** Template syntax (puffle-api.md): `%first_name%` merge fields and `&&...&&` AI-written passages. */
export const MERGE_FIELD_PATTERN = "%([a-z][a-z0-9_]*)%";
export const AI_PASSAGE_PATTERN = "&&([\\s\\S]*?)&&";
const MERGE_FIELD = new RegExp(MERGE_FIELD_PATTERN, "gi");
const AI_PASSAGE = new RegExp(AI_PASSAGE_PATTERN, "g");

export function mergeFieldsOf(...texts: (string | null | undefined)[]): string[] {
  const seen = new Set<string>();
  for (const text of texts) for (const match of (text ?? "").matchAll(MERGE_FIELD)) seen.add(match[1] ?? "");
  seen.delete("");
  return [...seen];
}

/** Words a reader sees: merge fields count as one word, AI passages as their instruction. */
export function wordCount(text: string | null | undefined): number {
  if (!text) return 0;
  return text.replace(AI_PASSAGE, " $1 ").split(/\s+/).filter(Boolean).length;
}

/** Fills `%field%` from a lead (custom fields included); unknown fields stay as they are. */
export function fillMergeFields(text: string, lead: LeadInput): string {
  const values: Record<string, unknown> = { ...(lead.custom_fields ?? {}), ...lead };
  return text.replace(MERGE_FIELD, (whole, name: string) => {
    const value = values[name.toLowerCase()];
    return typeof value === "string" || typeof value === "number" ? String(value) : whole;
  });
}

/** Fingerprint of what a draft card shows, to tell whether a turn changed the draft. */
export function draftHashOf(session: Session): string | null {
  if (!session.skeleton && !session.draft_subject && !session.draft_body) return null;
  return createHash("sha256")
    .update(
      JSON.stringify([session.skeleton ?? null, session.draft_subject ?? null, session.draft_body ?? null]),
    )
    .digest("hex")
    .slice(0, 32);
}

export function buildDraftView(
  session: Session,
  context: {
    campaignId: string;
    nodeId: string;
    campaignName: string | null;
    stepLabel: string | null;
    previewLead: LeadInput | null;
    leadNames?: Record<string, string>;
  },
): DraftView {
  return {
    sessionId: session.id,
    campaignId: context.campaignId,
    nodeId: context.nodeId,
    campaignName: context.campaignName,
    stepLabel: context.stepLabel,
    frameworkVersion: session.framework_version ?? null,
    subject: session.draft_subject ?? null,
    body: session.draft_body ?? null,
    skeleton: session.skeleton ?? null,
    examples: session.generated_examples ?? [],
    previewLead: context.previewLead,
    leadNames: context.leadNames ?? {},
    variables: mergeFieldsOf(session.draft_subject, session.draft_body),
    wordCount: wordCount(session.draft_body),
  };
}
