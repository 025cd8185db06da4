import type { Clock, TimerHandle } from "../clock.ts";
import type { Author, Fence } from "../drafting/outcomes.ts";
import type { ThreadRecord } from "../drafting/store.ts";
import type { Logger } from "../logger.ts";
import type { SlackMessageStore } from "./message-store.ts";
import type { Poster, SlackClients } from "./poster.ts";
import { renderReply } from "./render/status.ts";
import { classifySlackError, slackErrorCode } from "./slack-errors.ts";
import { escapeMrkdwn } from "./text.ts";

/**
 * The reply streamed into the thread as Puffle writes it (chat.startStream / appendStream /
 * stopStream). Appends are batched (every 300 ms or 200 characters). A stream is finished, or
 * rotated into a new one, before Slack's 5-minute limit. Any failure ends streaming for that turn:
 * the reply is then shown by the status-message path, exactly once. The session stays the source of
 * truth: when the task ends, the stream is finished with the session's text where they differ.
 */
export interface StreamWriter {
  /** A text delta for the batch `key`; the first one starts the stream. */
  text(thread: ThreadRecord, key: string, recipient: Author, delta: string, fence: Fence): Promise<void>;
  /** Whether this batch's reply is being shown by a stream (here, or by the replica before). */
  active(key: string): Promise<boolean>;
  /**
   * Ends the batch's stream with the session's reply. Answers false when nothing was streamed (the
   * caller shows the reply its usual way), true when the reply is shown in the stream's message.
   */
  finish(thread: ThreadRecord, key: string, replies: string[], fence: Fence): Promise<boolean>;
  close(): void;
}

interface Stream {
  ts: string | undefined;
  starting: Promise<void> | undefined;
  /** Escaped markdown already sent. */
  sent: string;
  buffer: string;
  startedAt: number;
  lastFlushAt: number;
  timer: TimerHandle | undefined;
  failed: boolean;
  /** Earlier messages of a stream rotated before Slack's limit. */
  earlier: string[];
  /** Whom the stream is for (Slack needs it in channels): the person who wrote the turn. */
  recipient: Author;
}

const FLUSH_CHARS = 200;
const FLUSH_MS = 300;
/** Slack stops accepting appends after about 5 minutes: rotate well before. */
const ROTATE_AFTER_MS = 4 * 60 * 1000;
/** chat.startStream / appendStream take at most this much markdown per call. */
const MAX_CALL_CHARS = 12_000;

