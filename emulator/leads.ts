// Writing a template out for one lead: merge fields filled from the lead, `&&instruction&&` passages
// written for that lead, and stable ids for leads sent without one.
import { createHash } from "node:crypto";
import type { LeadInput } from "./drafting.ts";
import { SEED } from "./seed.ts";

/** Fills `%merge_fields%` from the lead and writes each `&&instruction&&` passage for that lead. */
export function renderForLead(template: string, lead: LeadInput): string {
  const values = mergeValues(lead);
  // One pass, so lead data written into the text is never scanned again; a stray `&&` is dropped.
  return template.replace(
    /&&[\s\S]*?&&|&&|%([A-Za-z_][A-Za-z0-9_]*)%/g,
    (match, name: string | undefined) => {
      if (name !== undefined) return values[name] ?? "";
      return match === "&&" ? "" : personalizedPassage(lead);
    },
  );
}

const PAINS = [
  "weighing how to hit a bigger number without growing headcount at the same rate",
  "balancing new-rep ramp time against this quarter's targets",
  "looking for ways to make pipeline less lumpy from month to month",
];

function personalizedPassage(lead: LeadInput): string {
  const company = lead.company || "your company";
  const pain = PAINS[stableIndex(leadName(lead) + company, PAINS.length)] ?? "";
  const opening = lead.position ? `As ${lead.position} at ${company}` : `In your role at ${company}`;
  const custom = lead.custom_fields ?? {};
  const teamSize = scalarText(custom.team_size);
  const industry = scalarText(custom.industry);
  const context = teamSize
    ? ` With a team of ${teamSize} in ${industry ?? "a competitive market"}, every week of ramp shows up in the number.`
    : "";
  return `${opening}, you are probably ${pain}.${context}`;
}

const MERGE_FALLBACKS: Record<string, string> = {
  first_name: "there",
  full_name: "there",
  company: "your company",
  position: "your role",
};

function mergeValues(lead: LeadInput): Record<string, string> {
  const values: Record<string, string> = { ...MERGE_FALLBACKS, sender_first: SEED.senderFirstName };
  for (const [key, value] of Object.entries(lead.custom_fields ?? {})) {
    const text = scalarText(value);
    if (text) values[key] = text;
  }
  const standard: Record<string, string | null | undefined> = {
    first_name: lead.first_name,
    last_name: lead.last_name,
    full_name: leadName(lead),
    company: lead.company,
    position: lead.position,
    headline: lead.headline,
    linkedin_url: lead.linkedin_url,
  };
  for (const [key, value] of Object.entries(standard)) {
    if (value) values[key] = value;
  }
  return values;
}

export function leadName(lead: LeadInput): string {
  return lead.full_name || [lead.first_name, lead.last_name].filter(Boolean).join(" ");
}

/** A UUID-shaped id derived from who the lead is, so the same lead always gets the same id. */
export function derivedLeadId(lead: LeadInput): string {
  const hex = createHash("sha256")
    .update(`${leadName(lead)}|${lead.company ?? ""}|${lead.linkedin_url ?? ""}`)
    .digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function stableIndex(key: string, size: number): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) % size;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value || undefined;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}
