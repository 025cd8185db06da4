// The deterministic stand-in for Puffle's "framework LLM". Pure functions: the same session content and
// request always give the same reply, draft and skeleton, so tests can assert on them. No Math.random.
// Revisions work on the draft text itself (not on a hidden model) because the bot may have PATCHed it.
import { createHash } from "node:crypto";
import { SEED } from "./seed.ts";

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

const SUBJECT_LINES = [
  "Quick thought for %company%",
  "%first_name%, a question about ramp time at %company%",
  "Idea for %company%'s sales team",
  "Worth 15 minutes, %first_name%?",
  "How %company% could ramp new reps faster",
  "A shorter path to quota at %company%",
];

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

// ---------------------------------------------------------------- revisions

type Instruction = "subject" | "warmer" | "direct" | "cta" | "longer" | "shorter";

// Applied in this order, so a merged turn ("Dana: shorter / Lee: new subject") follows every note.
const INSTRUCTION_PATTERNS: Array<[Instruction, RegExp]> = [
  ["subject", /\bsubject/i],
  ["warmer", /\bwarm/i],
  ["direct", /\bdirect/i],
  ["cta", /\bcta\b|\bcall[ -]to[ -]action/i],
  ["longer", /\blonger\b|\bexpand/i],
  ["shorter", /\bshort(?:er|en|ened)\b|\bconcise/i],
];

const WARM_OPENERS = [
  "Hope your week is off to a great start!",
  "I hope things are going well at %company%, and that the new quarter is treating you kindly.",
  "Thanks for giving this a read, %first_name%; I know your inbox is busy.",
];

const DIRECT_ASKS = [
  "Can we talk for 15 minutes on Tuesday or Thursday?",
  "Do you have 15 minutes on Wednesday to see if this fits?",
  "Are you free for a 15-minute call this week?",
];

const STRONG_CTAS = [
  "Are you free for 15 minutes on Tuesday or Thursday? Reply with a time and I will send the invite.",
  "If I can show you how this works in 15 minutes, would Thursday at 10am work? Reply yes and I will send the invite.",
  "Grab 15 minutes on my calendar this week, or reply with a time that suits you and I will make it work.",
];

const EXTRA_PARAGRAPHS = [
  "One example: a 40-person sales team at a Series B company cut new-rep ramp from five months to under three, and their managers got back about four hours a week.",
  "It also fits the way your team already works: it plugs into your CRM and calendar, so nobody has to change their routine.",
  "And if it is not a fit, you will still leave the call with a benchmark of how %company% compares to similar teams.",
];

const HEDGES = [
  /,?\s*but I might be wrong/gi,
  /\bI think\s+/gi,
  /\bI believe\s+/gi,
  /\bjust\s+/gi,
  /\bmaybe\s+/gi,
  /\bperhaps\s+/gi,
  /\bpossibly\s+/gi,
  /\bkind of\s+/gi,
  /\bsort of\s+/gi,
  /\bquick\s+/gi,
  /\ba bit\s+/gi,
];

function instructionsIn(message: string): Instruction[] {
  return INSTRUCTION_PATTERNS.filter(([, pattern]) => pattern.test(message)).map(([name]) => name);
}

/** Every instruction found, in a fixed order; with none, the message is worked into the body as a note. */
function applyInstructions(
  base: Draft,
  message: string,
  instructions: Instruction[],
  version: number,
): { draft: Draft; changes: string[] } {
  if (instructions.length === 0) {
    const woven = weaveReference(base, message);
    return { draft: woven.draft, changes: [woven.change] };
  }
  let draft = base;
  const changes: string[] = [];
  for (const instruction of instructions) {
    const step = REVISERS[instruction](draft, version);
    draft = step.draft;
    changes.push(step.change);
  }
  return { draft, changes };
}

type Reviser = (draft: Draft, version: number) => { draft: Draft; change: string };