export function createStreamWriter(options: {
  clients: SlackClients;
  poster: Poster;
  messages: SlackMessageStore;
  clock: Clock;
  logger: Logger;
  /** Runs work in the thread's queue (appends stay in order with everything else shown). */
  run: (threadId: number, what: string, work: () => Promise<void>) => Promise<void>;
  onFallback?: (reason: string) => void;
}): StreamWriter {
  const { clients, poster, messages, clock, logger } = options;
  const streams = new Map<string, Stream>();

  function fail(stream: Stream, key: string, error: unknown) {
    if (stream.failed) return;
    stream.failed = true;
    if (stream.timer !== undefined) clock.clearTimeout(stream.timer);
    const reason = slackErrorCode(error);
    logger.warn({ key, err: reason }, "slack.stream_fallback");
    options.onFallback?.(reason);
  }

  async function start(thread: ThreadRecord, key: string, stream: Stream, recipient: Author) {
    const client = await clients.forTeam(thread.teamId);
    const text = stream.buffer.slice(0, MAX_CALL_CHARS);
    const answer = await client.chat.startStream({
      channel: thread.channelId,
      thread_ts: thread.threadTs,
      markdown_text: text,
      recipient_user_id: recipient.id,
      recipient_team_id: thread.teamId,
    });
    if (!answer.ts) throw new Error("chat.startStream answered without a ts");
    stream.ts = answer.ts;
    stream.sent = text;
    stream.buffer = stream.buffer.slice(text.length);
    stream.startedAt = clock.now();
    stream.lastFlushAt = clock.now();
    // Recorded under the batch's key: a replica taking the thread over finishes this message.
    await messages.beginPost(key, thread.id, clock.now());
    await messages.completePost(key, answer.ts);
  }

  async function flush(thread: ThreadRecord, key: string, stream: Stream, fence: Fence) {
    stream.timer = undefined;
    if (stream.failed || !stream.ts || !stream.buffer) return;
    fence.assertHeld();
    const client = await clients.forTeam(thread.teamId);
    if (clock.now() - stream.startedAt >= ROTATE_AFTER_MS) {
      // Close this one and go on in a new message.
      await client.chat.stopStream({ channel: thread.channelId, ts: stream.ts });
      stream.earlier.push(stream.ts);
      stream.ts = undefined;
      await start(thread, `${key}:${stream.earlier.length}`, stream, stream.recipient);
      return;
    }
    const text = stream.buffer.slice(0, MAX_CALL_CHARS);
    await client.chat.appendStream({ channel: thread.channelId, ts: stream.ts, markdown_text: text });
    stream.sent += text;
    stream.buffer = stream.buffer.slice(text.length);
    stream.lastFlushAt = clock.now();
  }

  function schedule(thread: ThreadRecord, key: string, stream: Stream, fence: Fence) {
    if (stream.timer !== undefined || stream.failed) return;
    const wait =
      stream.buffer.length >= FLUSH_CHARS ? 0 : Math.max(0, stream.lastFlushAt + FLUSH_MS - clock.now());
    stream.timer = clock.setTimeout(() => {
      void options.run(thread.id, "stream.append", () =>
        flush(thread, key, stream, fence).catch((error: unknown) => {
          if (error instanceof Error && error.name === "LeaseLostError") throw error;
          fail(stream, key, error);
        }),
      );
    }, wait);
  }

  return {
    async text(thread, key, recipient, delta, fence) {
      let stream = streams.get(key);
      if (!stream) {
        // Another replica began this reply's stream (a takeover): its message is finished at the end.
        if (await messages.postedTs(key)) return;
        stream = {
          ts: undefined,
          starting: undefined,
          sent: "",
          buffer: "",
          startedAt: 0,
          lastFlushAt: 0,
          timer: undefined,
          failed: false,
          earlier: [],
          recipient,
        };
        streams.set(key, stream);
      }
      if (stream.failed) return;
      stream.buffer += escapeMrkdwn(delta);
      if (!stream.ts) {
        if (stream.starting) return;
        fence.assertHeld();
        const current = stream;
        current.starting = start(thread, key, current, recipient).catch((error: unknown) =>
          fail(current, key, error),
        );
        await current.starting;
        current.starting = undefined;
        if (current.buffer) schedule(thread, key, current, fence);
        return;
      }
      schedule(thread, key, stream, fence);
    },

    async active(key) {
      const stream = streams.get(key);
      if (stream) return !stream.failed && stream.ts !== undefined;
      return (await messages.postedTs(key)) !== undefined;
    },

    async finish(thread, key, replies, fence) {
      const stream = streams.get(key);
      streams.delete(key);
      if (stream?.timer !== undefined) clock.clearTimeout(stream.timer);
      const ts = stream?.ts ?? (stream ? undefined : await messages.postedTs(key));
      if (!ts) return false;
      fence.assertHeld();
      const client = await clients.forTeam(thread.teamId);
      const full = escapeMrkdwn(replies.join("\n\n"));
      const sent = stream && !stream.failed ? stream.sent : undefined;
      const rest = sent !== undefined && full.startsWith(sent) ? full.slice(sent.length) : undefined;
      if (rest !== undefined && rest.length <= MAX_CALL_CHARS && !stream?.earlier.length) {
        try {
          await client.chat.stopStream({
            channel: thread.channelId,
            ts,
            ...(rest ? { markdown_text: rest } : {}),
          });
          return true;
        } catch (error) {
          logger.warn({ key, err: slackErrorCode(error) }, "slack.stream_stop_failed");
        }
      } else {
        try {
          await client.chat.stopStream({ channel: thread.channelId, ts });
        } catch (error) {
          // Already stopped or expired: the message can still be updated.
          if (classifySlackError(error).kind !== "refused") throw error;
        }
      }
      // What was streamed differs from the session (or the stream broke): the message shows the session's reply.
      const [first, ...more] = renderReply(replies);
      if (first) await poster.update(thread.teamId, thread.channelId, stream?.earlier[0] ?? ts, first);
      for (const [index, part] of more.entries())
        await poster.post(
          `${key}:part:${index + 1}`,
          {
            teamId: thread.teamId,
            threadId: thread.id,
            channel: thread.channelId,
            threadTs: thread.threadTs,
          },
          part,
        );
      for (const later of [...(stream?.earlier.slice(1) ?? []), ...(stream?.earlier.length ? [ts] : [])])
        await poster.update(thread.teamId, thread.channelId, later, {
          text: "(the reply continues above)",
          blocks: [],
        });
      return true;
    },

    close() {
      for (const stream of streams.values()) if (stream.timer !== undefined) clock.clearTimeout(stream.timer);
      streams.clear();
    },
  };
}
