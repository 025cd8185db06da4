import type { Author } from "../drafting/outcomes.ts";

/**
 * Text safety for Slack: the one escaping helper, decoding what Slack sends us, turning the model's
 * Markdown into mrkdwn, and cutting text to Slack's sizes.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };
const UNESCAPES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">" };

/** Makes any text literal in mrkdwn: no `<!channel>`, no `<@U123>` mentions, no `<url|fake>` links. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (char) => ESCAPES[char] ?? char);
}

function unescapeMrkdwn(text: string): string {
  return text.replace(/&(?:amp|lt|gt);/g, (entity) => UNESCAPES[entity] ?? entity);
}

// ---------------------------------------------------------------- incoming

const SLACK_TOKEN = /<([^<>]+)>/g;
const BROADCASTS = new Set(["here", "channel", "everyone"]);

/** A lone UTF-16 surrogate (half of an emoji, say) cannot be stored or sent as text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text as it can be stored and sent: each lone surrogate becomes one U+FFFD. (Written as UTF-8 as it
 * is, one surrogate turns into three replacement characters.)
 */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD");
}

/** Slack message text to the plain text a person meant, for Puffle. */
export function decodeIncoming(text: string, options: { botUserId?: string | undefined }): string {
  const decoded = text.replace(SLACK_TOKEN, (_token, inner: string) => decodeToken(inner, options.botUserId));
  return wellFormed(unescapeMrkdwn(decoded)).trim();
}

function decodeToken(inner: string, botUserId: string | undefined): string {
  const bar = inner.indexOf("|");
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? "" : inner.slice(bar + 1);
  if (target.startsWith("@")) {
    const userId = target.slice(1);
    return userId === botUserId ? "" : `@${label || userId}`;
  }
  if (target.startsWith("#")) return `#${label || target.slice(1)}`;
  if (target.startsWith("!")) return specialMention(target.slice(1), label);
  return linkText(target, label);
}

/** `<!here>`, `<!subteam^S1|@team>`, `<!date^...|fallback>`: what the reader saw. */
function specialMention(name: string, label: string): string {
  if (BROADCASTS.has(name)) return `@${name}`;
  if (label) return label;
  return `@${name.replace(/^subteam\^/, "")}`;
}

