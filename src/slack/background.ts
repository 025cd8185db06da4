import type { Logger } from "../logger.ts";

/**
 * Work a listener leaves running after Slack has been answered (posts, lookups, modals). Failures are
 * logged, never thrown; `idle()` lets tests and shutdown wait for all of it.
 */
export interface Background {
  run(what: string, work: () => Promise<unknown>): void;
  idle(): Promise<void>;
  readonly size: number;
}

export function createBackground(logger: Logger): Background {
  const running = new Set<Promise<unknown>>();
  return {
    run(what, work) {
      const task = Promise.resolve()
        .then(work)
        .catch((error: unknown) => {
          logger.error(
            { what, err: error instanceof Error ? error.message : String(error) },
            "slack.later_failed",
          );
        });
      running.add(task);
      void task.finally(() => running.delete(task));
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    get size() {
      return running.size;
    },
  };
}
