// What a person sees of a message, character by character, with styles: for tests that a draft body is
// displayed literally (its `*`, `_`, `~`, backticks, `>` and `&` shown as typed) or that a span is styled.
//
// `mrkdwn` text objects (and a message's top-level text without blocks) follow Slack's mrkdwn rules
// (seen-mrkdwn.ts); `markdown` blocks follow Markdown (seen-markdown.ts); `plain_text` is shown as typed,
// except that `:emoji:` shortcodes become emoji unless `emoji: false`; `rich_text` elements are shown as their
// characters with their `style` flags (bold, italic, strike, code), preformatted and quote containers as pre
// and quote, lists with "• " / "1. ". Blocks are separated by a newline; context elements by a space; buttons
// (actions, accessories, context_actions) are shown as their labels marked `control`, feedback buttons as 👍 👎.
// Dividers and images show no text.

import { merge, type SeenSpan, styled } from "./seen-inline.ts";
import { markdownSpans } from "./seen-markdown.ts";
import { emojiSpan, mrkdwnSpans, type NameOf } from "./seen-mrkdwn.ts";
import { isObject, type Json, nameFromId } from "./wire.ts";

export type { SeenSpan } from "./seen-inline.ts";

export interface Seen {
  /** Everything a person sees, as copying it would give. */
  text: string;
  /** The same characters, cut where the look changes. */
  spans: SeenSpan[];
}

export interface SeenOptions {
  /** A user's display name for `<@U...>` mentions. Default: derived from the id ("U0DANA" -> "Dana"). */
  nameOf?: NameOf;
}

/** What a person sees of a message: its blocks, or its top-level text (mrkdwn) when it has none. */
export function seenText(message: { text?: string; blocks?: unknown[] }, options: SeenOptions = {}): Seen {
  if (message.blocks?.length) return renderSeen(message.blocks, options);
  return seen(mrkdwnSpans(message.text ?? "", options.nameOf ?? nameFromId));
}

/** What a person sees of a mrkdwn string (a mrkdwn text object, or a message's top-level text). */
export function seenMrkdwn(text: string, options: SeenOptions = {}): Seen {
  return seen(mrkdwnSpans(text, options.nameOf ?? nameFromId));
}

/** What a person sees of a `markdown` block's text. */
export function seenMarkdown(text: string): Seen {
  return seen(markdownSpans(text));
}

/** What a person sees of a list of blocks. */
export function renderSeen(blocks: unknown[], options: SeenOptions = {}): Seen {
  const nameOf = options.nameOf ?? nameFromId;
  const perBlock = blocks
    .filter(isObject)
    .map((block) => blockSpans(block, nameOf))
    .filter((spans) => spans.length > 0);
  return seen(perBlock.flatMap((spans, index) => (index === 0 ? spans : [{ text: "\n" }, ...spans])));
}

function seen(spans: SeenSpan[]): Seen {
  const merged = merge(spans);
  return { text: merged.map((span) => span.text).join(""), spans: merged };
}

function blockSpans(block: Json, nameOf: NameOf): SeenSpan[] {
  const text = (value: unknown) => textObject(value, nameOf);
  const elements = Array.isArray(block.elements) ? block.elements.filter(isObject) : [];
  const lines = (parts: SeenSpan[][]) =>
    parts
      .filter((part) => part.length > 0)
      .flatMap((part, i) => (i === 0 ? part : [{ text: "\n" }, ...part]));
  switch (block.type) {
    case "section":
      return lines([
        text(block.text),
        ...(Array.isArray(block.fields) ? block.fields.map(text) : []),
        isObject(block.accessory) ? control(block.accessory) : [],
      ]);
    case "header":
      return styled(text(block.text), { heading: true });
    case "context":
      return elements.flatMap((e, i) => [
        ...(i > 0 ? [{ text: " " }] : []),
        ...(e.type === "image" ? [] : text(e)),
      ]);
    case "actions":
    case "context_actions":
      return elements.flatMap((e, i) => [...(i > 0 ? [{ text: " " }] : []), ...control(e)]);
    case "input":
      return text(block.label);
    case "markdown":
      return markdownSpans(String(block.text ?? ""));
    case "rich_text":
      return lines(elements.map((e) => richText(e, nameOf)));
    default:
      return [];
  }
}

function textObject(value: unknown, nameOf: NameOf): SeenSpan[] {
  if (!isObject(value) || typeof value.text !== "string") return [];
  if (value.type === "mrkdwn") return mrkdwnSpans(value.text, nameOf);
  if (value.emoji === false) return [{ text: value.text }];
  return value.text
    .split(/:([a-z0-9_+'-]+):/u)
    .map((part, i) => (i % 2 === 1 ? emojiSpan(part) : { text: part }))
    .filter((span) => span.text);
}

function control(element: Json): SeenSpan[] {
  if (element.type === "feedback_buttons")
    return [{ text: "👍", control: true }, { text: " " }, { text: "👎", control: true }];
  const label = isObject(element.text) && typeof element.text.text === "string" ? element.text.text : "";
  const shown = label || (isObject(element.placeholder) ? String(element.placeholder.text ?? "") : "");
  return shown ? [{ text: shown, control: true }] : [];
}

function richText(element: Json, nameOf: NameOf): SeenSpan[] {
  const children = Array.isArray(element.elements) ? element.elements.filter(isObject) : [];
  const inline = () => children.map((child) => richInline(child, nameOf));
  switch (element.type) {
    case "rich_text_preformatted":
      return styled(inline(), { pre: true });
    case "rich_text_quote":
      return styled(inline(), { quote: true });
    case "rich_text_list": {
      const start = Number(element.offset ?? 0);
      const indent = "  ".repeat(Number(element.indent ?? 0));
      return children.flatMap((item, index) => [
        ...(index > 0 ? [{ text: "\n" }] : []),
        { text: `${indent}${element.style === "ordered" ? `${start + index + 1}.` : "•"} ` },
        ...richText(item, nameOf),
      ]);
    }
    default:
      return inline();
  }
}

function richInline(element: Json, nameOf: NameOf): SeenSpan {
  const style = isObject(element.style) ? element.style : {};
  const look: Partial<SeenSpan> = {
    ...(style.bold === true ? { bold: true } : {}),
    ...(style.italic === true ? { italic: true } : {}),
    ...(style.strike === true ? { strike: true } : {}),
    ...(style.code === true ? { code: true } : {}),
  };
  switch (element.type) {
    case "text":
      return { text: String(element.text ?? ""), ...look };
    case "link":
      return { text: String(element.text ?? element.url ?? ""), link: String(element.url ?? ""), ...look };
    case "user":
      return { text: `@${nameOf(String(element.user_id))}`, mention: String(element.user_id), ...look };
    case "usergroup":
      return { text: `@${String(element.usergroup_id)}`, mention: String(element.usergroup_id), ...look };
    case "channel":
      return {
        text: `#${String(element.channel_id).toLowerCase()}`,
        mention: String(element.channel_id),
        ...look,
      };
    case "broadcast":
      return { text: `@${String(element.range)}`, mention: String(element.range), ...look };
    case "emoji":
      return typeof element.unicode === "string"
        ? {
            text: String.fromCodePoint(...element.unicode.split("-").map((hex) => Number.parseInt(hex, 16))),
            emoji: String(element.name),
            ...look,
          }
        : { ...emojiSpan(String(element.name)), ...look };
    case "date":
      return { text: String(element.fallback ?? element.timestamp ?? ""), ...look };
    default:
      return { text: String(element.text ?? element.value ?? ""), ...look };
  }
}
