// The inline engine shared by the mrkdwn and markdown renderers: a line is cut into units (single characters
// that may be formatting markers, and atoms already rendered: code, links, mentions, emoji, escapes), then
// paired markers become styles. Atoms never hold markers, so `:white_check_mark:` or `<url|a_b>` are safe.

export interface SeenSpan {
  /** The characters a person sees (what copying gives). */
  text: string;
  bold?: true;
  italic?: true;
  strike?: true;
  /** Inline code. */
  code?: true;
  /** A preformatted (code) block. */
  pre?: true;
  quote?: true;
  /** A markdown heading or a header block. */
  heading?: true;
  /** The link's target. */
  link?: string;
  /** A mention: a user, channel or usergroup id, or "here", "channel", "everyone". */
  mention?: string;
  /** An emoji shown as a picture: its shortcode name. */
  emoji?: string;
  /** The label of a button or another control. */
  control?: true;
}

export type Style = "bold" | "italic" | "strike";
export type Unit = { char: string } | { atom: SeenSpan[] };

/** A pair of markers making a style; `intraword` allows it inside a word (markdown's `*`, `**`, `~~`). */
export interface Delimiter {
  marker: string;
  style: Style;
  intraword: boolean;
}

type Styles = Partial<Record<Style, true>>;

const WORD = /[\p{L}\p{N}]/u;
const SPACE = /\s/u;

export function inlineSpans(units: Unit[], delimiters: Delimiter[]): SeenSpan[] {
  return merge(parseRange(units, 0, units.length, {}, delimiters));
}

function parseRange(
  units: Unit[],
  start: number,
  end: number,
  styles: Styles,
  delims: Delimiter[],
): SeenSpan[] {
  const out: SeenSpan[] = [];
  let text = "";
  const flush = () => {
    if (text) out.push({ text, ...styles });
    text = "";
  };
  let i = start;
  while (i < end) {
    const unit = units[i];
    if (!unit) break;
    if ("atom" in unit) {
      flush();
      out.push(...unit.atom.map((span) => ({ ...styles, ...span })));
      i += 1;
      continue;
    }
    const pair = findPair(units, i, end, delims);
    if (pair) {
      flush();
      const inner = { ...styles, [pair.delimiter.style]: true as const };
      out.push(...parseRange(units, i + pair.delimiter.marker.length, pair.close, inner, delims));
      i = pair.close + pair.delimiter.marker.length;
      continue;
    }
    text += unit.char;
    i += 1;
  }
  flush();
  return out;
}

function findPair(
  units: Unit[],
  open: number,
  end: number,
  delims: Delimiter[],
): { delimiter: Delimiter; close: number } | undefined {
  for (const delimiter of delims) {
    const k = delimiter.marker.length;
    if (!markerAt(units, open, delimiter.marker, end) || !canOpen(units, open, k, delimiter)) continue;
    for (let close = open + k + 1; close + k <= end; close += 1) {
      if (markerAt(units, close, delimiter.marker, end) && canClose(units, close, k, delimiter, end)) {
        return { delimiter, close };
      }
    }
  }
  return undefined;
}

function markerAt(units: Unit[], at: number, marker: string, end: number): boolean {
  if (at + marker.length > end) return false;
  for (let n = 0; n < marker.length; n += 1) {
    const unit = units[at + n];
    if (!unit || !("char" in unit) || unit.char !== marker[n]) return false;
  }
  return true;
}

function charOf(unit: Unit | undefined): string | undefined {
  return unit && "char" in unit ? unit.char : undefined;
}

function canOpen(units: Unit[], at: number, k: number, d: Delimiter): boolean {
  const before = charOf(units[at - 1]);
  const after = units[at + k];
  if (!after || SPACE.test(charOf(after) ?? "x")) return false;
  // Part of a longer run of the same character (e.g. one star of "**"): not this delimiter.
  if (before === d.marker[0] || charOf(after) === d.marker[0]) return false;
  return d.intraword || before === undefined || !WORD.test(before);
}

function canClose(units: Unit[], at: number, k: number, d: Delimiter, end: number): boolean {
  const before = units[at - 1];
  const after = at + k < end ? charOf(units[at + k]) : undefined;
  if (!before || SPACE.test(charOf(before) ?? "x")) return false;
  if (charOf(before) === d.marker[0] || after === d.marker[0]) return false;
  return d.intraword || after === undefined || !WORD.test(after);
}

/** Joins neighbouring spans that look the same. */
export function merge(spans: SeenSpan[]): SeenSpan[] {
  const out: SeenSpan[] = [];
  for (const span of spans) {
    if (!span.text) continue;
    const last = out.at(-1);
    if (last && sameLook(last, span)) last.text += span.text;
    else out.push({ ...span });
  }
  return out;
}

function sameLook(a: SeenSpan, b: SeenSpan): boolean {
  const { text: _a, ...restA } = a;
  const { text: _b, ...restB } = b;
  const keys = new Set([...Object.keys(restA), ...Object.keys(restB)]);
  return [...keys].every((key) => restA[key as keyof typeof restA] === restB[key as keyof typeof restB]);
}

export function chars(text: string): Unit[] {
  return [...text].map((char) => ({ char }));
}

/** Adds `extra` to every span (e.g. quote, pre). */
export function styled(spans: SeenSpan[], extra: Partial<SeenSpan>): SeenSpan[] {
  return spans.map((span) => ({ ...span, ...extra }));
}
