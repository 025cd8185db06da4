import { z } from "zod";

/**
 * Schemas for Puffle's answers. Lenient by design: unknown keys are kept, optional fields
 * may be missing or null, but what the bot relies on (ids, task_status) must be there.
 */

const text = z.string();
/** A field that may be absent or null; normalised to null. */
const maybe = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? null);

export const ChatMessageSchema = z.looseObject({
  role: text,
  // Content is documented as a string; anything else is kept readable rather than refused.
  content: z.unknown().transform((c) => (typeof c === "string" ? c : c == null ? "" : JSON.stringify(c))),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const GeneratedExampleSchema = z.looseObject({
  lead_id: maybe(z.union([text, z.number().transform(String)])),
  subject: maybe(text),
  body: maybe(text),
});
export type GeneratedExample = z.infer<typeof GeneratedExampleSchema>;

/** Any object: render known keys richly, unknown keys generically. */
export const SkeletonSchema = z.record(z.string(), z.unknown());
export type Skeleton = z.infer<typeof SkeletonSchema>;

export const SessionSchema = z.looseObject({
  id: text.min(1),
  user_id: maybe(text),
  campaign_id: maybe(text),
  node_id: maybe(text),
  title: maybe(text),
  messages: maybe(z.array(ChatMessageSchema)),
  draft_subject: maybe(text),
  draft_body: maybe(text),
  skeleton: maybe(SkeletonSchema),
  skeleton_history: maybe(z.array(z.unknown())),
  draft_history: maybe(z.array(z.unknown())),
  framework_version: maybe(z.number().int()),
  generated_examples: maybe(z.array(GeneratedExampleSchema)),
  // The busy flag decides everything: it must be present (null when idle). Unknown
  // non-null values count as busy.
  task_status: z.string().nullable(),
  created_at: maybe(text),
  updated_at: maybe(text),
});
export type Session = z.infer<typeof SessionSchema>;

export const SessionEnvelopeSchema = z.looseObject({ session: SessionSchema });
export const SessionListSchema = z.looseObject({ sessions: z.array(SessionSchema) });
export const DeleteAnswerSchema = z.looseObject({ success: z.boolean().optional() });

export const RunHandleSchema = z.looseObject({
  runId: text.min(1),
  publicAccessToken: text.min(1),
});
export type RunHandle = z.infer<typeof RunHandleSchema>;

export const CampaignSchema = z.looseObject({
  id: text.min(1),
  name: maybe(text).transform((n) => n ?? "Untitled campaign"),
  type: maybe(text),
  status: maybe(text),
  node_count: maybe(z.number()),
});
export type Campaign = z.infer<typeof CampaignSchema>;

export const SequenceNodeSchema = z.looseObject({
  id: text.min(1),
  position: z.number().int(),
  type: text,
  subject: maybe(text),
  body: maybe(text),
  ai_node: maybe(z.looseObject({ purpose: maybe(text), output_type: maybe(text) })),
});
export type SequenceNode = z.infer<typeof SequenceNodeSchema>;

export const CampaignListSchema = z.looseObject({ campaigns: z.array(CampaignSchema) });
export const CampaignDetailSchema = z.looseObject({
  campaign: CampaignSchema,
  sequence_nodes: z.array(SequenceNodeSchema),
});
export type CampaignDetail = z.infer<typeof CampaignDetailSchema>;

export const ProspectSchema = z.looseObject({
  id: z.union([text, z.number().transform(String)]),
  first_name: maybe(text),
  last_name: maybe(text),
  name: maybe(text),
  company: maybe(text),
  position: maybe(text),
  headline: maybe(text),
  linkedin_url: maybe(text),
  email: maybe(text),
  custom_fields: maybe(z.record(z.string(), z.unknown())),
  status: maybe(text),
});
export type Prospect = z.infer<typeof ProspectSchema>;

export const LeadsPageSchema = z.looseObject({
  prospects: z.array(ProspectSchema),
  total: maybe(z.number()),
  page: maybe(z.number()),
  limit: maybe(z.number()),
});
export type LeadsPage = z.infer<typeof LeadsPageSchema>;

export const NodeEnvelopeSchema = z.looseObject({ node: SequenceNodeSchema });

// ---- request bodies (what we send) ----

/** A lead as `/turn` and `/generate-examples` take it: all optional strings. */
export interface LeadInput {
  id?: string;
  first_name?: string;
  last_name?: string;
  full_name?: string;
  company?: string;
  position?: string;
  headline?: string;
  linkedin_url?: string;
  custom_fields?: Record<string, unknown>;
}

export interface SequenceContext {
  position: number;
  total_nodes: number;
  prior_nodes: Record<string, unknown>[];
}

export interface TurnRequest {
  message: string;
  availableVarNames?: string[];
  sampleLeads?: LeadInput[];
  sequenceContext?: SequenceContext;
}

export interface GenerateExamplesRequest {
  leads: LeadInput[];
  sequenceContext?: SequenceContext;
  isFirstBatch: boolean;
}

export interface SessionPatch {
  title?: string | null;
  draft_subject?: string | null;
  draft_body?: string | null;
  skeleton?: Skeleton | null;
  [key: string]: unknown;
}

export interface NodePatch {
  subject?: string;
  body?: string;
  [key: string]: unknown;
}

/** Turns zod issues into short readable problems ("session.task_status: expected string"). */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((issue) => {
    const where = issue.path.map(String).join(".") || "body";
    return `${where}: ${issue.message}`;
  });
}
