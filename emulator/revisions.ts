// How the fake model revises a draft: the notes it recognises ("shorter", "warmer", "more direct",
// "new subject lines", "stronger call to action", "longer") and what each one does to the text.
import {
  excerptOf,
  insertBeforeLast,
  joinBody,
  nextInRotation,
  replaceLast,
  sentencesOf,
  splitBody,
  templateSafe,
  wordCount,
} from "./body.ts";
import type { Draft } from "./drafting.ts";

export const SUBJECT_LINES = [
  "Quick thought for %company%",
  "%first_name%, a question about ramp time at %company%",
  "Idea for %company%'s sales team",
  "Worth 15 minutes, %first_name%?",
  "How %company% could ramp new reps faster",
  "A shorter path to quota at %company%",
];

export type Instruction = "subject" | "warmer" | "direct" | "cta" | "longer" | "shorter";

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

export function instructionsIn(message: string): Instruction[] {
  return INSTRUCTION_PATTERNS.filter(([, pattern]) => pattern.test(message)).map(([name]) => name);
}

/** Every instruction found, in a fixed order; with none, the message is worked into the body as a note. */
export function applyInstructions(
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
