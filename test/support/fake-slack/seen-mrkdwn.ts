// Slack's mrkdwn as a person sees it. Rules implemented (Slack's "Formatting text for app surfaces"):
// - `*bold*`, `_italic_`, `~strike~`: the markers disappear. An opening marker must not follow a letter or
//   digit and must be followed by a non-space; a closing one must follow a non-space and not be followed by a
//   letter or digit; both on the same line. So `a*b*c`, `snake_case_name` and `2*3*4` stay as typed. Doubled
//   markers (`**x**`) are left as typed.
// - `` `code` `` (one line) and ```` ```pre``` ```` (any lines; one newline after the opening and before the
//   closing fence dropped): contents shown as typed, entities decoded, nothing else parsed.
// - A line starting with `>` or `&gt;` (how Slack stores a typed quote) is a quote, marker and one space
//   dropped; a line starting with `>>>` quotes the rest of the text. A `>` elsewhere is a `>`.
// - `<url|label>` shows label (link to url), `<url>` the url; `<@U1>` "@Name", `<#C1|name>` "#name",
//   `<!here>` / `<!channel>` / `<!everyone>` "@here"..., `<!subteam^S1|@team>` "@team", `<!date^...|text>`
//   its fallback text. Bare http(s) URLs are links.
// - `&amp;`, `&lt;`, `&gt;` are decoded (other entities are shown as typed); `:name:` shows the emoji when
//   known (emoji.ts), the typed text otherwise.
// Simplifications: no formatting inside code, links or labels; no auto-linked channel names or emails.

import { EMOJI } from "./emoji.ts";
import { type Delimiter, inlineSpans, merge, type SeenSpan, styled, type Unit } from "./seen-inline.ts";

export type NameOf = (id: string) => string;

const MRKDWN_DELIMITERS: Delimiter[] = [
  { marker: "*", style: "bold", intraword: false },
  { marker: "_", style: "italic", intraword: false },
  { marker: "~", style: "strike", intraword: false },
];

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">" };
const TOKEN =
  /`([^`\n]+)`|<([^<>\n]+)>|(&amp;|&lt;|&gt;)|:([a-z0-9_+'-]+):|(https?:\/\/[^\s<>]+[^\s<>.,;:!?)'"])|([\s\S])/gu;

export function decodeEntities(text: string): string {
  return text.replace(/&amp;|&lt;|&gt;/g, (entity) => ENTITIES[entity] ?? entity);
}

export function mrkdwnSpans(text: string, nameOf: NameOf): SeenSpan[] {
  const out: SeenSpan[] = [];
  const parts = text.split(/```/);
  parts.forEach((part, index) => {
    // Odd parts sit between fences; an unclosed fence is shown as typed.
    const isPre = index % 2 === 1 && index < parts.length - 1;
    if (isPre) out.push({ text: decodeEntities(part.replace(/^\n/, "").replace(/\n$/, "")), pre: true });
    else out.push(...lines(index % 2 === 1 ? `\`\`\`${part}` : part, nameOf));
  });
  return merge(out);
}

function lines(text: string, nameOf: NameOf): SeenSpan[] {
  const out: SeenSpan[] = [];
  let quoteRest = false;
  text.split("\n").forEach((line, index) => {
    if (index > 0) out.push({ text: "\n", ...(quoteRest ? { quote: true as const } : {}) });
    let body = line;
    let quote = quoteRest;
    const block = line.match(/^(?:>>>|&gt;&gt;&gt;) ?/);
    const single = line.match(/^(?:>|&gt;) ?/);
    if (!quote && block) {
      quoteRest = quote = true;
      body = line.slice(block[0].length);
    } else if (!quote && single) {
      quote = true;
      body = line.slice(single[0].length);
    }
    const spans = inlineSpans(units(body, nameOf), MRKDWN_DELIMITERS);
    out.push(...(quote ? styled(spans, { quote: true }) : spans));
  });
  return out;
}

function units(line: string, nameOf: NameOf): Unit[] {
  const out: Unit[] = [];
  for (const match of line.matchAll(TOKEN)) {
    const [, code, control, entity, emoji, url, char] = match;
    if (code !== undefined) out.push({ atom: [{ text: decodeEntities(code), code: true }] });
    else if (control !== undefined) out.push({ atom: [controlSpan(control, nameOf)] });
    else if (entity !== undefined) out.push({ atom: [{ text: ENTITIES[entity] ?? entity }] });
    else if (emoji !== undefined) out.push({ atom: [emojiSpan(emoji)] });
    else if (url !== undefined) out.push({ atom: [{ text: url, link: url }] });
    else if (char !== undefined) out.push({ char });
  }
  return out;
}

export function emojiSpan(name: string): SeenSpan {
  const picture = EMOJI[name];
  return picture ? { text: picture, emoji: name } : { text: `:${name}:` };
}

/** `<...>`: a mention, a special mention, a date or a link. */
function controlSpan(inner: string, nameOf: NameOf): SeenSpan {
  const bar = inner.indexOf("|");
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? undefined : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return { text: `@${label ?? nameOf(id)}`, mention: id };
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return { text: `#${label ?? id.toLowerCase()}`, mention: id };
  }
  if (target.startsWith("!")) {
    const [kind = "", id = ""] = target.slice(1).split("^");
    if (kind === "subteam") return { text: label ?? `@${id}`, mention: id };
    if (kind === "date") return { text: label ?? target };
    return { text: `@${kind}`, mention: kind };
  }
  const url = decodeEntities(target);
  return { text: label ?? url, link: url };
}
