import { SLACK_LIMITS as L } from "../limits.ts";
import { type RichTextBlock, type RichTextStyle, type RichTextText, richText } from "./blocks.ts";

/**
 * Text shown exactly as written, as rich_text blocks: Slack parses nothing in a rich_text `text` element
 * (no `*bold*`, no `<!channel>`, no `&amp;`, no `:emoji:`), so a person sees and copies the characters we
 * were given, and only the styles we chose mark things up.
 */

/** A stretch of text with one look. A `whole` run (a merge field) is never cut between two blocks. */
export interface Run {
  text: string;
  style?: RichTextStyle;
  whole?: true;
}

export const plain = (text: string): Run => ({ text });
export const bold = (text: string): Run => ({ text, style: { bold: true } });
export const italic = (text: string): Run => ({ text, style: { italic: true } });
export const NEWLINE: Run = { text: "\n" };
export const BLANK_LINE: Run = { text: "\n\n" };

/** Lines of runs joined by `separator` (a line break, a blank line). */
export function joinRuns(lines: readonly Run[][], separator: Run = NEWLINE): Run[] {
  return lines
    .filter((line) => line.length > 0)
    .flatMap((line, i) => (i === 0 ? line : [separator, ...line]));
}

/**
 * As many rich_text blocks as the runs need, each holding at most `maxChars` characters. A cut falls on a
 * line break where it can, then on a space, mid-word only as a last resort, never inside a `whole` run or
 * an emoji's surrogate pair. The line break or space at a cut is the one character left out: blocks stack
 * on separate lines, so the text reads (and copies) the same apart from a space turned into a line break.
 */
export function richTextBlocks(
  runs: readonly Run[],
  maxChars: number = L.richTextBlockText,
): RichTextBlock[] {
  const text = runs.map((run) => run.text).join("");
  if (!text) return [];
  return cutRanges(text, maxChars, wholeIds(runs, text.length)).map(([start, end]) =>
    richText(elementsIn(runs, start, end)),
  );
}

/** For each character, the 1-based number of the whole run holding it, or 0. */
function wholeIds(runs: readonly Run[], length: number): Uint32Array {
  const ids = new Uint32Array(length);
  let offset = 0;
  runs.forEach((run, index) => {
    if (run.whole) ids.fill(index + 1, offset, offset + run.text.length);
    offset += run.text.length;
  });
  return ids;
}

type Range = [start: number, end: number];

function cutRanges(text: string, maxChars: number, whole: Uint32Array): Range[] {
  const ranges: Range[] = [];
  let start = 0;
  while (text.length - start > maxChars) {
    const { end, next } = findCut(text, start, maxChars, whole);
    ranges.push([start, end]);
    start = next;
  }
  ranges.push([start, text.length]);
  return ranges;
}

interface Cut {
  /** Where this block's text ends. */
  end: number;
  /** Where the next block's text starts: `end + 1` when the character at `end` is left out. */
  next: number;
}

/** Line breaks that start a blank line (paragraphs), then any line break, then spaces. */
const BREAKS = [/\n(?=[^\S\n]*\n)/g, /\n/g, /[^\S\n]/g];

function findCut(text: string, start: number, maxChars: number, whole: Uint32Array): Cut {
  // A chunk of text can end at most at `limit`; the character at `limit` may be the one left out.
  const limit = start + maxChars;
  const window = text.slice(start, limit + 1);
  // First choice: a break in the second half, so blocks stay reasonably full; then any break at all.
  for (const minEnd of [start + Math.floor(maxChars / 2), start + 1]) {
    for (const pattern of BREAKS) {
      const at = lastMatch(window, pattern, start, minEnd, whole);
      if (at !== undefined) return { end: at, next: at + 1 };
    }
  }
  const end = hardCut(text, start, limit, whole);
  return { end, next: end };
}

function lastMatch(
  window: string,
  pattern: RegExp,
  start: number,
  minEnd: number,
  whole: Uint32Array,
): number | undefined {
  let found: number | undefined;
  for (const match of window.matchAll(pattern)) {
    const at = start + match.index;
    if (at >= minEnd && !whole[at]) found = at;
  }
  return found;
}

/** A cut at `limit`, moved back out of a whole run or a surrogate pair. */
function hardCut(text: string, start: number, limit: number, whole: Uint32Array): number {
  let cut = limit;
  const id = whole[cut - 1] ?? 0;
  if (id !== 0 && whole[cut] === id) {
    let first = cut - 1;
    while (first > start && whole[first - 1] === id) first -= 1;
    // A merge field longer than a whole block (absurd, but possible) is cut like any text.
    if (first > start) cut = first;
  }
  const before = text.charCodeAt(cut - 1);
  if (before >= 0xd800 && before <= 0xdbff && cut - 1 > start) cut -= 1;
  return cut;
}

/** The `text` elements showing characters `start` to `end`; neighbours with the same look are joined. */
function elementsIn(runs: readonly Run[], start: number, end: number): RichTextText[] {
  const elements: RichTextText[] = [];
  let runStart = 0;
  for (const run of runs) {
    const from = Math.max(start, runStart) - runStart;
    const to = Math.min(end, runStart + run.text.length) - runStart;
    runStart += run.text.length;
    if (from >= to) continue;
    const text = run.text.slice(from, to);
    const last = elements.at(-1);
    if (last && sameStyle(last.style, run.style)) last.text += text;
    else elements.push({ type: "text", text, ...(run.style ? { style: { ...run.style } } : {}) });
  }
  return elements;
}

function sameStyle(a: RichTextStyle | undefined, b: RichTextStyle | undefined): boolean {
  const keys = ["bold", "italic", "strike", "code"] as const;
  return keys.every((key) => a?.[key] === b?.[key]);
}
