// What Slack remembers about conversations: messages per channel (with their edits), ephemerals, thread
// statuses. Handlers change it; the FakeSlack queries read it.

import { performance } from "node:perf_hooks";
import { validateMessage } from "../block-kit-limits.ts";
import type { EphemeralMessage, MessageVersion, ShownVersion, StatusUpdate, StoredMessage } from "./types.ts";
import { ApiFailure, type Args, failure, type Json, type Sequence, str, threadKey } from "./wire.ts";

export type MessageContent = { text?: string; blocks?: unknown[]; metadata?: unknown };

export class MessageStore {
  readonly #ids: Sequence;
  readonly #channels = new Map<string, StoredMessage[]>();
  readonly ephemeralList: EphemeralMessage[] = [];
  readonly #statuses = new Map<string, StatusUpdate[]>();
  readonly #shownStatus = new Map<string, string>();
  readonly #shown = new Map<StoredMessage, ShownVersion[]>();

  constructor(ids: Sequence) {
    this.#ids = ids;
  }

  // ---- reads ---------------------------------------------------------------------------------------

  /** Every message of a channel, deleted ones included, in ts order. */
  all(channel: string): StoredMessage[] {
    return this.#channels.get(channel) ?? [];
  }

  messages(channel: string): StoredMessage[] {
    return this.all(channel).filter((m) => !m.deleted);
  }

  thread(channel: string, threadTs: string): StoredMessage[] {
    return this.messages(channel).filter((m) => m.ts === threadTs || m.thread_ts === threadTs);
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.all(channel).find((m) => m.ts === ts);
  }

  /** A message that exists and is not deleted, or Slack's `message_not_found`. */
  existing(channel: string, ts: string): StoredMessage {
    const message = this.message(channel, ts);
    if (!message || message.deleted) throw failure("message_not_found");
    return message;
  }

  ephemerals(channel?: string, user?: string): EphemeralMessage[] {
    return this.ephemeralList.filter(
      (e) =>
        !e.deleted &&
        (channel === undefined || e.channel === channel) &&
        (user === undefined || e.user === user),
    );
  }

  statuses(channel: string, threadTs: string): StatusUpdate[] {
    return this.#statuses.get(threadKey(channel, threadTs)) ?? [];
  }

  currentStatus(channel: string, threadTs: string): string {
    return this.#shownStatus.get(threadKey(channel, threadTs)) ?? "";
  }

  // ---- writes --------------------------------------------------------------------------------------

  store(
    input: Omit<StoredMessage, "ts" | "edits" | "deleted" | "reactions" | "at">,
    via = "chat.postMessage",
  ): StoredMessage {
    const message: StoredMessage = {
      ...input,
      ts: this.#ids.nextTs(),
      edits: [],
      deleted: false,
      reactions: [],
      at: performance.now(),
    };
    const list = this.all(input.channel);
    list.push(message);
    this.#channels.set(input.channel, list);
    const root = input.thread_ts ? list.find((m) => m.ts === input.thread_ts) : undefined;
    if (root) root.thread_ts = root.ts;
    // Slack clears the thread's status indicator as soon as the app posts a reply there (a stream: only
    // once it has more than its start).
    if (input.thread_ts && input.bot_id && !input.stream) this.clearStatus(input.channel, input.thread_ts);
    this.recordShown(message, via);
    return message;
  }

