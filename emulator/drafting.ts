// The deterministic stand-in for Puffle's "framework LLM". Pure functions: the same session content and
// request always give the same reply, draft and skeleton, so tests can assert on them. No Math.random.
// Revisions work on the draft text itself (not on a hidden model) because the bot may have PATCHed it:
// revisions.ts edits the text, leads.ts writes it out per lead, body.ts knows the shape of a body.
import { excerptOf, joinBody, splitBody, templateSafe, topicOf } from "./body.ts";
import { derivedLeadId, leadName, renderForLead } from "./leads.ts";
import { applyInstructions, instructionsIn, SUBJECT_LINES } from "./revisions.ts";

export { renderForLead } from "./leads.ts";

export interface LeadInput {
  id?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  full_name?: string | null;
  company?: string | null;
  position?: string | null;
  headline?: string | null;
  linkedin_url?: string | null;
  custom_fields?: Record<string, unknown> | null;
}

export interface Draft {
  subject: string;
  body: string;
}

export interface SkeletonBlock {
  name: string;
  strategy: string;
  personalization: { fields: string[]; approach: string; fallback: string };
}

// A type alias (not an interface) so it is assignable to the session's `Record<string, unknown>` skeleton.
export type Skeleton = {
  subject: string;
  body: string;
  blocks: SkeletonBlock[];
  exampleSubject: string;
  exampleBody: string;
};

export interface TurnInput {
  message: string;
  /** The first user message of the session: the brief the framework is built around. */
  brief: string;
  /** True when nothing has been drafted yet and this is the session's first user message. */
  isFirstTurn: boolean;
  /** The draft to revise; null when the framework does not exist yet. */
  currentDraft: Draft | null;
  /** framework_version the new skeleton will carry. */
  nextVersion: number;
  sampleLead: LeadInput | undefined;
}

export interface TurnOutcome {
  assistant: string;
  revision?: { draft: Draft; skeleton: Skeleton };
}

export type GeneratedExample = {
  lead_id: string;
  lead_name: string;
  subject: string;
  body: string;
};

/** Used for exampleSubject/exampleBody when the turn carried no sampleLeads. */
export const SAMPLE_PERSON: LeadInput = {
  first_name: "Sarah",
  last_name: "Chen",
  full_name: "Sarah Chen",
  company: "Northwind Analytics",
  position: "VP of Sales",
  headline: "Building a predictable pipeline at Northwind",
  linkedin_url: "https://www.linkedin.com/in/sarah-chen",
  custom_fields: { industry: "B2B SaaS", team_size: "45" },
};

export function draftTurn(input: TurnInput): TurnOutcome {
  if (input.isFirstTurn) return { assistant: clarifyingQuestions(input.message) };

  const instructions = instructionsIn(input.message);
  const sampleLead = input.sampleLead ?? SAMPLE_PERSON;
  if (input.currentDraft === null) {
    // The first framework builds the answer to the clarifying questions into its AI passage, so only
    // explicit instructions ("shorter", ...) change it further.
    const initial = firstDraft(input.brief, input.message);
    const { draft, changes } =
      instructions.length > 0
        ? applyInstructions(initial, input.message, instructions, input.nextVersion)
        : { draft: initial, changes: [] };
    const skeleton = buildSkeleton(draft, sampleLead);
    const assistant = firstFrameworkReply(input.brief, skeleton, changes, input.nextVersion);
    return { assistant, revision: { draft, skeleton } };
  }
  const { draft, changes } = applyInstructions(
    input.currentDraft,
    input.message,
    instructions,
    input.nextVersion,
  );
  const skeleton = buildSkeleton(draft, sampleLead);
  const assistant = revisionReply(input.nextVersion, changes);
  return { assistant, revision: { draft, skeleton } };
}

export function writeExamples(template: Draft, leads: LeadInput[]): GeneratedExample[] {
  return leads.map((lead) => ({
    lead_id: lead.id || derivedLeadId(lead),
    lead_name: leadName(lead),
    subject: renderForLead(template.subject, lead),
    body: renderForLead(template.body, lead),
  }));
}