function linkText(url: string, label: string): string {
  const address = url.replace(/^mailto:/i, "");
  // Slack turns a typed "x.com" into <http://x.com|x.com>: give back what was typed.
  if (!label || label === address || label === url.replace(/^https?:\/\//i, "")) return label || address;
  return `${label} (${url})`;
}

// ---------------------------------------------------------------- Markdown to mrkdwn

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const QUOTE = /^ {0,3}(?:&gt; ?)+/;
const HEADING = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const BULLET = /^([ \t]*)[-*+][ \t]+(.*)$/;
const NUMBERED = /^([ \t]*)(\d{1,9})[.)][ \t]+(.*)$/;

/**
 * The model writes Markdown; Slack reads mrkdwn. Escapes `&<>` first, so the result never holds `<` or
 * `>` except a quote marker at the start of a line: no mentions, no links whose target is hidden.
 */
export function markdownToMrkdwn(markdown: string): string {
  const out: string[] = [];
  let openFence: string | null = null;
  for (const line of markdown.replace(/\r\n?/g, "\n").split("\n")) {
    const fence = FENCE.exec(line)?.[1];
    if (openFence !== null) {
      const closes =
        fence !== undefined &&
        fence[0] === openFence[0] &&
        fence.length >= openFence.length &&
        line.trim() === fence;
      if (closes) openFence = null;
      out.push(closes ? "```" : escapeMrkdwn(line));
    } else if (fence) {
      // Slack shows a language tag ("```ts") as text: drop it.
      openFence = fence;
      out.push("```");
    } else {
      out.push(convertLine(escapeMrkdwn(line)));
    }
  }
  if (openFence !== null) out.push("```");
  return out.join("\n");
}

function convertLine(line: string): string {
  const quote = QUOTE.exec(line);
  if (!quote) return convertBlockLine(line);
  // Slack renders a quote only from a literal ">" at line start, and only one level deep.
  const content = convertBlockLine(line.slice(quote[0].length));
  return content ? `> ${content}` : ">";
}

function convertBlockLine(line: string): string {
  const heading = HEADING.exec(line);
  if (heading) {
    // The heading is bold already: bold markers inside it would close it early.
    const title = convertInline((heading[1] ?? "").replace(/\*\*|__/g, ""));
    return title ? `*${title}*` : "";
  }
  if (RULE.test(line)) return "———";
  const bullet = BULLET.exec(line);
  if (bullet) {
    const indent = bullet[1] ?? "";
    return `${indent}${indent.length >= 2 ? "◦" : "•"} ${convertInline(bullet[2] ?? "")}`;
  }
  const numbered = NUMBERED.exec(line);
  if (numbered) return `${numbered[1]}${numbered[2]}. ${convertInline(numbered[3] ?? "")}`;
  return convertInline(line);
}

const CODE_SPAN = /(`+)[^`\n]+?\1(?!`)/g;
const LINK = /!?\[([^\]\n]*)\]\(([^()\s]+)(?:\s+"[^"\n]*")?\)/g;
/** A Markdown autolink `<https://...>`, already escaped. */
const AUTOLINK = /&lt;(https?:\/\/[^\s|]+?)&gt;/g;
const BARE_URL = /\bhttps?:\/\/[^\s()]+/g;
/** Private-use characters: placeholders that cannot clash with what the model wrote (stripped first). */
const PLACEHOLDERS = /[\uE000-\uE002]/g;
const BOLD = "\uE000";
const KEPT = /\uE001(\d+)\uE002/g;

/** Inline Markdown to mrkdwn; code spans and URLs are set aside so emphasis rules cannot touch them. */
function convertInline(text: string): string {
  const kept: string[] = [];
  const keep = (verbatim: string) => `\uE001${kept.push(verbatim) - 1}\uE002`;
  const converted = text
    .replace(PLACEHOLDERS, "")
    .replace(CODE_SPAN, keep)
    .replace(LINK, (_link, label: string, url: string) =>
      label && label !== url ? `${label} (${keep(url)})` : keep(url),
    )
    .replace(AUTOLINK, (_link, url: string) => keep(url))
    .replace(BARE_URL, keep);
  return convertEmphasis(converted).replace(KEPT, (_placeholder, index: string) => kept[Number(index)] ?? "");
}

function convertEmphasis(text: string): string {
  // Bold becomes a placeholder first, so the italic rule cannot mistake mrkdwn's `*bold*` for italic.
  return text
    .replace(/\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*/g, `${BOLD}_$1_${BOLD}`)
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, `${BOLD}$1${BOLD}`)
    .replace(/(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)/g, `${BOLD}$1${BOLD}`)
    .replace(/(?<![*\w])\*(?=[^\s*])([^*]*?[^\s*])\*(?![*\w])/g, "_$1_")
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, "~$1~")
    .replaceAll(BOLD, "*");
}

// ---------------------------------------------------------------- sizes

