import type { Clock, TimerHandle } from "../clock.ts";
import type { Fence } from "../drafting/outcomes.ts";
import type { ThreadRecord } from "../drafting/store.ts";
import type { Logger } from "../logger.ts";
import type { SlackClients } from "./poster.ts";
import { slackErrorCode } from "./slack-errors.ts";

/**
 * Slack's native "is drafting..." indicator under a thread: a best effort that never fails a turn. It
 * expires two minutes after the last post, so it is refreshed while the task runs, and cleared at the
 * end unless a post just cleared it (Slack clears it when the bot posts). Writes go through the
 * thread's queue, so a late "working" write cannot land after the clear.
 */
const INDICATOR_TEXT = "is drafting...";
const LOADING_MESSAGES = ["Reading the thread...", "Drafting with Puffle...", "Polishing the wording..."];

export function createIndicators(options: {
  clients: SlackClients;
  clock: Clock;
  logger: Logger;
  refreshMs: number;
  run: (threadId: number, what: string, work: () => Promise<void>) => Promise<void>;
}) {
  const { clock, logger } = options;
  const timers = new Map<number, TimerHandle>();

  async function set(thread: ThreadRecord, status: string, fence: Fence) {
    try {
      fence.assertHeld();
      const client = await options.clients.forTeam(thread.teamId);
      await client.assistant.threads.setStatus({
        channel_id: thread.channelId,
        thread_ts: thread.threadTs,
        status,
        ...(status ? { loading_messages: LOADING_MESSAGES } : {}),
      });
    } catch (error) {
      logger.debug({ threadId: thread.id, err: slackErrorCode(error) }, "slack.indicator_failed");
    }
  }

  return {
    /** Sets the indicator (resolves once Slack answered) and keeps it fresh. */
    async start(thread: ThreadRecord, fence: Fence) {
      if (timers.has(thread.id)) return;
      const refresh = () => {
        timers.set(
          thread.id,
          clock.setTimeout(() => {
            void options.run(thread.id, "indicator.refresh", async () => {
              if (!timers.has(thread.id)) return;
              if (!fence.held) {
                timers.delete(thread.id);
                return;
              }
              await set(thread, INDICATOR_TEXT, fence);
              refresh();
            });
          }, options.refreshMs),
        );
      };
      refresh();
      await set(thread, INDICATOR_TEXT, fence);
    },
    /** Stops refreshing; clears explicitly unless a post just did. */
    async stop(thread: ThreadRecord, clearedByPost: boolean, fence: Fence) {
      const timer = timers.get(thread.id);
      if (timer === undefined) return;
      clock.clearTimeout(timer);
      timers.delete(thread.id);
      if (!clearedByPost) await set(thread, "", fence);
    },
    close() {
      for (const timer of timers.values()) clock.clearTimeout(timer);
      timers.clear();
    },
  };
}
