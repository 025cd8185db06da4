// Request bodies as puffle-api.md documents them. Validation is strict where the bot writes data (PATCH,
// PUT: an unknown key is a bug worth a 400) and lenient where Puffle would plausibly ignore extras.
import { z } from "zod";

/** The docs say "all optional strings"; null is accepted as "absent" because prospects carry nulls. */
const optionalText = z.string().nullish();

const LeadSchema = z.looseObject({
  id: optionalText,
  first_name: optionalText,
  last_name: optionalText,
  full_name: optionalText,
  company: optionalText,
  position: optionalText,
  headline: optionalText,
  linkedin_url: optionalText,
  custom_fields: z.record(z.string(), z.unknown()).nullish(),
});

const SequenceContextSchema = z.looseObject({
  position: z.number().int().nonnegative(),
  total_nodes: z.number().int().nonnegative(),
  prior_nodes: z.array(z.record(z.string(), z.unknown())),
});

export const CreateSessionBody = z.object({
  campaign_id: z.string(),
  node_id: z.string(),
});

export const TurnBody = z.object({
  message: z.string().refine((text) => text.trim().length > 0, "message must not be empty"),
  availableVarNames: z.array(z.string()).optional(),
  sampleLeads: z.array(LeadSchema).optional(),
  sequenceContext: SequenceContextSchema.optional(),
});

export const ExamplesBody = z.object({
  leads: z.array(LeadSchema).min(3, "send 3 to 10 leads").max(10, "send 3 to 10 leads"),
  sequenceContext: SequenceContextSchema.optional(),
  isFirstBatch: z.boolean(),
});

const ChatMessageSchema = z.looseObject({ role: z.string(), content: z.string() });

export const SessionPatchBody = z.strictObject({
  title: z.string().nullable().optional(),
  messages: z.array(ChatMessageSchema).nullable().optional(),
  draft_subject: z.string().nullable().optional(),
  draft_body: z.string().nullable().optional(),
  skeleton: z.record(z.string(), z.unknown()).nullable().optional(),
  skeleton_history: z.array(z.unknown()).nullable().optional(),
  draft_history: z.array(z.unknown()).nullable().optional(),
  framework_version: z.number().int().nonnegative().nullable().optional(),
  generated_examples: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
});

export const NodeUpdateBody = z.strictObject({
  subject: z.string().optional(),
  body: z.string().optional(),
  ai_node: z.looseObject({ purpose: z.string(), output_type: z.string() }).optional(),
  delay_days: z.number().int().nonnegative().optional(),
});

export type TurnRequest = z.infer<typeof TurnBody>;
export type ExamplesRequest = z.infer<typeof ExamplesBody>;
export type SessionPatch = z.infer<typeof SessionPatchBody>;
export type NodeUpdate = z.infer<typeof NodeUpdateBody>;

/** One readable line for a 400: `leads: send 3 to 10 leads; isFirstBatch: Invalid input...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