  /** chat.update's effect: a new version, the old one kept in `edits`. */
  edit(message: StoredMessage, content: MessageContent, editor: string, via = "chat.update"): void {
    const previous = replaceContent(message, content);
    if (message.metadata !== undefined) previous.metadata = message.metadata;
    if (content.metadata !== undefined) message.metadata = content.metadata;
    message.edited = { user: editor, ts: this.#ids.nextTs() };
    this.recordShown(message, via);
  }

  /** Notes what a person sees of `message` from now on (or from `at`). */
  recordShown(message: StoredMessage, via: string, at = performance.now()): void {
    const versions = this.#shown.get(message) ?? [];
    versions.push({
      at,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks } : {}),
      via,
      ...(message.stream ? { stream: message.stream.state } : {}),
    });
    this.#shown.set(message, versions);
  }

  /** Every state of a message a person could see, oldest first. */
  shown(message: StoredMessage): ShownVersion[] {
    return this.#shown.get(message) ?? [];
  }

  addEphemeral(input: {
    channel?: string;
    user?: string;
    ts: string;
    thread_ts?: string;
    content: MessageContent;
    via: EphemeralMessage["via"];
  }): void {
    const { content, ...rest } = input;
    this.ephemeralList.push({
      ...rest,
      text: content.text ?? "",
      blocks: content.blocks,
      edits: [],
      deleted: false,
    });
  }

  setStatus(channel: string, threadTs: string, update: Omit<StatusUpdate, "at">): void {
    const key = threadKey(channel, threadTs);
    const history = this.#statuses.get(key) ?? [];
    history.push({ ...update, at: performance.now() });
    this.#statuses.set(key, history);
    this.#shownStatus.set(key, update.status);
  }

  /** What a reply posted by the app does to the status indicator under the thread. */
  clearStatus(channel: string, threadTs: string): void {
    this.#shownStatus.delete(threadKey(channel, threadTs));
  }

  // ---- wire format ---------------------------------------------------------------------------------

  /**
   * The message as the Web API shows it (chat.postMessage's `message`, conversations.replies/history).
   * Reads show `metadata` only when asked (`include_all_metadata`), like Slack.
   */
  wire(m: StoredMessage, context: { appId: string; teamId: string; metadata: boolean }): Json {
    const isReply = m.thread_ts !== undefined && m.thread_ts !== m.ts;
    const replies = m.thread_ts === m.ts ? this.thread(m.channel, m.ts).filter((r) => r !== m) : [];
    const replyUsers = [...new Set(replies.map((r) => r.user))];
    return {
      type: "message",
      ...(m.reply_broadcast ? { subtype: "thread_broadcast" } : {}),
      user: m.user,
      ...(m.bot_id ? { bot_id: m.bot_id, app_id: context.appId } : {}),
      text: m.text,
      blocks: m.blocks,
      ...(context.metadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
      ts: m.ts,
      team: context.teamId,
      thread_ts: m.thread_ts,
      edited: m.edited,
      ...(isReply ? { parent_user_id: this.message(m.channel, m.thread_ts ?? "")?.user } : {}),
      ...(replies.length > 0
        ? {
            reply_count: replies.length,
            reply_users: replyUsers,
            reply_users_count: replyUsers.length,
            latest_reply: replies.at(-1)?.ts,
          }
        : {}),
    };
  }
}

/** Validated message content; Slack refuses a message with nothing to show (`no_text`). */
export function messageContent(args: Args): MessageContent {
  const text = str(args, "text");
  const problem = validateMessage({ text, blocks: args.blocks, metadata: args.metadata });
  if (problem) throw new ApiFailure(problem);
  const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
  if (!text && !blocks?.length && args.attachments === undefined) throw failure("no_text");
  return { text, blocks, metadata: args.metadata };
}

/** Like chat.update: given fields replace the current ones (blocks: [] removes them), the rest is kept. */
export function replaceContent(
  target: StoredMessage | EphemeralMessage,
  content: MessageContent,
): MessageVersion {
  const previous: MessageVersion = { text: target.text, blocks: target.blocks, at: performance.now() };
  target.edits.push(previous);
  if (content.text !== undefined) target.text = content.text;
  if (content.blocks !== undefined) target.blocks = content.blocks.length > 0 ? content.blocks : undefined;
  return previous;
}

export function isEphemeral(message: StoredMessage | EphemeralMessage): message is EphemeralMessage {
  return "via" in message;
}
