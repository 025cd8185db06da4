import type { WebClient } from "@slack/web-api";
import type { z } from "zod";
import type { DraftingService } from "../../drafting/drafting-service.ts";
import type { Author } from "../../drafting/outcomes.ts";
import type { Logger } from "../../logger.ts";
import type { HomeTab } from "../home/home-tab.ts";
import type { SlackMessageStore } from "../message-store.ts";
import type { Poster } from "../poster.ts";
import type { SlackMessage } from "../render/blocks.ts";
import { slackErrorCode } from "../slack-errors.ts";
import type { SlackTelemetry } from "../telemetry.ts";
import type { UserNames } from "../user-names.ts";

/** What every listener needs; built once by app.ts. */
export interface ListenerDeps {
  drafting: DraftingService;
  /** What the Slack layer remembers of its messages (the live card's revision, for stale clicks). */
  messages: SlackMessageStore;
  /** Posts once per key, also for listeners' own messages (prompts, notes). */
  poster: Poster;
  names: UserNames;
  /** The App Home: who opened it, publishing it, and who may change the workspace's settings. */
  home: HomeTab;
  logger: Logger;
  /** Where listeners count what operators chart (feedback on cards). */
  telemetry: SlackTelemetry;
  botUserId: string;
  allowedChannelIds: ReadonlySet<string> | undefined;
  /**
   * Work to do after Slack has been answered. Event listeners answer Slack only once they return, so
   * everything but recording the message goes here.
   */
  later(what: string, work: () => Promise<unknown>): void;
}

/** Direct messages are personal: the channel allow-list does not apply to them. */
export function isDirectChannel(channelId: string, channelType?: string): boolean {
  return channelType === "im" || channelId.startsWith("D");
}

export function channelAllowed(deps: ListenerDeps, channelId: string, channelType?: string): boolean {
  if (!deps.allowedChannelIds || isDirectChannel(channelId, channelType)) return true;
  return deps.allowedChannelIds.has(channelId);
}

/** A person in a workspace (names are looked up with that workspace's token). */
export interface Person {
  teamId: string;
  userId: string;
}

export async function authorOf(deps: ListenerDeps, who: Person, hint?: string | null): Promise<Author> {
  return { id: who.userId, name: hint?.trim() || (await deps.names.nameOf(who.teamId, who.userId)) };
}

/**
 * The author of a message, without waiting: the message must be recorded in the order it
 * arrived, before any Slack call. An unknown name is looked up afterwards (see `fillAuthorName`).
 */
export function authorNow(deps: ListenerDeps, who: Person, hint?: string | null): Author {
  return { id: who.userId, name: hint?.trim() || deps.names.cached(who.teamId, who.userId) };
}

/** Looks up a missing name after the turn is safely recorded, for attribution when turns merge. */
export function fillAuthorName(deps: ListenerDeps, teamId: string, turnId: number, author: Author): void {
  if (author.name) return;
  deps.names
    .nameOf(teamId, author.id)
    .then((name) => (name ? deps.drafting.noteAuthorName(turnId, name) : undefined))
    .catch((error: unknown) => deps.logger.debug({ err: (error as Error).message }, "users.name_not_saved"));
}

/** Says something to one person, quietly. Never throws: a lost hint must not break a listener. */
export async function tellUser(
  client: WebClient,
  deps: ListenerDeps,
  where: { channel: string; user: string; threadTs?: string | undefined },
  message: string | SlackMessage,
): Promise<void> {
  const content = typeof message === "string" ? { text: message } : message;
  try {
    await client.chat.postEphemeral({
      channel: where.channel,
      user: where.user,
      ...(content as { text: string }),
      ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
    });
  } catch (error) {
    deps.logger.warn({ channel: where.channel, err: (error as Error).message }, "slack.ephemeral_failed");
  }
}

/**
 * Posts in a thread, once for `key` (a lost answer is looked up, never posted twice); returns the
 * message's ts, or undefined (logged) when Slack refused.
 */
export async function postInThread(
  deps: ListenerDeps,
  key: string,
  where: { teamId: string; channelId: string; threadTs: string; threadId?: number },
  message: SlackMessage,
): Promise<string | undefined> {
  try {
    return await deps.poster.post(
      key,
      {
        teamId: where.teamId,
        threadId: where.threadId ?? 0,
        channel: where.channelId,
        threadTs: where.threadTs,
      },
      message,
    );
  } catch (error) {
    deps.logger.warn({ channel: where.channelId, key, err: slackErrorCode(error) }, "slack.post_failed");
    return undefined;
  }
}

/**
 * Reads the fields a listener needs from a Slack payload. A payload that does not fit is logged
 * (`<what>.malformed`, with where it failed, never the content) and yields undefined.
 */
export function readPayload<T>(
  deps: ListenerDeps,
  what: string,
  schema: z.ZodType<T>,
  payload: unknown,
): T | undefined {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  deps.logger.warn(
    { problems: parsed.error.issues.slice(0, 3).map((i) => i.path.join(".")) },
    `${what}.malformed`,
  );
  return undefined;
}
