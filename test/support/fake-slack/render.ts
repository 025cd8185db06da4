// A thread as plain text, as a person reads it: the `render()` of the fake.

import type { StoredMessage } from "./types.ts";
import { isObject, type Json } from "./wire.ts";

export type NameOf = (userId: string) => string;

export function renderMessages(messages: StoredMessage[], nameOf: NameOf): string {
  return messages
    .map((m) => {
      const streaming = m.stream?.state === "streaming" ? " · streaming" : "";
      const header = `${nameOf(m.user)} · ${m.ts}${m.edited ? " · edited" : ""}${streaming}`;
      return [header, ...renderBody(m, nameOf).map((line) => `  ${line}`)].join("\n");
    })
    .join("\n\n");
}

/** A message's lines: its blocks (or its text without blocks); a stream's markdown text above its blocks. */
function renderBody(m: { text: string; blocks?: unknown[]; stream?: unknown }, nameOf: NameOf): string[] {
  const blocks = m.blocks?.length ? renderBlocks(m.blocks, nameOf) : [];
  if (m.stream) return [...(m.text ? m.text.split("\n") : []), ...blocks];
  return m.blocks?.length ? blocks : readable(m.text, nameOf).split("\n");
}

/** What a message (or one shown version of it) displays, as one string, for searching. */
export function shownText(m: { text: string; blocks?: unknown[]; stream?: unknown }, nameOf: NameOf): string {
  return renderBody(m, nameOf).join("\n");
}

export function renderBlocks(blocks: unknown[], nameOf: NameOf): string[] {
  return blocks.flatMap((block) => (isObject(block) ? renderBlock(block, nameOf) : []));
}

function renderBlock(block: Json, nameOf: NameOf): string[] {
  const text = (value: unknown) => renderText(value, nameOf);
  const elements = Array.isArray(block.elements) ? block.elements : [];
  switch (block.type) {
    case "header":
      return [`# ${text(block.text)}`];
    case "section":
      return [
        ...(block.text ? text(block.text).split("\n") : []),
        ...(Array.isArray(block.fields) ? block.fields.map(text) : []),
        ...(isObject(block.accessory) ? [renderElement(block.accessory)] : []),
      ];
    case "context":
      return [
        elements.map((e) => (isObject(e) && e.type === "image" ? renderElement(e) : text(e))).join(" · "),
      ];
    case "actions":
      return [elements.map((e) => (isObject(e) ? renderElement(e) : "")).join(" ")];
    case "context_actions":
      return [elements.map((e) => (isObject(e) ? renderElement(e) : "")).join(" ")];
    case "divider":
      return ["---"];
    case "markdown":
      return String(block.text ?? "").split("\n");
    case "rich_text":
      return elements.flatMap((e) => (isObject(e) ? renderRichText(e, nameOf) : []));
    case "input":
      return [`${text(block.label)}: ${isObject(block.element) ? renderElement(block.element) : ""}`];
    case "image":
      return [renderElement(block)];
    default:
      return [`[${String(block.type)} block]`];
  }
}

function renderElement(element: Json): string {
  const label = (value: unknown) => (isObject(value) ? String(value.text ?? "") : "");
  switch (element.type) {
    case "button":
      return `[${label(element.text)}]`;
    case "image":
      return `[image: ${String(element.alt_text ?? "")}]`;
    case "overflow":
      return "[...]";
    case "feedback_buttons":
      return "[👍][👎]";
    case "icon_button":
      return `[${label(element.text) || String(element.icon)}]`;
    default:
      return `[${label(element.placeholder) || String(element.type)} v]`;
  }
}

function renderText(value: unknown, nameOf: NameOf): string {
  if (!isObject(value)) return "";
  const text = String(value.text ?? "");
  return value.type === "mrkdwn" ? readable(text, nameOf) : text;
}

function renderRichText(element: Json, nameOf: NameOf): string[] {
  const children = Array.isArray(element.elements) ? element.elements.filter(isObject) : [];
  const inline = () => children.map((child) => renderInline(child, nameOf)).join("");
  switch (element.type) {
    case "rich_text_list": {
      const indent = "  ".repeat(Number(element.indent ?? 0));
      const start = Number(element.offset ?? 0);
      return children.map((item, index) => {
        const bullet = element.style === "ordered" ? `${start + index + 1}.` : "•";
        return `${indent}${bullet} ${renderRichText(item, nameOf).join(" ")}`;
      });
    }
    case "rich_text_preformatted":
      return ["```", ...inline().split("\n"), "```"];
    case "rich_text_quote":
      return inline()
        .split("\n")
        .map((line) => `> ${line}`);
    default:
      return inline().split("\n");
  }
}

function renderInline(element: Json, nameOf: NameOf): string {
  switch (element.type) {
    case "text":
      return String(element.text ?? "");
    case "link":
      return String(element.text ?? element.url ?? "");
    case "user":
      return `@${nameOf(String(element.user_id))}`;
    case "channel":
      return `#${String(element.channel_id)}`;
    case "emoji":
      return `:${String(element.name)}:`;
    case "broadcast":
      return `@${String(element.range)}`;
    case "usergroup":
      return `@${String(element.usergroup_id)}`;
    case "date":
      return String(element.fallback ?? element.timestamp);
    default:
      return String(element.value ?? element.team_id ?? "");
  }
}

/** mrkdwn as a person reads it: mentions and links resolved, Slack's three escapes decoded. */
function readable(text: string, nameOf: NameOf): string {
  return text
    .replace(/<([^>]*)>/g, (_match, inner: string) => {
      const [target = "", label] = inner.split("|");
      if (target.startsWith("@")) return `@${nameOf(target.slice(1))}`;
      if (label) return label;
      if (target.startsWith("!")) return `@${target.slice(1).split("^")[0]}`;
      return target;
    })
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}
