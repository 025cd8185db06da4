import { ERROR_POLICY } from "../puffle/error-policy.ts";
import { isPuffleError } from "../puffle/errors.ts";
import type { Session } from "../puffle/schemas.ts";
import { authorsOf, repliesFor } from "./batches.ts";
import { draftViewOf } from "./campaign-context.ts";
import { draftHashOf } from "./draft-view.ts";
import type { HeldLease } from "./leases.ts";
import type { FailureCode, TurnOutcome } from "./outcomes.ts";
import type { ReadyThread, ThreadRecord, TurnKind, TurnRecord } from "./store.ts";
import type { DriverDeps } from "./thread-driver.ts";

/**
 * How a batch of turns ends, under the thread's lease: its result shown (then marked done), or marked
 * failed with a code a person has words for. Also the few helpers every step of the driver shares.
 */

export function driverContext(deps: DriverDeps, fence: HeldLease) {
  const { logger } = deps;
  const base = (thread: ThreadRecord, batch: TurnRecord[]) => ({
    thread,
    turnIds: batch.map((t) => t.id),
    kind: batch[0]?.kind ?? ("chat" as TurnKind),
    fence,
  });

  /** Where a log line happened: the Slack thread and the Puffle session, by their ids. */
  const where = (thread: ThreadRecord) => ({
    teamId: thread.teamId,
    channel: thread.channelId,
    threadTs: thread.threadTs,
    threadId: thread.id,
    sessionId: thread.sessionId,
  });

  async function emit(outcome: TurnOutcome) {
    fence.assertHeld();
    try {
      await deps.emit(outcome);
    } catch (error) {
      // The Slack layer logs its own failures; a rendering problem must not stall the queue.
      logger.error(
        {
          threadId: outcome.thread.id,
          type: outcome.type,
          err: error instanceof Error ? error.message : String(error),
        },
        "outcome.delivery_failed",
      );
    }
  }

  return { base, where, emit };
}

export type DriverContext = ReturnType<typeof driverContext>;

export function createTurnEndings(deps: DriverDeps, fence: HeldLease, context: DriverContext) {
  const { store, campaigns, clock, logger } = deps;
  const { base, where, emit } = context;

  async function deliver(thread: ReadyThread, batch: TurnRecord[], session: Session): Promise<void> {
    const first = batch[0];
    if (!first) return;
    const ids = batch.map((t) => t.id);
    const replies = repliesFor(session, first);
    const examplesArrived = first.kind === "examples" && (session.generated_examples?.length ?? 0) > 0;
    const messageCount = session.messages?.length ?? thread.messageCount;
    if (first.kind === "chat" ? replies.length === 0 : !examplesArrived) {
      await store.updateThread(thread.id, { messageCount }, fence);
      await markFailed(thread, batch, "no_reply", null, true);
      return;
    }
    const seenFinishedAt = clock.now();
    const hash = draftHashOf(session);
    const draft = await draftViewOf(campaigns, thread, session);
    // Puffle is done: from here the thread is no longer busy (Edit, Save and new messages need not wait
    // for Slack to show the result), yet the turn stays open until shown, so a crash shows it later.
    await store.updateTurns(ids, { finishedAt: clock.now() }, fence);
    await emit({
      ...base(thread, batch),
      type: "result",
      replies,
      draft,
      draftChanged: examplesArrived || (hash !== null && hash !== thread.draftHash),
      requestedBy: authorsOf(batch),
    });
    deps.telemetry.resultShown(clock.now() - seenFinishedAt);
    deps.telemetry.turnEnded("done");
    await store.updateTurns(ids, { state: "done", timedOutAt: null }, fence);
    await store.updateThread(
      thread.id,
      { messageCount, draftHash: hash, draftVersion: session.framework_version ?? thread.draftVersion },
      fence,
    );
    logger.info(
      { ...where(thread), sessionId: session.id, turnIds: ids, replies: replies.length },
      "turn.done",
    );
  }

  async function failBatch(thread: ThreadRecord, batch: TurnRecord[], error: unknown): Promise<void> {
    if (!isPuffleError(error)) {
      logger.error(
        { ...where(thread), err: error instanceof Error ? error.stack : String(error) },
        "turn.internal_error",
      );
      return markFailed(thread, batch, "internal", null, true);
    }
    if (error.code === "unauthorized") {
      logger.error(
        { ...where(thread), ...error.toLog() },
        "puffle.unauthorized: Puffle rejected the API key; check PUFFLE_API_KEY (turns fail until it is fixed)",
      );
    }
    return markFailed(
      thread,
      batch,
      error.code,
      error.serverMessage ?? null,
      ERROR_POLICY[error.code].personCanRetry,
    );
  }

  async function markFailed(
    thread: ThreadRecord,
    batch: TurnRecord[],
    code: FailureCode,
    detail: string | null,
    retryable: boolean,
  ): Promise<void> {
    const ids = batch.map((t) => t.id);
    await store.updateTurns(
      ids,
      { state: "failed", failureCode: code, failureDetail: detail, finishedAt: clock.now() },
      fence,
    );
    logger.warn({ ...where(thread), turnIds: ids, code }, "turn.failed");
    deps.telemetry.turnEnded("failed", code);
    await emit({ ...base(thread, batch), type: "failed", code, detail, retryable });
  }

  return { deliver, failBatch, markFailed };
}
