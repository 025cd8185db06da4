import type { WebClient } from "@slack/web-api";
import { type Clock, sleep } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { SlackMessageStore } from "./message-store.ts";
import type { SlackMessage } from "./render/blocks.ts";
import { classifySlackError, slackErrorCode } from "./slack-errors.ts";

/**
 * Posts that happen once. Every post has a key of ours, recorded before the call and carried in the
 * message's metadata. When Slack's answer is lost (a 5xx after it stored the message, a dropped
 * connection, a crash before the record), the next attempt looks for the key in the thread and adopts
 * the message it finds instead of posting a second copy. Updates are retried the same way (an update
 * is idempotent). The Web API client must not retry on its own (retries: 0, rejectRateLimitedCalls).
 */
export interface PostTarget {
  teamId: string;
  /** Our thread id (0 when the message belongs to no thread of ours yet). */
  threadId: number;
  channel: string;
  /** The thread to post in; absent for a message at the channel's top level. */
  threadTs?: string | undefined;
}

export interface Poster {
  /** Posts `message` once for `key`; answers its ts (a new message, or the one an earlier attempt left). */
  post(key: string, target: PostTarget, message: SlackMessage): Promise<string>;
  /** Edits a message. */
  update(teamId: string, channel: string, ts: string, message: SlackMessage): Promise<void>;
  /** Shows `message` as the message `key`: edits it when it was posted, else posts it. */
  show(key: string, target: PostTarget, message: SlackMessage): Promise<string>;
}

export interface SlackClients {
  /** The Web API client for a workspace (one bot token, or that workspace's installation). */
  forTeam(teamId: string): Promise<WebClient>;
}

/** Our metadata type: the key of the post, nothing else (metadata is visible to the workspace). */
export const POST_METADATA_TYPE = "puffle_drafter_post";

const MAX_ATTEMPTS = 4;
const BACKOFF_MS = [200, 1000, 3000];
/** Pages of a thread read when looking for a lost post (200 messages each). */
const LOOKUP_PAGES = 5;

export function createPoster(options: {
  clients: SlackClients;
  messages: SlackMessageStore;
  clock: Clock;
  logger: Logger;
}): Poster {
  const { clients, messages, clock, logger } = options;

  async function find(client: WebClient, target: PostTarget, key: string): Promise<string | undefined> {
    let cursor: string | undefined;
    for (let page = 0; page < LOOKUP_PAGES; page++) {
      const answer = target.threadTs
        ? await withRetries(`conversations.replies`, () =>
            client.conversations.replies({
              channel: target.channel,
              ts: target.threadTs ?? "",
              include_all_metadata: true,
              limit: 200,
              ...(cursor ? { cursor } : {}),
            }),
          )
        : await withRetries(`conversations.history`, () =>
            client.conversations.history({
              channel: target.channel,
              include_all_metadata: true,
              limit: 200,
              ...(cursor ? { cursor } : {}),
            }),
          );
      const found = (answer.messages ?? []).find((message) => {
        const metadata = message.metadata as
          | { event_type?: string; event_payload?: { key?: unknown } }
          | undefined;
        return metadata?.event_type === POST_METADATA_TYPE && metadata.event_payload?.key === key;
      });
      if (found?.ts) return found.ts;
      cursor = answer.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /** Runs an idempotent call, waiting out rate limits and retrying lost answers. */
  async function withRetries<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const failure = classifySlackError(error);
        if (failure.kind === "refused" || attempt >= MAX_ATTEMPTS) throw error;
        const waitMs =
          failure.kind === "rate_limited" ? failure.retryAfterMs : (BACKOFF_MS[attempt - 1] ?? 3000);
        logger.warn({ what, code: failure.code, attempt, waitMs }, "slack.call_retry");
        await sleep(clock, waitMs);
      }
    }
  }

  async function post(key: string, target: PostTarget, message: SlackMessage): Promise<string> {
    const client = await clients.forTeam(target.teamId);
    for (let attempt = 1; ; attempt++) {
      const state = await messages.beginPost(key, target.threadId, clock.now());
      if (state.state === "posted") return state.ts;
      if (state.state === "uncertain") {
        const ts = await find(client, target, key);
        if (ts) {
          await messages.completePost(key, ts);
          logger.info({ key, channel: target.channel, ts }, "slack.post_adopted");
          return ts;
        }
      }
      try {
        const answer = await client.chat.postMessage({
          channel: target.channel,
          ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
          text: message.text,
          blocks: message.blocks,
          metadata: { event_type: POST_METADATA_TYPE, event_payload: { key } },
          unfurl_links: false,
          unfurl_media: false,
        });
        if (!answer.ts) throw new Error("chat.postMessage answered without a ts");
        await messages.completePost(key, answer.ts);
        return answer.ts;
      } catch (error) {
        const failure = classifySlackError(error);
        if (failure.kind === "refused" || attempt >= MAX_ATTEMPTS) throw error;
        // Rate limited: nothing was stored. A lost answer: the next attempt looks before posting.
        const waitMs =
          failure.kind === "rate_limited" ? failure.retryAfterMs : (BACKOFF_MS[attempt - 1] ?? 3000);
        logger.warn(
          { key, channel: target.channel, code: slackErrorCode(error), attempt, waitMs },
          "slack.post_retry",
        );
        await sleep(clock, waitMs);
      }
    }
  }

  async function update(teamId: string, channel: string, ts: string, message: SlackMessage): Promise<void> {
    const client = await clients.forTeam(teamId);
    await withRetries("chat.update", () =>
      client.chat.update({ channel, ts, text: message.text, blocks: message.blocks }),
    );
  }

  return {
    post,
    update,
    async show(key, target, message) {
      const ts = await messages.postedTs(key);
      if (!ts) return post(key, target, message);
      await update(target.teamId, target.channel, ts, message);
      return ts;
    },
  };
}
