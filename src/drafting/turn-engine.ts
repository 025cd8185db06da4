import { setMaxListeners } from "node:events";
import { AbortedError, type Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { PuffleClient } from "../puffle/client.ts";
import { CONTRACT } from "../puffle/contract.ts";
import { ConnectionError, isPuffleError, type PuffleError } from "../puffle/errors.ts";
import type { RunHandle, Session } from "../puffle/schemas.ts";
import { type CampaignContext, draftViewOf, toLeadInput } from "./campaign-context.ts";
import { draftHashOf } from "./draft-view.ts";
import type { Author, FailureCode, OutcomeSink, TurnOutcome } from "./outcomes.ts";
import {
  type DraftStore,
  hasStep,
  type ReadyThread,
  type ThreadRecord,
  type TurnKind,
  type TurnRecord,
} from "./store.ts";
import type { TaskWatcher } from "./task-watcher.ts";

/**
 * The turn engine: one loop per thread that drains its turns in order. At most one Puffle
 * task per session at a time; different threads run fully in parallel.
 *
 * Per thread, repeatedly: create the session if the thread has none; watch the dispatched
 * batch until the task ends; settle a batch whose dispatch is unconfirmed; else send every
 * pending message as the next turn. All state lives in the store, so a new process over the
 * same store picks up exactly where the last one stopped.
 */
export interface TurnEngineOptions {
  store: DraftStore;
  puffle: PuffleClient;
  watcher: TaskWatcher;
  campaigns: CampaignContext;
  clock: Clock;
  logger: Logger;
  emit: OutcomeSink;
  turnTimeoutMs: number;
  examplesTimeoutMs: number;
}

/** Messages merged into one turn at most (the rest go in the next turn). */
const MAX_BATCH = 20;
/** Dispatches of one batch that could not be confirmed before it is given up. */
const MAX_UNCONFIRMED_SENDS = 3;
/** How long we wait for a session that someone else keeps busy before telling the thread. */
const BUSY_WAIT_MS = 30 * 60 * 1000;

/** A dispatch failure after which the turn may or may not have started: settle by reading. */
function isAmbiguous(error: PuffleError): boolean {
  if (error.code === "timeout" || error.code === "bad_response") return true;
  if (error instanceof ConnectionError) return !error.notSent;
  return error.code === "server_error" && error.status !== 500;
}

export function createTurnEngine(options: TurnEngineOptions) {
  const { store, puffle, watcher, campaigns, clock, logger } = options;
  const loops = new Map<number, Promise<void>>();
  /** Threads kicked while their loop runs: the loop looks again before it exits. */
  const dirty = new Set<number>();
  /** "Check again" gives a timed-out batch a fresh deadline. */
  const deadlineOverrides = new Map<number, number>();
  const shutdown = new AbortController();
  // Every running turn listens for shutdown: thousands of listeners are expected, not a leak.
  setMaxListeners(0, shutdown.signal);

  const timeoutFor = (kind: TurnKind) =>
    kind === "examples" ? options.examplesTimeoutMs : options.turnTimeoutMs;
  const authorsOf = (batch: TurnRecord[]): Author[] => {
    const seen = new Map<string, Author>();
    for (const turn of batch)
      if (!seen.has(turn.authorId)) seen.set(turn.authorId, { id: turn.authorId, name: turn.authorName });
    return [...seen.values()];
  };
  const base = (thread: ThreadRecord, batch: TurnRecord[]) => ({
    thread,
    turnIds: batch.map((t) => t.id),
    kind: batch[0]?.kind ?? ("chat" as TurnKind),
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
    try {
      await options.emit(outcome);
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

  function kick(threadId: number) {
    if (shutdown.signal.aborted) return;
    if (loops.has(threadId)) {
      dirty.add(threadId);
      return;
    }
    dirty.delete(threadId);
    const loop = runLoop(threadId)
      .catch((error: unknown) => {
        if (error instanceof AbortedError || shutdown.signal.aborted) return;
        logger.error(
          { threadId, err: error instanceof Error ? error.stack : String(error) },
          "engine.loop_failed",
        );
      })
      .finally(() => {
        loops.delete(threadId);
        if (dirty.has(threadId)) kick(threadId);
      });
    loops.set(threadId, loop);
  }

  async function runLoop(threadId: number): Promise<void> {
    for (;;) {
      if (shutdown.signal.aborted) return;
      dirty.delete(threadId);
      const thread = await store.getThreadById(threadId);
      // A thread without a step waits until someone picks one (chooseStep kicks it again).
      if (!thread || !hasStep(thread)) return;
      const open = await store.listTurns(threadId, ["pending", "sending", "dispatched"]);
      if (open.length === 0) return;
      if (!thread.sessionId) {
        if (!(await ensureSession(thread, open))) return;
        continue;
      }
      const active = open.filter((t) => t.state === "dispatched" && t.timedOutAt === null);
      if (active.length > 0) {
        await watchBatch(thread, batchOf(active));
        continue;
      }
      const sending = open.filter((t) => t.state === "sending");
      if (sending.length > 0) {
        await settleUnconfirmed(thread, batchOf(sending));
        continue;
      }
      const pending = open.filter((t) => t.state === "pending");
      if (pending.length === 0) return; // only timed-out turns left: they wait for "check again"
      await dispatch(thread, takeBatch(pending));
    }
  }

  /** The turns of the first batch in the list. */
  function batchOf(turns: TurnRecord[]): TurnRecord[] {
    const first = turns[0];
    if (!first) return [];
    return turns.filter((t) => (t.batchId ?? t.id) === (first.batchId ?? first.id));
  }

  /** Consecutive pending chat messages (merged into one turn), or a single examples request. */
  function takeBatch(pending: TurnRecord[]): TurnRecord[] {
    const first = pending[0];
    if (!first || first.kind === "examples") return first ? [first] : [];
    const batch: TurnRecord[] = [];
    for (const turn of pending) {
      if (turn.kind !== "chat" || batch.length >= MAX_BATCH) break;
      batch.push(turn);
    }
    return batch;
  }

  async function ensureSession(thread: ReadyThread, open: TurnRecord[]): Promise<boolean> {
    let session: Session;
    try {
      session = await puffle.createSession(
        { campaign_id: thread.campaignId, node_id: thread.nodeId },
        { signal: shutdown.signal },
      );
    } catch (error) {
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
      await store.moveTurns(ids, holder.id);
      await store.deleteThread(thread.id);
      await emit({
        type: "moved",
        thread: holder,
        from: thread,
        turnIds: ids,
        kind: open[0]?.kind ?? "chat",
      });
      kick(holder.id);
      return false;
    }
    await store.updateThread(thread.id, {
      sessionId: session.id,
      messageCount: session.messages?.length ?? 0,
    });
    logger.info({ ...where(thread), sessionId: session.id }, "session.created");
    return true;
  }

  /** The text sent to Puffle: one message as written; several from different people attributed. */
  function mergeMessages(batch: TurnRecord[]): string {
    if (batch.length === 1) return batch[0]?.text ?? "";
    const authors = new Set(batch.map((t) => t.authorId));
    if (authors.size === 1) return batch.map((t) => t.text).join("\n\n");
    return batch.map((t) => `${t.authorName ?? t.authorId}: ${t.text}`).join("\n");
  }

  async function dispatch(thread: ReadyThread, batch: TurnRecord[]): Promise<void> {
    const first = batch[0];
    if (!first || !thread.sessionId) return;
    const ids = batch.map((t) => t.id);
    const kind = first.kind;
    const sentText = kind === "chat" ? mergeMessages(batch) : first.text;
    await store.updateTurns(ids, {
      state: "sending",
      batchId: first.id,
      sentText,
      messageCountAtDispatch: thread.messageCount,
      attempts: first.attempts + 1,
    });
    let handle: RunHandle;
    let leadCount: number | null = null;
    try {
      if (kind === "chat") {
        const hints = await campaigns.hints(thread.campaignId, thread.nodeId);
        handle = await puffle.sendTurn(
          thread.sessionId,
          { message: sentText, ...hints },
          { signal: shutdown.signal },
        );
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
        handle = await puffle.generateExamples(
          thread.sessionId,
          { leads, isFirstBatch: true, ...(hints ? { sequenceContext: hints.sequenceContext } : {}) },
          { signal: shutdown.signal },
        );
      }
    } catch (error) {
      if (error instanceof AbortedError || shutdown.signal.aborted) throw new AbortedError();
      if (!isPuffleError(error)) return failBatch(thread, batch, error);
      if (error.code === "session_busy") return waitWhileBusy(thread, batch);
      if (isAmbiguous(error)) {
        // Maybe dispatched: leave it "sending" and let the loop settle it by reading the session.
        logger.warn({ ...where(thread), turnIds: ids, ...error.toLog() }, "turn.dispatch_unconfirmed");
        return;
      }
      return failBatch(thread, batch, error);
    }
    const now = clock.now();
    await store.updateTurns(ids, {
      state: "dispatched",
      runId: handle.runId,
      runToken: handle.publicAccessToken,
      dispatchedAt: now,
    });
    const turnNumber = kind === "chat" ? thread.turnCount + 1 : thread.turnCount;
    if (kind === "chat") await store.updateThread(thread.id, { turnCount: turnNumber });
    logger.info({ ...where(thread), turnIds: ids, runId: handle.runId, kind }, "turn.dispatched");
    await emit({
      ...base(thread, batch),
      type: "dispatched",
      turnNumber,
      leadCount,
      requestedBy: authorsOf(batch),
    });
  }

  /** 409: the message waits, visibly, until the session is free; then the loop sends it. */
  async function waitWhileBusy(thread: ReadyThread, batch: TurnRecord[]): Promise<void> {
    const ids = batch.map((t) => t.id);
    await store.updateTurns(ids, { state: "pending", batchId: null, attempts: 0 });
    logger.info({ ...where(thread), turnIds: ids }, "turn.queued");
    await emit({ ...base(thread, batch), type: "queued", reason: "session_busy" });
    const now = clock.now();
    const result = await watcher.watch({
      sessionId: thread.sessionId ?? "",
      kind: "busy",
      startedAt: now,
      deadlineAt: now + BUSY_WAIT_MS,
      signal: shutdown.signal,
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
    await store.updateThread(thread.id, {
      messageCount: result.session.messages?.length ?? thread.messageCount,
    });
  }

  async function watchBatch(thread: ReadyThread, batch: TurnRecord[]): Promise<void> {
    const first = batch[0];
    if (!first || !thread.sessionId) return;
    const startedAt = first.dispatchedAt ?? clock.now();
    const deadlineAt = deadlineOverrides.get(first.batchId ?? first.id) ?? startedAt + timeoutFor(first.kind);
    let result: Awaited<ReturnType<TaskWatcher["watch"]>>;
    try {
      result = await watcher.watch({
        sessionId: thread.sessionId,
        kind: first.kind,
        run:
          first.runId && first.runToken
            ? { runId: first.runId, publicAccessToken: first.runToken }
            : undefined,
        startedAt,
        deadlineAt,
        signal: shutdown.signal,
        onProgress: (runStatus) => void emit({ ...base(thread, batch), type: "progress", runStatus }),
        logFields: { ...where(thread), turnIds: batch.map((t) => t.id) },
      });
    } catch (error) {
      if (error instanceof AbortedError || shutdown.signal.aborted) throw new AbortedError();
      return failBatch(thread, batch, error);
    }
    deadlineOverrides.delete(first.batchId ?? first.id);
    if (result.type === "timed_out") {
      await store.updateTurns(
        batch.map((t) => t.id),
        { timedOutAt: clock.now() },
      );
      logger.warn({ ...where(thread), turnIds: batch.map((t) => t.id) }, "turn.timed_out");
      await emit({ ...base(thread, batch), type: "timed_out" });
      return;
    }
    await deliver(thread, batch, result.session);
  }

  /**
   * A batch whose dispatch is unconfirmed (a timeout, a reset connection, a restart in the
   * middle of the call): the session's messages tell whether Puffle got it.
   */
  async function settleUnconfirmed(thread: ReadyThread, batch: TurnRecord[]): Promise<void> {
    const first = batch[0];
    if (!first || !thread.sessionId) return;
    const now = clock.now();
    let result: Awaited<ReturnType<TaskWatcher["watch"]>>;
    try {
      result = await watcher.watch({
        sessionId: thread.sessionId,
        kind: first.kind,
        startedAt: now,
        deadlineAt: now + timeoutFor(first.kind),
        signal: shutdown.signal,
        logFields: { ...where(thread), settling: true },
      });
    } catch (error) {
      if (error instanceof AbortedError || shutdown.signal.aborted) throw new AbortedError();
      return failBatch(thread, batch, error);
    }
    if (result.type === "timed_out") {
      await store.updateTurns(
        batch.map((t) => t.id),
        { state: "dispatched", dispatchedAt: now, timedOutAt: clock.now() },
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
    );
  }

  /** Did the session get this batch? Its user message appears after the count at dispatch. */
  function wasReceived(session: Session, first: TurnRecord): boolean {
    const after = (session.messages ?? []).slice(first.messageCountAtDispatch ?? 0);
    if (first.kind === "examples")
      return after.some((m) => m.role === "assistant") || Boolean(session.generated_examples?.length);
    const sent = (first.sentText ?? "").trim();
    return after.some((m) => m.role === "user" && m.content.trim() === sent);
  }

  /** The assistant messages that answer this batch. */
  function repliesFor(session: Session, first: TurnRecord): string[] {
    const after = (session.messages ?? []).slice(first.messageCountAtDispatch ?? 0);
    const sent = (first.sentText ?? "").trim();
    const userIndex =
      first.kind === "chat" ? after.findIndex((m) => m.role === "user" && m.content.trim() === sent) : -1;
    const replies: string[] = [];
    for (const message of after.slice(userIndex + 1)) {
      if (message.role === "user" && userIndex >= 0) break;
      if (message.role === "assistant" && message.content.trim()) replies.push(message.content);
    }
    return replies;
  }

  async function deliver(thread: ReadyThread, batch: TurnRecord[], session: Session): Promise<void> {
    const first = batch[0];
    if (!first) return;
    const ids = batch.map((t) => t.id);
    const replies = repliesFor(session, first);
    const examplesArrived = first.kind === "examples" && (session.generated_examples?.length ?? 0) > 0;
    const messageCount = session.messages?.length ?? thread.messageCount;
    if (first.kind === "chat" ? replies.length === 0 : !examplesArrived) {
      await store.updateThread(thread.id, { messageCount });
      await markFailed(thread, batch, "no_reply", null, true);
      return;
    }
    const hash = draftHashOf(session);
    const draft = await draftViewOf(campaigns, thread, session);
    // Puffle is done: from here the thread is no longer busy (Edit, Save and new messages need not
    // wait for Slack to show the result), yet the turn stays open until shown, for restart recovery.
    await store.updateTurns(ids, { finishedAt: clock.now() });
    await emit({
      ...base(thread, batch),
      type: "result",
      replies,
      draft,
      draftChanged: examplesArrived || (hash !== null && hash !== thread.draftHash),
      requestedBy: authorsOf(batch),
    });
    await store.updateTurns(ids, { state: "done", timedOutAt: null });
    await store.updateThread(thread.id, { messageCount, draftHash: hash });
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
    const retryable = !["unauthorized", "forbidden", "not_found", "no_framework", "bad_request"].includes(
      error.code,
    );
    return markFailed(thread, batch, error.code, error.serverMessage ?? null, retryable);
  }

  async function markFailed(
    thread: ThreadRecord,
    batch: TurnRecord[],
    code: FailureCode,
    detail: string | null,
    retryable: boolean,
  ): Promise<void> {
    const ids = batch.map((t) => t.id);
    await store.updateTurns(ids, {
      state: "failed",
      failureCode: code,
      failureDetail: detail,
      finishedAt: clock.now(),
    });
    logger.warn({ ...where(thread), turnIds: ids, code }, "turn.failed");
    await emit({ ...base(thread, batch), type: "failed", code, detail, retryable });
  }

  return {
    kick,
    /** A timed-out batch gets a fresh deadline and is watched again. */
    async checkAgain(batch: TurnRecord[]) {
      const first = batch[0];
      if (!first) return;
      deadlineOverrides.set(first.batchId ?? first.id, clock.now() + timeoutFor(first.kind));
      await store.updateTurns(
        batch.map((t) => t.id),
        { timedOutAt: null },
      );
      kick(first.threadId);
    },
    /** Resumes every thread with open work (restart recovery). */
    async resume(): Promise<number> {
      const threads = await store.listThreadsWithOpenTurns();
      for (const thread of threads) kick(thread.id);
      return threads.length;
    },
    isBusy(threadId: number) {
      return loops.has(threadId);
    },
    /** Stops every loop; in-flight turns stay in the store for the next start. */
    async stop(): Promise<void> {
      shutdown.abort();
      await Promise.allSettled([...loops.values()]);
    },
    /** Resolves when no loop runs (tests and shutdown). */
    async idle(): Promise<void> {
      while (loops.size > 0) await Promise.allSettled([...loops.values()]);
    },
  };
}
