import { auth, streams, TriggerClient } from "@trigger.dev/sdk";
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
  /** Realtime streams the run writes (its `realtimeStreams`), e.g. the reply as it is written. */
  streams: string[];
}

/** Reads one realtime stream of a run, chunk by chunk, until it ends, fails or `signal` aborts. */
export interface StreamReader {
  read(run: RunRef, key: string, signal: AbortSignal, onChunk: (chunk: unknown) => void): Promise<void>;
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
      let last: RunUpdate = { status: "UNKNOWN", finished: false, streams: [] };
      for await (const update of stream) {
        const finished = FINAL.has(update.status) || Boolean(update.finishedAt);
        const keys = Array.isArray(update.realtimeStreams) ? update.realtimeStreams.filter(isString) : [];
        last = { status: update.status, finished, streams: keys };
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

const isString = (value: unknown): value is string => typeof value === "string";

/**
 * Reads a run's realtime stream with the run's own token (`auth.withAuth` scopes it to this call, so
 * concurrent runs never mix tokens). The SDK retries dropped connections and resumes where it was.
 */
export function createTriggerStreamReader(options: {
  baseUrl: string;
  timeoutSeconds?: number;
}): StreamReader {
  return {
    async read(run, key, signal, onChunk) {
      const stream = await auth.withAuth(
        { baseURL: options.baseUrl, accessToken: run.publicAccessToken },
        () =>
          streams.read<unknown>(run.runId, key, { signal, timeoutInSeconds: options.timeoutSeconds ?? 60 }),
      );
      // Like the run feed, the reader can hang on a refused token: the caller's signal ends it.
      const aborted = new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      const iterate = async () => {
        for await (const chunk of stream) {
          if (signal.aborted) return;
          onChunk(chunk);
        }
      };
      await Promise.race([iterate(), aborted]);
    },
  };
}
