import type { Clock } from "../clock.ts";
import type { Fence } from "../drafting/outcomes.ts";
import type { ThreadRecord } from "../drafting/store.ts";
import type { Logger } from "../logger.ts";
import { createMessageEditor, type MessageEditor } from "./message-editor.ts";
import type { SlackMessageStore } from "./message-store.ts";
import type { Poster, PostTarget } from "./poster.ts";
import type { SlackMessage } from "./render/blocks.ts";
import { classifySlackError, slackErrorCode } from "./slack-errors.ts";

/**
 * A batch's status message: posted once under its key, then edited in place (coalesced by one editor
 * per workspace, at most one edit per message per interval). A status message someone deleted is
 * posted again under a new key, linked to the same turns.
 */
export interface StatusMessages {
  /** The coalescing editor of a workspace (also used to mark older cards superseded). */
  editorFor(teamId: string): MessageEditor;
  /** Shows `message` as the status message `key`; answers the key it is shown under. */
  show(thread: ThreadRecord, fence: Fence, key: string, message: SlackMessage): Promise<string>;
  /** The status message key of these turns, or a new one named after the first of them. */
  keyFor(thread: ThreadRecord, turnIds: readonly number[]): Promise<string>;
  /** Shows a batch's state in its status message, linked to the batch's turns. */
  showForBatch(
    thread: ThreadRecord,
    fence: Fence,
    turnIds: readonly number[],
    message: SlackMessage,
  ): Promise<void>;
  /** Applies the edits that wait (shutdown). */
  flush(): Promise<void>;
}

export const targetOf = (thread: ThreadRecord): PostTarget => ({
  teamId: thread.teamId,
  threadId: thread.id,
  channel: thread.channelId,
  threadTs: thread.threadTs,
});

export function newStatusKey(thread: ThreadRecord, turnIds: readonly number[]): string {
  return `status:${thread.id}:${Math.min(...turnIds)}`;
}

export function createStatusMessages(options: {
  poster: Poster;
  messages: SlackMessageStore;
  clock: Clock;
  logger: Logger;
  minEditIntervalMs: number;
}): StatusMessages {
  const { poster, messages, clock, logger: log } = options;
  const editors = new Map<string, MessageEditor>();

  function editorFor(teamId: string): MessageEditor {
    let editor = editors.get(teamId);
    if (!editor) {
      editor = createMessageEditor({
        update: (channel, ts, message) => poster.update(teamId, channel, ts, message),
        clock,
        minIntervalMs: options.minEditIntervalMs,
      });
      editors.set(teamId, editor);
    }
    return editor;
  }

  async function show(thread: ThreadRecord, fence: Fence, key: string, message: SlackMessage) {
    fence.assertHeld();
    const ts = await messages.postedTs(key);
    if (!ts) {
      await poster.post(key, targetOf(thread), message);
      return key;
    }
    try {
      await editorFor(thread.teamId).edit(thread.channelId, ts, message, () => fence.assertHeld());
      return key;
    } catch (error) {
      if (classifySlackError(error).kind !== "refused") throw error;
      log.warn({ threadId: thread.id, ts, err: slackErrorCode(error) }, "slack.status_edit_failed");
      const again = `${key}:again`;
      fence.assertHeld();
      await poster.post(again, targetOf(thread), message);
      return again;
    }
  }

  async function keyFor(thread: ThreadRecord, turnIds: readonly number[]) {
    return (await messages.statusKeyFor(turnIds)) ?? newStatusKey(thread, turnIds);
  }

  return {
    editorFor,
    show,
    keyFor,
    async showForBatch(thread, fence, turnIds, message) {
      const key = await keyFor(thread, turnIds);
      await messages.linkStatus(turnIds, key);
      const shownAs = await show(thread, fence, key, message);
      if (shownAs !== key) await messages.linkStatus(turnIds, shownAs);
    },
    async flush() {
      await Promise.allSettled([...editors.values()].map((editor) => editor.flush()));
    },
  };
}
