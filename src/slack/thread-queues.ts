import type { Logger } from "../logger.ts";
import { slackErrorCode } from "./slack-errors.ts";

/**
 * One queue per thread: what is shown in a thread is shown in order, while different threads never
 * wait for each other. A failed step is logged and the queue goes on (a lost lease quietly).
 */
export interface ThreadQueues {
  /** Runs `work` after everything already queued for the thread; the returned promise never rejects. */
  enqueue(threadId: number, what: string, work: () => Promise<void>): Promise<void>;
  /** Whether anything is queued. */
  busy(): boolean;
  /** Resolves when what is queued now has run. */
  settled(): Promise<void>;
}

export function createThreadQueues(log: Logger): ThreadQueues {
  const queues = new Map<number, Promise<void>>();
  return {
    enqueue(threadId, what, work) {
      const previous = queues.get(threadId) ?? Promise.resolve();
      const next = previous.then(work).catch((error: unknown) => {
        if (error instanceof Error && error.name === "LeaseLostError") {
          log.info({ threadId, what }, "slack.present_skipped_lease_lost");
          return;
        }
        log.error({ threadId, what, err: slackErrorCode(error) }, "slack.present_failed");
      });
      queues.set(threadId, next);
      void next.finally(() => {
        if (queues.get(threadId) === next) queues.delete(threadId);
      });
      return next;
    },
    busy: () => queues.size > 0,
    async settled() {
      await Promise.allSettled([...queues.values()]);
    },
  };
}
