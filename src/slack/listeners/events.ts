import type { App } from "@slack/bolt";
import { z } from "zod";
import type { ThreadRef } from "../../drafting/store.ts";
import { renderNoBrief, renderStepPrompt } from "../render/prompts.ts";
import { decodeIncoming } from "../text.ts";
import {
  authorNow,
  channelAllowed,
  fillAuthorName,
  isDirectChannel,
  type ListenerDeps,
  postInThread,
  readPayload,
} from "./deps.ts";

/**
 * Messages and mentions. Slack delivers every message of every channel the bot is in, so the
 * filters run first and cost nothing: no API call happens before we know the message is ours.
 */

/** The fields we read from a message or app_mention event; anything else is ignored. */
const MessageEventSchema = z.looseObject({
  type: z.string(),
  subtype: z.string().optional(),
  channel: z.string().min(1),
  channel_type: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z.string().min(1),
  thread_ts: z.string().optional(),
  user_profile: z
    .looseObject({ display_name: z.string().optional(), real_name: z.string().optional() })
    .optional(),
});
type MessageEvent = z.infer<typeof MessageEventSchema>;

/**
 * Human messages with these subtypes still carry a person's words (a reply also sent to the
 * channel, a message with a file). Edits, deletions, joins and the rest are not turns.
 */
const HUMAN_SUBTYPES = new Set(["thread_broadcast", "file_share"]);

/** `//` at the start: a side remark between teammates, not for Puffle. */
const SIDE_REMARK = /^\/\//;

export function registerEventListeners(app: App, deps: ListenerDeps): void {
  app.event("app_mention", async ({ event, body }) => {
    await onMessage(deps, { raw: event, envelope: body, isMention: true });
  });
  app.event("message", async ({ event, body }) => {
    await onMessage(deps, { raw: event, envelope: body, isMention: false });
  });
}

const EnvelopeSchema = z.looseObject({ event_id: z.string().optional(), team_id: z.string().min(1) });

/**
 * Runs before Slack is told the event was received: everything awaited here is local (filters and
 * store writes), so the answer stays fast, and a crash after the answer loses nothing. Every Slack
 * call goes to `deps.later`.
 */
async function onMessage(
  deps: ListenerDeps,
  input: { raw: unknown; envelope: unknown; isMention: boolean },
): Promise<void> {
  const event = readPayload(deps, "event", MessageEventSchema, input.raw);
  const envelope = event && readPayload(deps, "event", EnvelopeSchema, input.envelope);
  if (!event || !envelope) return;
  if (!isHumanMessage(deps, event)) return;
  if (!channelAllowed(deps, event.channel, event.channel_type)) return;

  const direct = isDirectChannel(event.channel, event.channel_type);
  const inThread = Boolean(event.thread_ts && event.thread_ts !== event.ts);
  const ref: ThreadRef = {
    teamId: envelope.team_id,
    channelId: event.channel,
    threadTs: event.thread_ts ?? event.ts,
  };
  const text = decodeIncoming(event.text ?? "", { botUserId: deps.botUserId });
  if (SIDE_REMARK.test(text)) return;

  // The same human message can arrive as app_mention and as message, and Slack retries: both
  // keys are claimed with the turn, in one transaction.
  const dedupeKeys = [
    ...(envelope.event_id ? [`event:${envelope.event_id}`] : []),
    `msg:${event.channel}:${event.ts}`,
  ];
  const log = deps.logger.child({ channel: event.channel, threadTs: ref.threadTs, ts: event.ts });
  const mapped = await deps.drafting.findThread(ref);
  // Either copy of a mention may be the only one that arrives: the message copy starts a draft too.
  const mentionsUs = input.isMention || mentions(event.text, deps.botUserId);
  const startsDraft = !mapped && (mentionsUs || (direct && !inThread));
  if (!mapped && !startsDraft) return; // a thread we do not own, or channel chatter
  const user = event.user ?? "";

  if (!text) {
    if (startsDraft && (await deps.drafting.claimDelivery(dedupeKeys))) {
      deps.later("event.no_brief", () =>
        postInThread(deps, `nobrief:${event.channel}:${event.ts}`, ref, renderNoBrief()),
      );
    }
    return;
  }

  const author = authorNow(
    deps,
    { teamId: ref.teamId, userId: user },
    event.user_profile?.display_name || event.user_profile?.real_name,
  );
  if (mapped) {
    const result = await deps.drafting.submitMessage({
      thread: ref,
      author,
      text,
      slackTs: event.ts,
      dedupeKeys,
    });
    if (result.status === "accepted") fillAuthorName(deps, ref.teamId, result.turn.id, author);
    log.info({ result: result.status, mention: input.isMention }, "event.turn");
    return;
  }

  const step = await deps.drafting.resolveStep({
    teamId: ref.teamId,
    channelId: ref.channelId,
    userId: user,
    isDirect: direct,
  });
  const started = await deps.drafting.startDraft({
    thread: ref,
    step,
    author,
    text,
    slackTs: event.ts,
    dedupeKeys,
  });
  log.info(
    { result: started.status, source: step?.source ?? null, mention: input.isMention },
    "event.draft_started",
  );
  if (started.status === "accepted" || started.status === "needs_step")
    fillAuthorName(deps, ref.teamId, started.turn.id, author);
  if (started.status === "needs_step") {
    const threadId = started.thread.id;
    deps.later("event.step_prompt", () =>
      postInThread(deps, `prompt:${threadId}`, { ...ref, threadId }, renderStepPrompt({ threadId })),
    );
  } else if (started.status === "exists") {
    // Another delivery created the thread a moment ago: this message is its next turn.
    await deps.drafting.submitMessage({ thread: ref, author, text, slackTs: event.ts, dedupeKeys });
  }
}

/** Does the raw Slack text mention the bot (`<@U123>` or `<@U123|name>`)? */
function mentions(text: string | undefined, botUserId: string): boolean {
  return Boolean(text && botUserId && (text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`)));
}

function isHumanMessage(deps: ListenerDeps, event: MessageEvent): boolean {
  if (event.subtype && !HUMAN_SUBTYPES.has(event.subtype)) return false;
  if (event.bot_id || !event.user || event.user === deps.botUserId) return false;
  return true;
}
