// chat.startStream / chat.appendStream / chat.stopStream: a reply written into the thread as it is made.
//
// Rules (slack-notes.md "Streaming a reply"): a channel stream (not a DM, ids starting with D) needs
// recipient_user_id and recipient_team_id; markdown_text (or the markdown_text chunks of one call) up to
// 12,000 characters, and the whole streamed text up to 12,000 too (`msg_too_long`, nothing appended); a stream
// older than streamMaxAgeMs (5 minutes) or stopped answers `message_not_in_streaming_state`; chat.update on a
// message still streaming answers `streaming_state_conflict` (observed on Slack, undocumented), and works once
// it stopped or expired. The first append or the stop clears the thread's status like a posted reply does.

import { performance } from "node:perf_hooks";
import { BLOCK_KIT_LIMITS, validateMessage } from "../block-kit-limits.ts";
import { type FakeContext, type MethodTable, wireMessage } from "./context.ts";
import type { StoredMessage } from "./types.ts";
import {
  ApiFailure,
  type Args,
  failure,
  isObject,
  type Json,
  missingArgument,
  requireChannel,
  required,
  str,
} from "./wire.ts";
import type { Workspace } from "./workspaces.ts";

export const STREAM_METHODS = ["chat.startStream", "chat.appendStream", "chat.stopStream"] as const;
export const DEFAULT_STREAM_MAX_AGE_MS = 5 * 60_000;

export interface StreamTimes {
  maxAgeMs: number;
  idleMs?: number;
}

export class Streams {
  readonly #context: FakeContext;
  readonly #times: StreamTimes;
  #disabled: string | undefined;

  constructor(context: FakeContext, times: StreamTimes) {
    this.#context = context;
    this.#times = times;
  }

  /** Makes the three streaming methods answer `error` (e.g. unknown_method, not_allowed); undefined restores them. */
  disable(error: string | undefined): void {
    this.#disabled = error;
  }

  /** Whether `message` is a stream still accepting appends; marks it expired once it is too old or idle. */
  isStreaming(message: StoredMessage, now = performance.now()): boolean {
    const stream = message.stream;
    if (stream?.state !== "streaming") return false;
    const ageEnd = stream.startedAt + this.#times.maxAgeMs;
    const idleEnd = this.#times.idleMs === undefined ? Infinity : stream.lastActivityAt + this.#times.idleMs;
    const end = Math.min(ageEnd, idleEnd);
    if (now < end) return true;
    stream.state = "expired";
    this.#context.store.recordShown(message, "expiry", end);
    return false;
  }

  methods(): MethodTable {
    return [
      ["chat.startStream", (args, caller) => this.#start(args, caller)],
      ["chat.appendStream", (args, caller) => this.#append(args, caller)],
      ["chat.stopStream", (args, caller) => this.#stop(args, caller)],
    ];
  }

  #start(args: Args, caller: Workspace): Json {
    this.#checkEnabled();
    const channel = requireChannel(args);
    const threadTs = required(args, "thread_ts");
    const recipientUser = str(args, "recipient_user_id");
    const recipientTeam = str(args, "recipient_team_id");
    if (!channel.startsWith("D")) {
      if (!recipientTeam) throw failure("missing_recipient_team_id");
      if (!recipientUser) throw failure("missing_recipient_user_id");
    }
    const delta = streamDelta(args, false);
    checkTotal("", delta.text);
    const now = performance.now();
    const message = this.#context.store.store(
      {
        channel,
        thread_ts: threadTs,
        user: caller.botUserId,
        bot_id: caller.botId,
        text: delta.text,
        stream: {
          state: "streaming",
          ...(recipientUser ? { recipient_user_id: recipientUser } : {}),
          ...(recipientTeam ? { recipient_team_id: recipientTeam } : {}),
          chunks: delta.chunks,
          appends: 0,
          startedAt: now,
          lastActivityAt: now,
        },
      },
      "chat.startStream",
    );
    return { ok: true, channel, ts: message.ts };
  }

  #append(args: Args, caller: Workspace): Json {
    this.#checkEnabled();
    const message = this.#streaming(args, caller);
    const delta = streamDelta(args, true);
    checkTotal(message.text, delta.text);
    this.#write(message, delta, "chat.appendStream");
    return { ok: true, channel: message.channel, ts: message.ts };
  }

