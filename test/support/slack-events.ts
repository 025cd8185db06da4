// Events as Slack builds them: app_mention and message events with the rich_text blocks Slack adds,
// channel types, escapes and unique timestamps.

import { randomBytes, randomUUID } from "node:crypto";

export interface MessageEventInput {
  channel: string;
  /** As Slack sends it: `&`, `<`, `>` escaped, mentions as `<@U123>`. */
  text: string;
  user?: string;
  /** Default: a fresh ts. Pass the ts of a message stored in the fake to keep both coherent. */
  ts?: string;
  thread_ts?: string;
  subtype?: string;
  bot_id?: string;
  /** Default from the channel id: C -> channel, G -> group, D -> im. */
  channel_type?: string;
  team?: string;
  parent_user_id?: string;
  /** Any other field, e.g. `message` / `previous_message` for subtype message_changed. */
  [field: string]: unknown;
}

export interface AppMentionEventInput {
  user: string;
  channel: string;
  /** The text after the mention; `<@botUserId> ` is prepended unless the text already mentions the bot. */
  text: string;
  ts?: string;
  thread_ts?: string;
  botUserId?: string;
  team?: string;
}

/** An `app_mention` event as Slack sends it: mention in the text, rich_text blocks, client_msg_id. */
export function appMentionEvent(input: AppMentionEventInput): Record<string, unknown> {
  const botUserId = input.botUserId ?? "U0BOT";
  const mention = `<@${botUserId}>`;
  const text = input.text.includes(mention) ? input.text : `${mention} ${input.text}`;
  const ts = input.ts ?? nextEventTs();
  return {
    type: "app_mention",
    user: input.user,
    text,
    ts,
    client_msg_id: randomUUID(),
    team: input.team ?? "T0TEAM",
    blocks: richTextBlocks(text),
    channel: input.channel,
    event_ts: ts,
    ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
  };
}

/** A `message` event (message.channels / .groups / .im); bot messages carry bot_id and no client_msg_id. */
export function messageEvent(input: MessageEventInput): Record<string, unknown> {
  const { channel, text, user, ts = nextEventTs(), subtype, bot_id, channel_type, team, ...extra } = input;
  return {
    type: "message",
    ...(subtype ? { subtype } : {}),
    ...(user ? { user } : {}),
    ...(bot_id ? { bot_id, app_id: "A0APP" } : { client_msg_id: randomUUID() }),
    text,
    ts,
    team: team ?? "T0TEAM",
    blocks: richTextBlocks(text),
    channel,
    event_ts: ts,
    channel_type: channel_type ?? channelType(channel),
    ...extra,
  };
}

function channelType(channel: string): string {
  if (channel.startsWith("D")) return "im";
  return channel.startsWith("G") ? "group" : "channel";
}

/** The rich_text block Slack attaches to typed messages: mentions, links and plain text runs. */
function richTextBlocks(text: string): unknown[] {
  const elements: unknown[] = [];
  let last = 0;
  for (const match of text.matchAll(/<([^>|]+)(?:\|([^>]*))?>/g)) {
    if (match.index > last)
      elements.push({ type: "text", text: decodeSlackEscapes(text.slice(last, match.index)) });
    elements.push(richTextEntity(match[1] ?? "", match[2]));
    last = match.index + match[0].length;
  }
  if (last < text.length) elements.push({ type: "text", text: decodeSlackEscapes(text.slice(last)) });
  return [
    { type: "rich_text", block_id: randomBlockId(), elements: [{ type: "rich_text_section", elements }] },
  ];
}

function richTextEntity(target: string, label: string | undefined): Record<string, unknown> {
  if (target.startsWith("@")) return { type: "user", user_id: target.slice(1) };
  if (target.startsWith("#")) return { type: "channel", channel_id: target.slice(1) };
  if (target.startsWith("!")) return { type: "broadcast", range: target.slice(1) };
  return { type: "link", url: target, ...(label ? { text: label } : {}) };
}

/** Slack escapes exactly these three in message text; rich_text holds the raw characters. */
function decodeSlackEscapes(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

let eventTsCounter = 0;

/** Unique "seconds.micros" timestamps for events built without an explicit ts. */
function nextEventTs(): string {
  eventTsCounter += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(eventTsCounter % 1_000_000).padStart(6, "0")}`;
}

export function randomBlockId(): string {
  return randomBytes(3).toString("base64url");
}