// ---------------------------------------------------------------- turn 1 and the first framework

function clarifyingQuestions(message: string): string {
  return [
    `Thanks! Before I draft anything for **${topicOf(message)}**, three quick questions:`,
    "",
    "1. **Audience**: who exactly are we writing to (role, seniority, company size)?",
    "2. **Angle**: what is the one pain or outcome this email should lead with?",
    "3. **Ask**: what should the reader do next (a 15-minute call, a reply, a link)?",
    "",
    "Answer in one message and I will put together a first framework.",
  ].join("\n");
}

function firstDraft(brief: string, answer: string): Draft {
  const topic = templateSafe(topicOf(brief));
  const context = answer === brief ? "" : ` Context: ${templateSafe(excerptOf(answer, 140))}.`;
  return {
    subject: SUBJECT_LINES[0] ?? "",
    body: joinBody({
      greeting: "Hi %first_name%,",
      middle: [
        "I have been following %company% for a while and had a thought for you as %position%.",
        `&&Two sentences on a pain a %position% at %company% likely feels, tied to: ${topic}.${context}&&`,
        "We help sales teams like yours ramp new reps in half the time, and setup takes an afternoon. " +
          "I think it could be a good fit, but I might be wrong.",
        "Would you maybe be open to a quick 15-minute chat next week?",
      ],
      signoff: "Best,\n%sender_first%",
    }),
  };
}

function firstFrameworkReply(brief: string, skeleton: Skeleton, changes: string[], version: number): string {
  const structure = skeleton.blocks.map((block, i) => `${i + 1}. **${block.name}**: ${block.strategy}`);
  return [
    `Here is a first framework for **${topicOf(brief)}** (v${version}).`,
    "",
    `**Subject:** ${skeleton.subject}`,
    "",
    "**Structure**",
    ...structure,
    ...(changes.length > 0 ? ["", "I also applied your notes:", ...changes] : []),
    "",
    "Tell me what to change: shorter, warmer, more direct, new subject lines, a stronger call to action, or anything else.",
  ].join("\n");
}

function revisionReply(version: number, changes: string[]): string {
  return [`Updated the draft (v${version}):`, "", ...changes].join("\n");
}

// ---------------------------------------------------------------- skeleton

function buildSkeleton(draft: Draft, lead: LeadInput): Skeleton {
  const { middle } = splitBody(draft.body);
  const blocks = middle.map((paragraph, index): SkeletonBlock => {
    const fields = [
      ...new Set([...paragraph.matchAll(/%([A-Za-z_][A-Za-z0-9_]*)%/g)].map((m) => m[1] ?? "")),
    ];
    if (paragraph.includes("&&")) {
      return {
        name: "Personalized hook",
        strategy: "AI-written passage per lead, from their role and company",
        personalization: {
          fields,
          approach: "Two sentences, specific, no flattery",
          fallback: "A common pain for the role",
        },
      };
    }
    if (index === middle.length - 1) {
      return {
        name: "Call to action",
        strategy: "One clear, low-friction ask",
        personalization: {
          fields,
          approach: "A concrete time slot",
          fallback: "Ask for a reply instead of a call",
        },
      };
    }
    if (index === 0) {
      return {
        name: "Opener",
        strategy: "Reference their role and company",
        personalization: {
          fields,
          approach: "Single line, no flattery",
          fallback: "Generic intro tied to role",
        },
      };
    }
    return {
      name: "Value",
      strategy: "A concrete outcome similar teams got",
      personalization: {
        fields,
        approach: "One number, one sentence of context",
        fallback: "Outcome without numbers",
      },
    };
  });
  return {
    subject: draft.subject,
    body: draft.body,
    blocks,
    exampleSubject: renderForLead(draft.subject, lead),
    exampleBody: renderForLead(draft.body, lead),
  };
}
