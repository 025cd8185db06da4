import type { App } from "@slack/bolt";
import { z } from "zod";
import type { ThreadRef } from "../../drafting/store.ts";
import { SHORTCUT_DRAFT_FROM_MESSAGE } from "../ids.ts";
import { renderStepPrompt } from "../render/prompts.ts";
import { decodeIncoming } from "../text.ts";
import {
  authorNow,
  channelAllowed,
  fillAuthorName,
  isDirectChannel,
  type ListenerDeps,
  postInThread,
  readPayload,
  tellUser,
} from "./deps.ts";
import { openPicker } from "./picker.ts";

/** The fields of a message shortcut payload we read. */
const MessageShortcutSchema = z.looseObject({
  trigger_id: z.string().min(1),
  team: z.looseObject({ id: z.string().min(1) }),
  user: z.looseObject({ id: z.string().min(1) }),
  channel: z.looseObject({ id: z.string().min(1) }),
  message: z.looseObject({
    ts: z.string().min(1),
    thread_ts: z.string().optional(),
    text: z.string().optional(),
  }),
});

/**
 * "Draft from this message": starts a draft in that message's thread with its text as the
 * brief (the way into an existing thread). In a thread that already has a draft, the text is
 * simply the next turn.
 */
export function registerShortcutListeners(app: App, deps: ListenerDeps): void {
  app.shortcut(SHORTCUT_DRAFT_FROM_MESSAGE, async ({ shortcut, ack, client }) => {
    const parsed = readPayload(deps, "shortcut", MessageShortcutSchema, shortcut);
    if (!parsed) {
      await ack();
      return;
    }
    const { message, channel, user, team, trigger_id: triggerId } = parsed;
    const ref: ThreadRef = {
      teamId: team.id,
      channelId: channel.id,
      threadTs: message.thread_ts ?? message.ts,
    };
    const where = { channel: channel.id, user: user.id, threadTs: ref.threadTs };
    if (!channelAllowed(deps, channel.id)) {
      await ack();
      await tellUser(client, deps, where, "Puffle Drafter is not enabled in this channel.");
      return;
    }
    const brief = decodeIncoming(message.text ?? "", { botUserId: deps.botUserId });
    if (!brief) {
      await ack();
      await tellUser(client, deps, where, "That message has no text to draft from.");
      return;
    }
    // Recorded before Slack hears back, like a typed message; the name is looked up afterwards.
    const author = authorNow(deps, { teamId: team.id, userId: user.id });
    const dedupeKeys = [`shortcut:${triggerId}`];
    if (await deps.drafting.findThread(ref)) {
      const sent = await deps.drafting.submitMessage({ thread: ref, author, text: brief, dedupeKeys });
      await ack();
      if (sent.status === "accepted") fillAuthorName(deps, team.id, sent.turn.id, author);
      return;
    }
    const step = await deps.drafting.resolveStep({
      teamId: team.id,
      channelId: channel.id,
      userId: user.id,
      isDirect: isDirectChannel(channel.id),
    });
    const started = await deps.drafting.startDraft({ thread: ref, step, author, text: brief, dedupeKeys });
    if (started.status === "exists") {
      await deps.drafting.submitMessage({ thread: ref, author, text: brief, dedupeKeys });
    }
    await ack();
    deps.logger.info(
      { channel: channel.id, threadTs: ref.threadTs, result: started.status },
      "shortcut.draft_started",
    );
    if (started.status === "accepted" || started.status === "needs_step")
      fillAuthorName(deps, team.id, started.turn.id, author);
    if (started.status === "needs_step") {
      const threadId = started.thread.id;
      await openPicker(client, deps, {
        triggerId,
        metadata: { mode: "thread", teamId: team.id, channelId: channel.id, threadId },
        // The thread also shows the question, so anyone can pick if this modal is closed.
        afterOpen: async () => {
          const promptTs = await postInThread(
            deps,
            `prompt:${threadId}`,
            { ...ref, threadId },
            renderStepPrompt({ threadId }),
          );
          return promptTs ? { promptTs } : {};
        },
      });
    }
  });
}
