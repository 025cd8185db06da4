import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import type { Author } from "../../drafting/outcomes.ts";
import type { ThreadRecord, ThreadRef } from "../../drafting/store.ts";
import { parseCardButtonValue } from "../ids.ts";
import { decodeMetadata, encodeMetadata } from "../render/modal-metadata.ts";
import { authorOf, type ListenerDeps, tellUser } from "./deps.ts";

/**
 * Clicks on a draft card and the forms it opens: the fields of a block_actions payload we use, where
 * the click happened, whether it came from the thread's latest card, and sending what someone wrote
 * in a card's form as the next turn.
 */

export const BlockActionSchema = z.looseObject({
  trigger_id: z.string().min(1),
  user: z.looseObject({ id: z.string().min(1) }),
  team: z.looseObject({ id: z.string().min(1) }).nullish(),
  channel: z.looseObject({ id: z.string().min(1) }).optional(),
  message: z.looseObject({ ts: z.string().min(1), thread_ts: z.string().optional() }).optional(),
  actions: z
    .array(
      z.looseObject({
        action_id: z.string(),
        value: z.string().optional(),
        selected_option: z.looseObject({ value: z.string() }).nullish(),
      }),
    )
    .min(1),
  view: z
    .looseObject({
      id: z.string(),
      hash: z.string().optional(),
      private_metadata: z.string().optional(),
      state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), z.unknown())) }).optional(),
    })
    .optional(),
});
export type BlockAction = z.infer<typeof BlockActionSchema>;

/** A click on a message in a thread: where it happened and who clicked. */
export interface Click {
  ref: ThreadRef;
  userId: string;
  triggerId: string;
  value: string | undefined;
  messageTs: string;
}

/** Metadata of the modals a card opens (Custom..., Edit, feedback): identifiers only, checked again on submit. */
export const CardMetadataSchema = z.object({
  teamId: z.string().min(1).max(32),
  channelId: z.string().min(1).max(32),
  threadTs: z.string().min(1).max(32),
  sessionId: z.string().min(1).max(64),
  revision: z.number().int().nonnegative(),
});
export type CardMetadata = z.infer<typeof CardMetadataSchema>;

export const OUTDATED = "This draft is outdated: use the buttons on the latest draft card in the thread.";

export function clickOf(body: BlockAction): Click | undefined {
  const channelId = body.channel?.id;
  const message = body.message;
  const teamId = body.team?.id;
  if (!channelId || !message || !teamId) return undefined;
  return {
    ref: { teamId, channelId, threadTs: message.thread_ts ?? message.ts },
    userId: body.user.id,
    triggerId: body.trigger_id,
    value: body.actions[0]?.value,
    messageTs: message.ts,
  };
}

export const where = (click: Click) => ({
  channel: click.ref.channelId,
  user: click.userId,
  threadTs: click.ref.threadTs,
});

/** The session and card revision a card button names. */
export interface CardRef {
  sessionId: string;
  revision: number;
}

/**
 * The thread of a card click, if the click came from the latest card: the button value's
 * session and revision must match the store (never trusted on their own). Otherwise the person
 * is told the card is outdated.
 */
export async function liveCard(
  client: WebClient,
  deps: ListenerDeps,
  click: Click,
): Promise<ThreadRecord | undefined> {
  const thread = await currentCard(deps, click);
  if (!thread) await tellUser(client, deps, where(click), OUTDATED);
  return thread;
}

/** The thread, when `card` (by default the click's button value) names its latest card: store lookups, no Slack call. */
export async function currentCard(
  deps: ListenerDeps,
  click: Click,
  card: CardRef | undefined = parseCardButtonValue(click.value),
): Promise<ThreadRecord | undefined> {
  if (!card) return undefined;
  const thread = await deps.drafting.findThread(click.ref);
  if (!thread || thread.sessionId !== card.sessionId) return undefined;
  const live = await deps.messages.liveCard(thread.id);
  return live?.revision === card.revision ? thread : undefined;
}

/** Metadata for a modal opened from a live card (the click was checked: its revision is the card's). */
export function cardMetadata(click: Click, thread: ThreadRecord, revision: number): string {
  const metadata: CardMetadata = {
    teamId: click.ref.teamId,
    channelId: click.ref.channelId,
    threadTs: click.ref.threadTs,
    sessionId: thread.sessionId ?? "",
    revision,
  };
  return encodeMetadata(metadata);
}

/**
 * What someone wrote in a form opened from a card (Custom..., "What should change?"), recorded as the
 * thread's next turn; then `recorded` (the ack: a submission that was never recorded is answered too,
 * and changes nothing). The metadata is checked against the store first.
 */
export async function sendFromCardForm(
  client: WebClient,
  deps: ListenerDeps,
  input: {
    privateMetadata: string | undefined;
    teamId: string | undefined;
    userId: string;
    viewId: string;
    text: (author: Author) => string;
    recorded: () => Promise<void>;
  },
): Promise<void> {
  const card = decodeMetadata(input.privateMetadata, CardMetadataSchema);
  const ref = card && { teamId: card.teamId, channelId: card.channelId, threadTs: card.threadTs };
  const thread = ref && card.teamId === input.teamId ? await deps.drafting.findThread(ref) : undefined;
  if (!card || !ref || !thread || thread.sessionId !== card.sessionId) {
    await input.recorded();
    return;
  }
  // A newer card since the form opened does not make what was written worthless: send it.
  const author = await authorOf(deps, { teamId: ref.teamId, userId: input.userId });
  await deps.drafting.submitMessage({
    thread: ref,
    author,
    text: input.text(author),
    dedupeKeys: [`view:${input.viewId}`],
  });
  await input.recorded();
  if ((await deps.messages.liveCard(thread.id))?.revision !== card.revision) {
    await tellUser(
      client,
      deps,
      { channel: ref.channelId, user: input.userId, threadTs: ref.threadTs },
      "The draft changed while you wrote: what you sent applies to the latest version.",
    );
  }
}
