import type { Clock } from "../clock.ts";
import type { DraftView } from "../drafting/draft-view.ts";
import type { Author, Fence } from "../drafting/outcomes.ts";
import type { ThreadRecord } from "../drafting/store.ts";
import type { Logger } from "../logger.ts";
import type { SlackMessageStore } from "./message-store.ts";
import type { Poster } from "./poster.ts";
import type { SlackMessage } from "./render/blocks.ts";
import { renderDraftCard, renderSupersededCard } from "./render/draft-card.ts";
import { slackErrorCode } from "./slack-errors.ts";
import { type StatusMessages, targetOf } from "./status-messages.ts";

export interface CardPosterOptions {
  poster: Poster;
  messages: SlackMessageStore;
  status: Pick<StatusMessages, "editorFor">;
  clock: Clock;
  logger: Logger;
  /** People are shown by name. */
  named(teamId: string, authors: Author[]): Promise<Author[]>;
}

/**
 * Posts a new draft card for `source` (a batch's result, an edit) and marks the older ones superseded.
 * Shown again for the same source (after a crash, or by the replica that took the thread over), the
 * card is the same one: same revision, same post keys.
 */
export type PostCard = (
  thread: ThreadRecord,
  fence: Fence,
  source: string,
  draft: DraftView,
  requestedBy: Author[],
) => Promise<void>;

export function createCardPoster(options: CardPosterOptions): PostCard {
  const { poster, messages, clock, logger: log } = options;
  return async (thread, fence, source, draft, requestedBy) => {
    const live = await messages.liveCard(thread.id);
    const revision = live?.source === source ? live.revision : (live?.revision ?? 0) + 1;
    const parts = renderDraftCard({
      view: draft,
      revision,
      requestedBy: await options.named(thread.teamId, requestedBy),
      live: true,
    });
    let lastTs: string | undefined;
    for (const [index, part] of parts.entries()) {
      fence.assertHeld();
      lastTs = await poster.post(`card:${thread.id}:${revision}:${index}`, targetOf(thread), part);
    }
    const last = parts.at(-1);
    if (!last || !lastTs) return;
    await messages.addCard({
      threadId: thread.id,
      revision,
      ts: lastTs,
      payload: JSON.stringify(last),
      source,
    });
    for (const old of await messages.cardsToSupersede(thread.id)) {
      try {
        const previous = JSON.parse(old.payload) as SlackMessage;
        await options.status
          .editorFor(thread.teamId)
          .edit(
            thread.channelId,
            old.ts,
            renderSupersededCard(previous, draft.frameworkVersion ?? revision),
            () => fence.assertHeld(),
          );
        await messages.markSuperseded(thread.id, old.revision, clock.now());
      } catch (error) {
        if (error instanceof Error && error.name === "LeaseLostError") throw error;
        log.warn(
          { threadId: thread.id, revision: old.revision, err: slackErrorCode(error) },
          "slack.supersede_failed",
        );
      }
    }
  };
}