const REVISERS: Record<Instruction, Reviser> = {
  subject(draft, version) {
    const options = subjectOptions(draft.subject, version);
    const chosen = options[0] ?? draft.subject;
    const list = options.map((option, i) => `${i + 1}. ${option}${i === 0 ? " (using this one)" : ""}`);
    return {
      draft: { ...draft, subject: chosen },
      change: [`- **New subject line**: "${chosen}". Three options:`, ...list.map((l) => `  ${l}`)].join(
        "\n",
      ),
    };
  },
  warmer(draft) {
    const parts = splitBody(draft.body);
    const current = parts.middle.findIndex((p) => WARM_OPENERS.includes(p));
    const opener = nextInRotation(WARM_OPENERS, current);
    const middle = current >= 0 ? parts.middle.with(current, opener) : [opener, ...parts.middle];
    return {
      draft: { ...draft, body: joinBody({ ...parts, middle }) },
      change: `- **Warmer**: opened with "${opener}"`,
    };
  },
  direct(draft) {
    const parts = splitBody(draft.body);
    const middle = parts.middle.map((p) => (p.includes("&&") ? p : removeHedges(p)));
    const ask = nextInRotation(DIRECT_ASKS, DIRECT_ASKS.indexOf(middle.at(-1) ?? ""));
    return {
      draft: { ...draft, body: joinBody({ ...parts, middle: replaceLast(middle, ask) }) },
      change: `- **More direct**: removed the hedging and ended with a plain ask: "${ask}"`,
    };
  },
  cta(draft) {
    const parts = splitBody(draft.body);
    const cta = nextInRotation(STRONG_CTAS, STRONG_CTAS.indexOf(parts.middle.at(-1) ?? ""));
    return {
      draft: { ...draft, body: joinBody({ ...parts, middle: replaceLast(parts.middle, cta) }) },
      change: `- **Stronger call to action**: "${cta}"`,
    };
  },
  longer(draft) {
    const parts = splitBody(draft.body);
    const extra = EXTRA_PARAGRAPHS.find((p) => !parts.middle.includes(p));
    if (!extra) return weaveReference(draft, "a concrete customer story");
    return {
      draft: { ...draft, body: joinBody({ ...parts, middle: insertBeforeLast(parts.middle, extra) }) },
      change: `- **Longer**: added a paragraph: "${extra}"`,
    };
  },
  shorter(draft) {
    const before = wordCount(draft.body);
    const parts = splitBody(draft.body);
    const middle = shortenParagraphs(parts.middle);
    if (!middle)
      return { draft, change: "- **Shorter**: it is already as short as it can get without losing the ask." };
    const body = joinBody({ ...parts, middle });
    return {
      draft: { ...draft, body },
      change: `- **Shorter**: trimmed the body from ${before} to ${wordCount(body)} words.`,
    };
  },
};

/**
 * Drops the longest droppable paragraph (never the AI passage, never the closing ask) while more than two
 * remain; otherwise drops the last sentence of the longest multi-sentence paragraph; otherwise drops the
 * last droppable paragraph. Null when nothing can go without leaving less than one paragraph and the ask.
 */
function shortenParagraphs(middle: string[]): string[] | null {
  const droppable = middle
    .map((text, index) => ({ text, index }))
    .filter(({ text, index }) => index < middle.length - 1 && !text.includes("&&"));
  const longest = droppable.toSorted((a, b) => b.text.length - a.text.length)[0];
  if (longest && middle.length > 2) return middle.filter((_, i) => i !== longest.index);

  const multiSentence = middle
    .map((text, index) => ({ text, index, sentences: sentencesOf(text) }))
    .filter(({ text, sentences }) => !text.includes("&&") && sentences.length > 1)
    .toSorted((a, b) => b.text.length - a.text.length)[0];
  if (multiSentence) {
    return middle.with(multiSentence.index, multiSentence.sentences.slice(0, -1).join(" "));
  }
  if (longest && middle.length > 1) return middle.filter((_, i) => i !== longest.index);
  return null;
}

