// A `markdown` block (standard Markdown, which Slack renders in it) as a person sees it. Rules implemented
// (CommonMark + GitHub's strikethrough and autolinks, simplified): fenced code blocks (pre), `#` headings,
// `>` quotes, `-`/`*`/`+` bullets shown as "• ", numbered items kept, thematic breaks dropped; inline
// `` `code` `` (shown as typed, entities included), `**bold**`/`__bold__`, `*italic*`/`_italic_` (`_` not
// inside words), `~~strike~~`/`~strike~`, `[label](url)`, `<https://...>` and bare URLs, backslash escapes of
// punctuation (`\*` shows `*`), `&amp;`-style and numeric entities, `:emoji:`.
// Simplifications: every source line stays a line (no paragraph joining), no nested lists or
// indented code, no reference links, no HTML.

import { type Delimiter, inlineSpans, merge, type SeenSpan, styled, type Unit } from "./seen-inline.ts";
import { emojiSpan } from "./seen-mrkdwn.ts";

const MARKDOWN_DELIMITERS: Delimiter[] = [
  { marker: "**", style: "bold", intraword: true },
  { marker: "__", style: "bold", intraword: false },
  { marker: "~~", style: "strike", intraword: true },
  { marker: "*", style: "italic", intraword: true },
  { marker: "_", style: "italic", intraword: false },
  { marker: "~", style: "strike", intraword: true },
];

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };
const TOKEN =
  /\\([!-/:-@[-`{-~])|`([^`\n]+)`|\[([^\]\n]*)\]\(([^)\s]+)\)|<(https?:\/\/[^\s<>]+)>|&(#\d+|#x[\da-f]+|[a-z]+);|:([a-z0-9_+'-]+):|(https?:\/\/[^\s<>]+[^\s<>.,;:!?)'"])|([\s\S])/giu;

export function markdownSpans(text: string): SeenSpan[] {
  const out: SeenSpan[] = [];
  let fenced = false;
  let previousPre = false;
  let emitted = 0;
  text.split("\n").forEach((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    // A line break inside a code block is part of it; others are plain.
    if (emitted > 0) out.push({ text: "\n", ...(fenced && previousPre ? { pre: true as const } : {}) });
    emitted += 1;
    previousPre = fenced;
    if (fenced) out.push({ text: line, pre: true });
    else out.push(...markdownLine(line));
  });
  return merge(out);
}

function markdownLine(line: string): SeenSpan[] {
  if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) return [];
  const heading = line.match(/^\s{0,3}#{1,6}\s+(.*?)(\s+#+)?\s*$/);
  if (heading) return styled(inline(heading[1] ?? ""), { heading: true });
  const quote = line.match(/^\s{0,3}>\s?(.*)$/);
  if (quote) return styled(markdownLine(quote[1] ?? ""), { quote: true });
  const bullet = line.match(/^\s*[-*+]\s+(.*)$/);
  if (bullet) return [{ text: "• " }, ...inline(bullet[1] ?? "")];
  const ordered = line.match(/^\s*(\d{1,9}[.)])\s+(.*)$/);
  if (ordered) return [{ text: `${ordered[1]} ` }, ...inline(ordered[2] ?? "")];
  return inline(line);
}

function inline(text: string): SeenSpan[] {
  return inlineSpans(units(text), MARKDOWN_DELIMITERS);
}

function units(text: string): Unit[] {
  const out: Unit[] = [];
  for (const match of text.matchAll(TOKEN)) {
    const [, escaped, code, label, href, autolink, entity, emoji, url, char] = match;
    if (escaped !== undefined) out.push({ atom: [{ text: escaped }] });
    else if (code !== undefined) out.push({ atom: [{ text: code, code: true }] });
    else if (label !== undefined && href !== undefined) {
      out.push({ atom: inline(label).map((span) => ({ ...span, link: href })) });
    } else if (autolink !== undefined) out.push({ atom: [{ text: autolink, link: autolink }] });
    else if (entity !== undefined) out.push({ atom: [{ text: decodeEntity(entity) }] });
    else if (emoji !== undefined) out.push({ atom: [emojiSpan(emoji)] });
    else if (url !== undefined) out.push({ atom: [{ text: url, link: url }] });
    else if (char !== undefined) out.push({ char });
  }
  return out;
}

function decodeEntity(name: string): string {
  if (name.startsWith("#x") || name.startsWith("#X"))
    return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
  if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
  return NAMED[name.toLowerCase()] ?? `&${name};`;
}
