import { AbortedError, type Clock, linkSignals, sleep } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { PuffleClient } from "../puffle/client.ts";
import { ERROR_POLICY } from "../puffle/error-policy.ts";
import { isPuffleError, type PuffleError } from "../puffle/errors.ts";
import type { Session } from "../puffle/schemas.ts";
import {
  createDurationModel,
  createPollSchedule,
  type DurationModel,
  type DurationWindow,
} from "./poll-schedule.ts";
import { RealtimeBusyError, type RunRef, type RunSubscriber, type StreamReader } from "./realtime.ts";
import { pickStreamKey, textOfChunk } from "./stream-chunks.ts";

export interface WatchRequest {
  /** The client of the Puffle account the session belongs to. */
  puffle: PuffleClient;
  sessionId: string;
  /** "chat" or "examples": durations are learned per kind. */
  kind: string;
  /** The run to follow through realtime, when we have one (not after a 409 wait). */
  run?: RunRef | undefined;
  /** Clock time the task was dispatched (for the learned schedule). */
  startedAt: number;
  /** Clock time after which the watch gives up with "timed_out". */
  deadlineAt: number;
  signal: AbortSignal;
  /** Realtime run status changes (QUEUED, EXECUTING, ...), for the status message. */
  onProgress?: (status: string, streams: string[]) => void;
  /**
   * The reply as Puffle writes it, when the run streams it: each text delta in order. `onStreamEnd`
   * says the stream stopped (finished, or failed: then the session alone tells the reply).
   */
  onText?: (delta: string) => void;
  onStreamEnd?: (outcome: { failed: boolean; reason?: string }) => void;
  /** Log fields (thread, turn ids). */
  logFields?: Record<string, unknown>;
}

export type WatchResult =
  | { type: "idle"; session: Session; detectedBy: "poll" | "realtime" }
  | { type: "timed_out"; session: Session | undefined };

export interface TaskWatcher {
  /**
   * Waits until the session's task_status is null. Throws a PuffleError when the session can
   * no longer be read (401, 404, repeated bad answers), AbortedError when `signal` aborts.
   */
  watch(request: WatchRequest): Promise<WatchResult>;
}

export interface TaskWatcherOptions {
  clock: Clock;
  logger: Logger;
  pollIntervalMs: number;
  /** Absent when realtime is off (TRIGGER_API_URL=off). */
  subscriber?: RunSubscriber | undefined;
  /** Reads a run's realtime streams; absent when realtime is off. */
  streams?: StreamReader | undefined;
  durations?: DurationModel;
  /** "fixed" is the plain 2-second baseline the benchmark measures against. */
  pollMode?: "learned" | "fixed";
  /** A finished task, and how it was noticed first (for the metrics). */
  onCompletion?: (detectedBy: "poll" | "realtime") => void;
}

/** Reads that fail this many times in a row (after the client's own retries) end the watch. */
const MAX_CONSECUTIVE_READ_FAILURES = 5;