  #stop(args: Args, caller: Workspace): Json {
    this.#checkEnabled();
    const message = this.#streaming(args, caller);
    const delta = streamDelta(args, false);
    checkTotal(message.text, delta.text);
    const problem = validateMessage({ blocks: args.blocks, metadata: args.metadata });
    if (problem) throw new ApiFailure(problem);
    if (Array.isArray(args.blocks) && args.blocks.length > 0) message.blocks = args.blocks;
    if (args.metadata !== undefined) message.metadata = args.metadata;
    if (message.stream) message.stream.state = "stopped";
    this.#write(message, delta, "chat.stopStream");
    return {
      ok: true,
      channel: message.channel,
      ts: message.ts,
      message: wireMessage(this.#context, message, caller),
    };
  }

  #checkEnabled(): void {
    if (this.#disabled) throw failure(this.#disabled);
  }

  /** The stream a call names, if it still accepts appends. */
  #streaming(args: Args, caller: Workspace): StoredMessage {
    const channel = requireChannel(args);
    const message = this.#context.store.message(channel, required(args, "ts"));
    if (!message || message.deleted) throw failure("message_not_found");
    if (message.user !== caller.botUserId) throw failure("message_not_owned_by_app");
    if (!this.isStreaming(message)) throw failure("message_not_in_streaming_state");
    return message;
  }

  #write(message: StoredMessage, delta: StreamDelta, via: string): void {
    const stream = message.stream;
    if (!stream) return;
    message.text += delta.text;
    stream.chunks.push(...delta.chunks);
    stream.lastActivityAt = performance.now();
    if (via === "chat.appendStream") stream.appends += 1;
    // The first append (or the stop) clears the thread's status, like a posted reply; later appends do not.
    const clears = via === "chat.stopStream" || stream.appends === 1;
    if (clears && message.thread_ts) this.#context.store.clearStatus(message.channel, message.thread_ts);
    this.#context.store.recordShown(message, via);
  }
}

interface StreamDelta {
  /** The markdown text this call adds. */
  text: string;
  /** Chunks of other types, kept as sent. */
  chunks: unknown[];
}

/** What one call adds: `markdown_text`, or `chunks` whose markdown_text chunks are text. */
function streamDelta(args: Args, required: boolean): StreamDelta {
  const markdown = str(args, "markdown_text");
  const chunks = args.chunks;
  if (markdown === undefined && chunks === undefined) {
    if (required) throw missingArgument("markdown_text");
    return { text: "", chunks: [] };
  }
  const delta: StreamDelta = { text: markdown ?? "", chunks: [] };
  if (chunks !== undefined) {
    if (!Array.isArray(chunks)) throw invalidChunk("/chunks", "must provide an array");
    chunks.forEach((chunk, index) => {
      const at = `/chunks/${index}`;
      if (!isObject(chunk) || typeof chunk.type !== "string")
        throw invalidChunk(`${at}/type`, "missing type");
      if (chunk.type !== "markdown_text") delta.chunks.push(chunk);
      else if (typeof chunk.text !== "string") throw invalidChunk(`${at}/text`, "must provide a string");
      else delta.text += chunk.text;
    });
  }
  if (delta.text.length > BLOCK_KIT_LIMITS.streamMarkdownText) {
    throw failure("msg_too_long", [
      `[ERROR] markdown_text must be less than ${BLOCK_KIT_LIMITS.streamMarkdownText + 1} characters (got ${delta.text.length}) [json-pointer:/markdown_text]`,
    ]);
  }
  return delta;
}

function checkTotal(before: string, added: string): void {
  const total = before.length + added.length;
  if (total > BLOCK_KIT_LIMITS.streamTotalText) {
    throw failure("msg_too_long", [
      `[ERROR] a streamed message must be less than ${BLOCK_KIT_LIMITS.streamTotalText + 1} characters (would be ${total})`,
    ]);
  }
}

function invalidChunk(pointer: string, message: string): ApiFailure {
  return failure("invalid_arguments", [`[ERROR] ${message} [json-pointer:${pointer}]`]);
}
