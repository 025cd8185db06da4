import type { Author } from "../outcomes.ts";
import { hasStep, type StepChoice, type ThreadRecord, type ThreadRef, type TurnRecord } from "../store.ts";
import {
  type Accepted,
  isRunning,
  type Refused,
  type ServiceContext,
  type SharedHelpers,
} from "./context.ts";

/** Recording what people write and click, as turns of their thread (nothing here waits for Puffle). */
export type DraftIntake = ReturnType<typeof createIntake>;

export function createIntake(ctx: ServiceContext, helpers: SharedHelpers) {
  const { store, clock, logger, engine } = ctx;
  const { accept } = helpers;
  return {
    /** Claims Slack delivery keys (event id, channel+ts). False when seen before. */
    claimDelivery(keys: readonly string[]): Promise<boolean> {
      return store.claimDeliveries(keys, clock.now());
    },

    findThread(ref: ThreadRef): Promise<ThreadRecord | undefined> {
      return store.getThread(ref);
    },

    findThreadById(id: number): Promise<ThreadRecord | undefined> {
      return store.getThreadById(id);
    },

    /**
     * Starts a draft thread: the thread and its first turn are recorded before Puffle is
     * called; the session is created and turn 1 sent in the background.
     */
    async startDraft(input: {
      thread: ThreadRef;
      /** Absent: the thread and its first message are kept until someone picks a step (chooseStep). */
      step: StepChoice | undefined;
      author: Author;
      text: string;
      slackTs?: string | null;
      dedupeKeys?: readonly string[];
    }): Promise<
      | Accepted
      | { status: "needs_step"; thread: ThreadRecord; turn: TurnRecord }
      | { status: "duplicate" }
      | { status: "exists"; thread: ThreadRecord }
    > {
      const created = await store.createThreadWithTurn(
        { ...input.thread, ...input.step, startedBy: input.author.id },
        {
          kind: "chat",
          text: input.text,
          authorId: input.author.id,
          authorName: input.author.name,
          slackTs: input.slackTs ?? null,
        },
        { dedupeKeys: input.dedupeKeys ?? [], now: clock.now() },
      );
      if (created === "duplicate") return { status: "duplicate" };
      if (created === "thread_exists") {
        const thread = await store.getThread(input.thread);
        if (thread) return { status: "exists", thread };
        throw new Error("thread reported as existing but not found");
      }
      logger.info(
        { threadId: created.thread.id, ...input.thread, campaignId: input.step?.campaignId ?? null },
        "thread.started",
      );
      if (!input.step) return { status: "needs_step", thread: created.thread, turn: created.turn };
      engine.wake(created.thread.id);
      return { status: "accepted", thread: created.thread, turn: created.turn, queued: false };
    },

    /** Gives a waiting thread its campaign and step; its kept messages are then sent. */
    async chooseStep(input: {
      threadId: number;
      step: StepChoice;
      author: Author;
    }): Promise<{ status: "accepted"; thread: ThreadRecord } | Refused<"not_found" | "already_started">> {
      const thread = await store.getThreadById(input.threadId);
      if (!thread) return { status: "refused", reason: "not_found" };
      if (thread.sessionId || hasStep(thread)) return { status: "refused", reason: "already_started" };
      await store.updateThread(thread.id, { campaignId: input.step.campaignId, nodeId: input.step.nodeId });
      logger.info({ threadId: thread.id, ...input.step, by: input.author.id }, "thread.step_chosen");
      engine.wake(thread.id);
      return { status: "accepted", thread: { ...thread, ...input.step } };
    },

    /** A human message in a mapped thread becomes the next turn (queued if a task runs). */
    async submitMessage(input: {
      thread: ThreadRef;
      author: Author;
      text: string;
      slackTs?: string | null;
      dedupeKeys?: readonly string[];
    }): Promise<Accepted | { status: "duplicate" } | { status: "not_mapped" }> {
      const thread = await store.getThread(input.thread);
      if (!thread) return { status: "not_mapped" };
      const turn = await store.addTurn(
        {
          threadId: thread.id,
          kind: "chat",
          text: input.text,
          authorId: input.author.id,
          authorName: input.author.name,
          slackTs: input.slackTs ?? null,
        },
        { dedupeKeys: input.dedupeKeys ?? [], now: clock.now() },
      );
      if (turn === "duplicate") return { status: "duplicate" };
      logger.info({ threadId: thread.id, turnId: turn.id, sessionId: thread.sessionId }, "turn.recorded");
      return accept(thread, turn);
    },

    /** Generate examples for 3 to 5 campaign leads, watched like a turn. */
    async requestExamples(input: {
      thread: ThreadRef;
      author: Author;
    }): Promise<Accepted | Refused<"not_mapped">> {
      const thread = await store.getThread(input.thread);
      if (!thread) return { status: "refused", reason: "not_mapped" };
      const turn = await store.addTurn(
        {
          threadId: thread.id,
          kind: "examples",
          text: "Generate examples",
          authorId: input.author.id,
          authorName: input.author.name,
        },
        { now: clock.now() },
      );
      if (turn === "duplicate") throw new Error("an examples request has no dedupe keys");
      return accept(thread, turn);
    },

    /** True while the thread has a task running or messages waiting (a cheap, local check). */
    async isBusy(ref: ThreadRef): Promise<boolean> {
      const thread = await store.getThread(ref);
      if (!thread) return false;
      const open = await store.listTurns(thread.id, ["pending", "sending", "dispatched"]);
      return open.some((t) => t.state === "pending" || isRunning(t));
    },

    /** Sends a failed turn again (the same message, in its original order). */
    async retryTurn(input: {
      thread: ThreadRef;
      turnId: number;
      author: Author;
    }): Promise<Accepted | Refused<"not_mapped" | "not_found" | "not_failed">> {
      const thread = await store.getThread(input.thread);
      if (!thread) return { status: "refused", reason: "not_mapped" };
      const turn = await store.getTurn(input.turnId);
      if (!turn || turn.threadId !== thread.id) return { status: "refused", reason: "not_found" };
      if (turn.state !== "failed") return { status: "refused", reason: "not_failed" };
      const batch = (await store.listTurns(thread.id, ["failed"])).filter(
        (t) => (t.batchId ?? t.id) === (turn.batchId ?? turn.id),
      );
      await store.updateTurns(
        batch.map((t) => t.id),
        {
          state: "pending",
          batchId: null,
          attempts: 0,
          failureCode: null,
          failureDetail: null,
          finishedAt: null,
        },
      );
      logger.info(
        { threadId: thread.id, turnIds: batch.map((t) => t.id), by: input.author.id },
        "turn.retry",
      );
      return accept(thread, { ...turn, state: "pending" });
    },

    /** A timed-out turn is read again and, if still running, watched with a fresh deadline. */
    async checkAgain(input: {
      thread: ThreadRef;
      turnId: number;
    }): Promise<{ status: "watching" } | Refused<"not_mapped" | "not_found" | "not_timed_out">> {
      const thread = await store.getThread(input.thread);
      if (!thread) return { status: "refused", reason: "not_mapped" };
      const turn = await store.getTurn(input.turnId);
      if (!turn || turn.threadId !== thread.id) return { status: "refused", reason: "not_found" };
      if (turn.state !== "dispatched" || turn.timedOutAt === null)
        return { status: "refused", reason: "not_timed_out" };
      const batch = (await store.listTurns(thread.id, ["dispatched"])).filter(
        (t) => (t.batchId ?? t.id) === (turn.batchId ?? turn.id),
      );
      await engine.checkAgain(batch);
      return { status: "watching" };
    },

    /** A display name that arrived after the turn was recorded (used when turns are merged). */
    noteAuthorName(turnId: number, name: string) {
      return store.updateTurns([turnId], { authorName: name });
    },

    /** Turns of a thread (in order), e.g. the ones waiting in the queue. */
    turnsOf(threadId: number, states?: readonly TurnRecord["state"][]) {
      return store.listTurns(threadId, states);
    },
  };
}