export function createTaskWatcher(options: TaskWatcherOptions): TaskWatcher {
  const { clock, logger } = options;
  const schedule = createPollSchedule({
    baseMs: options.pollIntervalMs,
    mode: options.pollMode ?? "learned",
  });
  const durations = options.durations ?? createDurationModel();

  return {
    async watch(request) {
      const log = logger.child({ sessionId: request.sessionId, ...request.logFields });
      const stop = new AbortController();
      const onOuterAbort = () => stop.abort(request.signal.reason);
      request.signal.addEventListener("abort", onOuterAbort, { once: true });

      // A wake-up call interrupts the current wait: realtime saying the run ended.
      let wake = new AbortController();
      let realtimeAlive = false;
      let realtimeFinished = false;
      let streaming = false;
      const readStream = (run: RunRef, keys: string[]) => {
        const key = pickStreamKey(keys);
        if (streaming || !key || !options.streams || !request.onText) return;
        streaming = true;
        const onText = request.onText;
        options.streams
          .read(run, key, stop.signal, (chunk) => {
            const delta = textOfChunk(chunk);
            if (delta) onText(delta);
          })
          .then(
            () => request.onStreamEnd?.({ failed: false }),
            (error: unknown) => {
              if (stop.signal.aborted) return;
              const reason = error instanceof Error ? error.message : String(error);
              log.warn({ err: reason }, "watch.stream_failed");
              request.onStreamEnd?.({ failed: true, reason });
            },
          );
      };
      if (request.run && options.subscriber) {
        const run = request.run;
        options.subscriber
          .follow(run, stop.signal, (update) => {
            realtimeAlive = !update.finished;
            request.onProgress?.(update.status, update.streams);
            if (update.streams.length > 0) readStream(run, update.streams);
          })
          .then(
            (final) => {
              realtimeAlive = false;
              realtimeFinished = true;
              log.debug({ runStatus: final.status }, "watch.realtime_finished");
              wake.abort();
            },
            (error: unknown) => {
              realtimeAlive = false;
              if (stop.signal.aborted) return;
              // All realtime slots taken: polling alone watches this turn, as designed.
              if (error instanceof RealtimeBusyError) log.debug("watch.realtime_full");
              else
                log.warn(
                  { err: error instanceof Error ? error.message : String(error) },
                  "watch.realtime_failed",
                );
            },
          );
      }

      let polls = 0;
      let readsAfterRealtimeEnd = 0;
      let failures = 0;
      let lastBusyReadAt: number | undefined;
      /** The learned schedule's first read, when this watch began on it (realtime not following). */
      let firstReadMs: number | undefined;
      let window: DurationWindow | undefined;
      let last: Session | undefined;
      try {
        for (;;) {
          const now = clock.now();
          if (now >= request.deadlineAt) {
            // One last look before giving up, so a task that just ended is not reported late.
            const session = await readOnce();
            if (session && session.task_status === null) return finish(session, "poll");
            return { type: "timed_out", session: session ?? last };
          }
          // After realtime says the run ended: read at once, then soon again if the row lags.
          // A watch keeps the window it began with: its reads follow one plan (others' tasks end meanwhile).
          if (polls === 0) {
            window = durations.window(request.kind);
            if (window && !realtimeAlive && !realtimeFinished) firstReadMs = schedule.firstRead(window);
          }
          const delay = realtimeFinished
            ? readsAfterRealtimeEnd === 0
              ? 0
              : schedule.fastMs
            : schedule.nextDelay({ elapsedMs: now - request.startedAt, polls, window, realtimeAlive });
          const woken = await waitOrWake(Math.min(delay, request.deadlineAt - now));
          if (clock.now() >= request.deadlineAt && !woken) continue;
          const detectedBy = realtimeFinished ? "realtime" : "poll";
          const session = await readOnce();
          polls++;
          if (realtimeFinished) readsAfterRealtimeEnd++;
          if (!session) continue;
          last = session;
          if (session.task_status === null) return finish(session, detectedBy);
          lastBusyReadAt = clock.now();
        }
      } finally {
        stop.abort();
        request.signal.removeEventListener("abort", onOuterAbort);
      }

      function finish(session: Session, detectedBy: "poll" | "realtime"): WatchResult {
        const end = clock.now();
        // By polling we only know it ended between the last busy read (if any) and this one.
        if (detectedBy === "realtime") durations.record(request.kind, end - request.startedAt);
        else
          durations.recordPolled(request.kind, {
            lastBusyMs: lastBusyReadAt === undefined ? undefined : lastBusyReadAt - request.startedAt,
            doneMs: end - request.startedAt,
            firstReadMs,
            ...(firstReadMs === undefined
              ? {}
              : {
                  reads: {
                    made: polls,
                    // Done at the first read: taken as ending then, as the duration model takes it.
                    fixed: schedule.fixedReadsWithin(
                      lastBusyReadAt === undefined
                        ? end - request.startedAt
                        : lastBusyReadAt - request.startedAt,
                      end - request.startedAt,
                    ),
                  },
                }),
          });
        options.onCompletion?.(detectedBy);
        log.debug({ detectedBy, polls, ms: end - request.startedAt }, "watch.idle");
        return { type: "idle", session, detectedBy };
      }

      async function waitOrWake(ms: number): Promise<boolean> {
        if (wake.signal.aborted) wake = new AbortController();
        const wait = linkSignals(wake.signal, stop.signal);
        try {
          await sleep(clock, Math.max(0, ms), wait.signal);
          return false;
        } catch (error) {
          if (request.signal.aborted) throw new AbortedError(request.signal.reason);
          if (error instanceof AbortedError) return true;
          throw error;
        } finally {
          wait.dispose();
        }
      }

      async function readOnce(): Promise<Session | undefined> {
        try {
          const session = await request.puffle.getSession(request.sessionId, {
            signal: stop.signal,
            // Under the request budget: realtime said it ended, else as likely done as its age says.
            likelihood: () =>
              realtimeFinished ? 2 : durations.finishedShare(request.kind, clock.now() - request.startedAt),
          });
          failures = 0;
          return session;
        } catch (error) {
          if (request.signal.aborted) throw new AbortedError(request.signal.reason);
          if (!isPuffleError(error)) throw error;
          if (ERROR_POLICY[error.code].endsWatch || ++failures >= MAX_CONSECUTIVE_READ_FAILURES) throw error;
          log.warn({ ...(error as PuffleError).toLog(), failures }, "watch.read_failed");
          return undefined;
        }
      }
    },
  };
}