const ELLIPSIS = "…";
/** Longest entity we might cut through: `&amp;`, `&#12345;`, `&#x1F600;`. */
const ENTITY_AT = /^&(?:[a-z]+|#\d{1,7}|#x[0-9a-f]{1,6});/i;
const LONGEST_ENTITY = 10;

/** Where to cut near `index` without splitting an escape entity or an emoji's surrogate pair. */
function safeCutIndex(text: string, index: number): number {
  let cut = index;
  const amp = text.lastIndexOf("&", cut - 1);
  if (amp !== -1 && cut - amp < LONGEST_ENTITY) {
    const entity = ENTITY_AT.exec(text.slice(amp, amp + LONGEST_ENTITY));
    if (entity && amp + entity[0].length > cut) cut = amp;
  }
  const before = text.charCodeAt(cut - 1);
  if (before >= 0xd800 && before <= 0xdbff) cut -= 1;
  // Cutting nothing would loop forever; a broken entity beats that (only for absurdly small limits).
  return cut > 0 ? cut : index;
}

/** `text` cut to at most `maxChars`, ending with an ellipsis when it was cut. */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, safeCutIndex(text, maxChars - ELLIPSIS.length)).trimEnd()}${ELLIPSIS}`;
}

/** Places to split, best first. Each match is whitespace that the split removes. */
const PREFERRED_BREAKS = [
  /\n(?:[^\S\n]*\n)+/g, // paragraphs
  /\n/g, // lines
  /(?<=[.!?…]["'”’)\]]*)[^\S\n]+/g, // sentence ends
  /[^\S\n]+/g, // words
];
const ANY_WHITESPACE = /\s+/g;

interface Break {
  /** Where the chunk ends. */
  end: number;
  /** Where the next chunk starts (after the removed whitespace). */
  next: number;
}

/**
 * Splits text into chunks of at most `maxChars`, preferring paragraph breaks, then line breaks, then
 * sentence ends, then spaces, and mid-word only as a last resort. Only the whitespace at a split point
 * is dropped; escape entities like `&amp;` are never cut.
 */
export function splitText(text: string, maxChars: number): string[] {
  if (maxChars < 1) throw new RangeError(`splitText needs room for at least one character (got ${maxChars})`);
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > maxChars) {
    const { end, next } = findBreak(rest, maxChars);
    if (end > 0) chunks.push(rest.slice(0, end));
    rest = rest.slice(next);
  }
  if (rest) chunks.push(rest);
  return chunks;
}

function findBreak(text: string, maxChars: number): Break {
  // A preferred break only counts in the second half, so chunks stay reasonably full.
  const halfFull = Math.floor(maxChars / 2);
  for (const pattern of PREFERRED_BREAKS) {
    const found = lastBreakWithin(text, pattern, maxChars, halfFull);
    if (found) return found;
  }
  const anywhere = lastBreakWithin(text, ANY_WHITESPACE, maxChars, 1);
  if (anywhere) return anywhere;
  const end = safeCutIndex(text, maxChars);
  return { end, next: end };
}

function lastBreakWithin(text: string, pattern: RegExp, maxChars: number, minEnd: number): Break | undefined {
  let found: Break | undefined;
  for (const match of text.matchAll(pattern)) {
    if (match.index > maxChars) break;
    if (match.index >= minEnd) found = { end: match.index, next: match.index + match[0].length };
  }
  return found;
}

const FENCE_LINE = /^```/gm;
const REOPEN_FENCE = "```\n";
const CLOSE_FENCE = "\n```";

/** `splitText` for mrkdwn: a code block cut in two is closed at the cut and reopened in the next chunk. */
export function splitMrkdwn(text: string, maxChars: number): string[] {
  let insideCode = false;
  return splitText(text, maxChars - REOPEN_FENCE.length - CLOSE_FENCE.length).map((chunk) => {
    const opened = insideCode ? REOPEN_FENCE + chunk : chunk;
    if ((chunk.match(FENCE_LINE)?.length ?? 0) % 2 === 1) insideCode = !insideCode;
    return insideCode ? opened + CLOSE_FENCE : opened;
  });
}

// ---------------------------------------------------------------- people

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/**
 * "Dana, Lee" for mrkdwn: names escaped; a person without a name becomes a mention, but only when the id
 * really is a Slack user id (so nothing from model text can turn into a ping).
 */
export function authorList(authors: readonly Author[]): string {
  return authors
    .map((author) => {
      if (author.name) return escapeMrkdwn(author.name);
      return SLACK_USER_ID.test(author.id) ? `<@${author.id}>` : escapeMrkdwn(author.id);
    })
    .join(", ");
}
