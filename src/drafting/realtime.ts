import { TriggerClient } from "@trigger.dev/sdk";
import type { Logger } from "../logger.ts";
import { CONTRACT } from "../puffle/contract.ts";

/**
 * Follows one Trigger.dev run. An accelerator only: the session row stays the source of
 * truth, and the caller races this with polling (trigger-realtime.md).
 */
export interface RunSubscriber {
  /**
   * Resolves when the run reaches a final state, with that state. Rejects when the feed fails.
   * Must stop promptly when `signal` aborts (resolving or rejecting, either is fine).
   */
  follow(run: RunRef, signal: AbortSignal, onUpdate?: (update: RunUpdate) => void): Promise<RunUpdate>;
}

export interface RunRef {
  runId: string;
  publicAccessToken: string;
}

export interface RunUpdate {
  status: string;
  finished: boolean;
}

export interface TriggerRunSubscriberOptions {
  baseUrl: string;
  logger: Logger;
  /**
   * Runs followed at once. Each subscription costs about 100 KB in the SDK; past this many,
   * further turns are watched by polling alone (realtime only accelerates).
   */
  maxConcurrent?: number;
}

/** Thrown at once when every realtime slot is taken: the caller polls instead. */
export class RealtimeBusyError extends Error {
  constructor() {
    super("all realtime slots are in use");
    this.name = "RealtimeBusyError";
  }
}

const DEFAULT_MAX_CONCURRENT = CONTRACT.realtimeMaxConcurrent;

/** Final statuses of a Trigger.dev run (API names, as the SDK yields them). */
const FINAL = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELED",
  "CRASHED",
  "SYSTEM_FAILURE",
  "TIMED_OUT",
  "EXPIRED",
  "INTERRUPTED",
]);

/**
 * Per-run auth through a TriggerClient of its own (never the process-global `auth.configure`,
 * which would mix tokens between concurrent runs).
 */
export function createTriggerRunSubscriber(options: TriggerRunSubscriberOptions): RunSubscriber {
  const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  let active = 0;
  return {
    async follow(run, signal, onUpdate) {
      if (active >= maxConcurrent) throw new RealtimeBusyError();
      active++;
      try {
        return await followOne(run, signal, onUpdate);
      } finally {
        active--;
      }
    },
  };

  async function followOne(
    run: RunRef,
    signal: AbortSignal,
    onUpdate?: (update: RunUpdate) => void,
  ): Promise<RunUpdate> {
    const client = new TriggerClient({ baseURL: options.baseUrl, accessToken: run.publicAccessToken });
    const stream = client.runs.subscribeToRun(run.runId, { signal, skipColumns: ["payload"] });
    // The SDK can hang on a 4xx without ever yielding (trigger-realtime.md pitfall 1): own the
    // end by racing the iteration with the abort signal.
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new Error("realtime follow aborted"));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});
    const iterate = async (): Promise<RunUpdate> => {
      let last: RunUpdate = { status: "UNKNOWN", finished: false };
      for await (const update of stream) {
        const finished = FINAL.has(update.status) || Boolean(update.finishedAt);
        last = { status: update.status, finished };
        onUpdate?.(last);
        if (finished) return last;
      }
      if (signal.aborted) throw new Error("realtime follow aborted");
      return { ...last, finished: true };
    };
    try {
      return await Promise.race([iterate(), aborted]);
    } finally {
      // Ends the SDK's long-poll if it is still running.
      if (!signal.aborted) stream.unsubscribe?.();
    }
  }
}
