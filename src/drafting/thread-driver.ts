import { AbortedError, type Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { PuffleClient } from "../puffle/client.ts";
import { CONTRACT } from "../puffle/contract.ts";
import { afterDispatch } from "../puffle/error-policy.ts";
import { isPuffleError } from "../puffle/errors.ts";
import type { RunHandle, Session } from "../puffle/schemas.ts";
import { authorsOf, batchOf, mergeMessages, waitingOf, wasReceived } from "./batches.ts";
import { type CampaignContext, toLeadInput } from "./campaign-context.ts";
import type { HeldLease } from "./leases.ts";
import type { OutcomeSink } from "./outcomes.ts";
import type { DraftStore, ReadyThread, ThreadRecord, TurnKind, TurnRecord } from "./store.ts";
import type { TaskWatcher } from "./task-watcher.ts";
import type { DraftingTelemetry } from "./telemetry.ts";
import { createTurnEndings, driverContext } from "./turn-endings.ts";

/**
 * The steps of one thread's turns, run by the replica holding the thread's lease: create the session,
 * send a batch, wait while someone else keeps the session busy, watch a running task, settle a batch
 * whose dispatch is unconfirmed, deliver a result. Every store write is fenced by the lease, every
 * Puffle call stops when the lease is lost, and every outcome carries the lease for the Slack layer.
 */
export interface DriverDeps {
  store: DraftStore;
  puffle: PuffleClient;
  watcher: TaskWatcher;
  campaigns: CampaignContext;
  clock: Clock;
  logger: Logger;
  emit: OutcomeSink;
  timeoutFor(kind: TurnKind): number;
  /** Replies can stream in as Puffle writes them (realtime streams are followed). */
  streaming: boolean;
  telemetry: DraftingTelemetry;
  /** Tells another thread (maybe driven elsewhere) that it has new work. */
  wake(threadId: number): void;
}

/** Dispatches of one batch that could not be confirmed before it is given up. */
export const MAX_UNCONFIRMED_SENDS = 3;
/** How long we wait for a session that someone else keeps busy before telling the thread. */
export const BUSY_WAIT_MS = 30 * 60 * 1000;

export type ThreadDriver = ReturnType<typeof driveThread>;

export function driveThread(deps: DriverDeps, lease: HeldLease, signal: AbortSignal) {
  const { store, puffle, watcher, campaigns, clock, logger } = deps;
  const fence = lease;

  const context = driverContext(deps, fence);
  const { base, where, emit } = context;
  const { deliver, failBatch, markFailed } = createTurnEndings(deps, fence, context);

  const stopped = () => signal.aborted;
  const aborted = (error: unknown) => error instanceof AbortedError || stopped();

  async function ensureSession(thread: ReadyThread, open: TurnRecord[]): Promise<boolean> {
    let session: Session;
    try {
      fence.assertHeld();
      session = await puffle.createSession(
        { campaign_id: thread.campaignId, node_id: thread.nodeId },
        { signal },
      );
    } catch (error) {
      if (aborted(error)) throw new AbortedError();
      await failBatch(thread, open, error);
      return false;
    }
    const holder = await store.getThreadBySession(session.id);
    if (holder && holder.id !== thread.id) {
      // Puffle gave back a session another thread already uses: never share it silently.
      logger.warn(
        { ...where(thread), otherThreadId: holder.id, sessionId: session.id },
        "session.already_mapped",
      );
      const ids = open.map((t) => t.id);
      await store.moveTurns(ids, holder.id, fence);
      await emit({
        type: "moved",
        thread: holder,
        from: thread,
        turnIds: ids,
        kind: open[0]?.kind ?? "chat",
        fence,
      });
      await store.deleteThread(thread.id, fence);
      deps.wake(holder.id);
      return false;
    }
    await store.updateThread(
      thread.id,
      { sessionId: session.id, messageCount: session.messages?.length ?? 0 },
      fence,
    );
    logger.info({ ...where(thread), sessionId: session.id }, "session.created");
    return true;
  }

  /** Shows that messages wait, when a task of the thread is running (or Puffle is busy). */
  async function announceQueued(thread: ThreadRecord, reason: "behind_current_task" | "session_busy") {
    const waiting = await store.listTurns(thread.id, ["pending"]);
    if (waiting.length === 0) return;
    await emit({ ...base(thread, waiting), type: "queued", reason, waiting: waitingOf(waiting) });
  }

  async function dispatch(thread: ReadyThread, batch: TurnRecord[]): Promise<void> {
    const first = batch[0];
    if (!first || !thread.sessionId) return;
    const ids = batch.map((t) => t.id);
    const kind = first.kind;
    const sentText = kind === "chat" ? mergeMessages(batch) : first.text;
    await store.updateTurns(
      ids,
      {
        state: "sending",
        batchId: first.id,
        sentText,
        messageCountAtDispatch: thread.messageCount,
        attempts: first.attempts + 1,
      },
      fence,
    );
    let handle: RunHandle;
    let leadCount: number | null = null;
    try {
      if (kind === "chat") {
        const hints = await campaigns.hints(thread.campaignId, thread.nodeId);
        fence.assertHeld();
        handle = await puffle.sendTurn(thread.sessionId, { message: sentText, ...hints }, { signal });
      } else {
        const snapshot = await campaigns.get(thread.campaignId);
        const leads = snapshot.leads.slice(0, CONTRACT.examplesLeads.max).map(toLeadInput);
        leadCount = leads.length;
        if (leads.length < CONTRACT.examplesLeads.min) {
          await markFailed(
            thread,
            batch,
            "not_enough_leads",
            `The campaign needs at least ${CONTRACT.examplesLeads.min} leads to generate examples (it has ${leads.length}).`,
            false,
          );
          return;
        }
        const hints = await campaigns.hints(thread.campaignId, thread.nodeId);
        fence.assertHeld();
        handle = await puffle.generateExamples(
          thread.sessionId,
          { leads, isFirstBatch: true, ...(hints ? { sequenceContext: hints.sequenceContext } : {}) },
          { signal },
        );
      }
    } catch (error) {
      if (aborted(error)) throw new AbortedError();
      if (!isPuffleError(error)) return failBatch(thread, batch, error);
      const next = afterDispatch(error);
      if (next === "busy") return waitWhileBusy(thread, batch);
      if (next === "ambiguous") {
        // Maybe dispatched: leave it "sending" and let the loop settle it by reading the session.
        logger.warn({ ...where(thread), turnIds: ids, ...error.toLog() }, "turn.dispatch_unconfirmed");
        return;
      }
      return failBatch(thread, batch, error);
    }
    await store.updateTurns(
      ids,
      {
        state: "dispatched",
        runId: handle.runId,
        runToken: handle.publicAccessToken,
        dispatchedAt: clock.now(),
      },
      fence,
    );
    const turnNumber = kind === "chat" ? thread.turnCount + 1 : thread.turnCount;
    if (kind === "chat") await store.updateThread(thread.id, { turnCount: turnNumber }, fence);
    logger.info({ ...where(thread), turnIds: ids, runId: handle.runId, kind }, "turn.dispatched");
    const stillWaiting = (await store.listTurns(thread.id, ["pending"])).filter((t) => !ids.includes(t.id));
    await emit({
      ...base(thread, batch),
      type: "dispatched",
      turnNumber,
      leadCount,
      requestedBy: authorsOf(batch),
      stillWaiting: waitingOf(stillWaiting),
      streamable: kind === "chat" && deps.streaming,
    });
  }

  /** 409: the message waits, visibly, until the session is free; then the loop sends it. */
  async function waitWhileBusy(thread: ReadyThread, batch: TurnRecord[]): Promise<void> {
    const ids = batch.map((t) => t.id);
    await store.updateTurns(ids, { state: "pending", batchId: null, attempts: 0 }, fence);
    logger.info({ ...where(thread), turnIds: ids }, "turn.queued");
    await announceQueued(thread, "session_busy");
    const now = clock.now();
    const result = await watcher.watch({
      puffle,
      sessionId: thread.sessionId ?? "",
      kind: "busy",
      startedAt: now,
      deadlineAt: now + BUSY_WAIT_MS,
      signal,
      logFields: where(thread),
    });
    if (result.type === "timed_out") {
      await markFailed(thread, batch, "session_busy", null, true);
      return;
    }
    // The task we waited for may be our own timed-out turn: now we know how it ended.
    const timedOut = (await store.listTurns(thread.id, ["dispatched"])).filter((t) => t.timedOutAt !== null);
    for (let rest = timedOut; rest.length > 0; ) {
      const earlier = batchOf(rest);
      const head = earlier[0];
      if (head && wasReceived(result.session, head)) await deliver(thread, earlier, result.session);
      rest = rest.filter((t) => !earlier.includes(t));
    }
    await store.updateThread(
      thread.id,
      { messageCount: result.session.messages?.length ?? thread.messageCount },
      fence,
    );
  }

  async function watchBatch(thread: ReadyThread, batch: TurnRecord[]): Promise<void> {
    const first = batch[0];
    if (!first || !thread.sessionId) return;
    const startedAt = first.dispatchedAt ?? clock.now();
    const deadlineAt = first.deadlineAt ?? startedAt + deps.timeoutFor(first.kind);
    let result: Awaited<ReturnType<TaskWatcher["watch"]>>;
    try {
      result = await watcher.watch({
        puffle,
        sessionId: thread.sessionId,
        kind: first.kind,
        run:
          first.runId && first.runToken
            ? { runId: first.runId, publicAccessToken: first.runToken }
            : undefined,
        startedAt,
        deadlineAt,
        signal,
        onProgress: (runStatus, streams) => {
          emit({ ...base(thread, batch), type: "progress", runStatus, streams }).catch(() => {
            // A lost lease ends the watch itself through the signal.
          });
        },
        ...(first.kind === "chat"
          ? {
              onText: (delta: string) => {
                const recipient = authorsOf(batch)[0] ?? { id: thread.startedBy, name: null };
                emit({ ...base(thread, batch), type: "text", delta, recipient }).catch(() => {});
              },
            }
          : {}),
        logFields: { ...where(thread), turnIds: batch.map((t) => t.id) },
      });
    } catch (error) {
      if (aborted(error)) throw new AbortedError();
      return failBatch(thread, batch, error);
    }
    if (result.type === "timed_out") {
      await store.updateTurns(
        batch.map((t) => t.id),
        { timedOutAt: clock.now() },
        fence,
      );
      logger.warn({ ...where(thread), turnIds: batch.map((t) => t.id) }, "turn.timed_out");
      deps.telemetry.turnEnded("timed_out");
      await emit({ ...base(thread, batch), type: "timed_out" });
      return;
    }
    await deliver(thread, batch, result.session);
  }

  /**
   * A batch whose dispatch is unconfirmed (a timeout, a reset connection, a crash in the middle of the
   * call): the session's messages tell whether Puffle got it.
   */
  async function settleUnconfirmed(thread: ReadyThread, batch: TurnRecord[]): Promise<void> {
    const first = batch[0];
    if (!first || !thread.sessionId) return;
    const now = clock.now();
    let result: Awaited<ReturnType<TaskWatcher["watch"]>>;
    try {
      result = await watcher.watch({
        puffle,
        sessionId: thread.sessionId,
        kind: first.kind,
        startedAt: now,
        deadlineAt: now + deps.timeoutFor(first.kind),
        signal,
        logFields: { ...where(thread), settling: true },
      });
    } catch (error) {
      if (aborted(error)) throw new AbortedError();
      return failBatch(thread, batch, error);
    }
    if (result.type === "timed_out") {
      await store.updateTurns(
        batch.map((t) => t.id),
        { state: "dispatched", dispatchedAt: now, timedOutAt: clock.now() },
        fence,
      );
      await emit({ ...base(thread, batch), type: "timed_out" });
      return;
    }
    if (wasReceived(result.session, first)) {
      logger.info({ ...where(thread), turnIds: batch.map((t) => t.id) }, "turn.dispatch_confirmed");
      await deliver(thread, batch, result.session);
      return;
    }
    if (first.attempts >= MAX_UNCONFIRMED_SENDS) {
      await markFailed(thread, batch, "not_confirmed", null, true);
      return;
    }
    // Surely not received: send it again (the loop does, in order).
    await store.updateTurns(
      batch.map((t) => t.id),
      { state: "pending" },
      fence,
    );
  }

  return { ensureSession, announceQueued, dispatch, watchBatch, settleUnconfirmed, stopped };
}