function weaveReference(draft: Draft, message: string): { draft: Draft; change: string } {
  const excerpt = templateSafe(excerptOf(message, 140));
  const paragraph = `On your point about "${excerpt}": happy to go deeper on that when we talk.`;
  const parts = splitBody(draft.body);
  return {
    draft: { ...draft, body: joinBody({ ...parts, middle: insertBeforeLast(parts.middle, paragraph) }) },
    change: `- **Worked in your note**: added "${paragraph}"`,
  };
}

function subjectOptions(current: string, version: number): string[] {
  const start = SUBJECT_LINES.indexOf(current) + 1 || version;
  const rotated = SUBJECT_LINES.map((_, i) => SUBJECT_LINES[(start + i) % SUBJECT_LINES.length] ?? "");
  return rotated.filter((line) => line !== current).slice(0, 3);
}

function removeHedges(paragraph: string): string {
  const stripped = HEDGES.reduce((text, hedge) => text.replace(hedge, ""), paragraph);
  return stripped
    .replace(/ {2,}/g, " ")
    .replace(/(^|[.!?]\s+)([a-z])/g, (_m, lead: string, letter: string) => {
      return lead + letter.toUpperCase();
    });
}

// ---------------------------------------------------------------- body structure

interface BodyParts {
  greeting: string | null;
  middle: string[];
  signoff: string | null;
}

function splitBody(body: string): BodyParts {
  const paragraphs = body
    .replace(/\r\n?/g, "\n")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const first = paragraphs[0];
  const greeting = first && /^(hi|hey|hello|dear)\b/i.test(first) && first.length <= 60 ? first : null;
  const rest = greeting ? paragraphs.slice(1) : paragraphs;
  const last = rest.at(-1);
  const signoff =
    last && (last.includes("%sender_first%") || /^(best|thanks|cheers|regards|warmly)\b/i.test(last))
      ? last
      : null;
  return { greeting, middle: signoff ? rest.slice(0, -1) : rest, signoff };
}

function joinBody(parts: BodyParts): string {
  return [parts.greeting, ...parts.middle, parts.signoff].filter((p): p is string => p !== null).join("\n\n");
}

/** Replaces the closing ask; a body that ends on its AI passage has none, so the ask is added after it. */
function replaceLast(middle: string[], paragraph: string): string[] {
  const last = middle.at(-1);
  if (last === undefined || last.includes("&&")) return [...middle, paragraph];
  return [...middle.slice(0, -1), paragraph];
}

function insertBeforeLast(middle: string[], paragraph: string): string[] {
  return middle.length === 0 ? [paragraph] : [...middle.slice(0, -1), paragraph, ...middle.slice(-1)];
}

/** The entry after `currentIndex` (wrapping), or the first when the current text is not from the list. */
function nextInRotation(list: string[], currentIndex: number): string {
  return list[(currentIndex + 1) % list.length] ?? "";
}

function sentencesOf(paragraph: string): string[] {
  return paragraph.match(/[^.!?]+(?:[.!?]+|$)/g)?.map((s) => s.trim()) ?? [paragraph];
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
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

// ---------------------------------------------------------------- per-lead rendering

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

function leadName(lead: LeadInput): string {
  return lead.full_name || [lead.first_name, lead.last_name].filter(Boolean).join(" ");
}

/** A UUID-shaped id derived from who the lead is, so the same lead always gets the same id. */
function derivedLeadId(lead: LeadInput): string {
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

// ---------------------------------------------------------------- text helpers

function topicOf(message: string): string {
  return excerptOf(message, 80);
}

/** First `max` characters of the message on one line, cut at a word boundary, without end punctuation. */
function excerptOf(message: string, max: number): string {
  const line = message.replace(/\s+/g, " ").trim();
  const cut =
    line.length <= max
      ? line
      : line.slice(0, line.lastIndexOf(" ", max) > 0 ? line.lastIndexOf(" ", max) : max);
  return cut.replace(/[\s.!?,;:]+$/, "");
}

/** User text placed inside a template must not open a merge field or an AI passage. */
function templateSafe(text: string): string {
  return text.replaceAll("&&", "and").replaceAll("%", " percent");
}
