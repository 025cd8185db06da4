import { type Clock, sleep } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { PuffleClient } from "../puffle/client.ts";
import { CONTRACT } from "../puffle/contract.ts";
import { isPuffleError } from "../puffle/errors.ts";
import type { Campaign, SequenceNode } from "../puffle/schemas.ts";
import { type CampaignContext, createCampaignContext, draftViewOf, stepLabel } from "./campaign-context.ts";
import { type DraftView, draftHashOf } from "./draft-view.ts";
import { createLeaseKeeper, type HeldLease } from "./leases.ts";
import type { Author, OutcomeSink } from "./outcomes.ts";
import { createDurationModel, type DurationModel } from "./poll-schedule.ts";
import type { RunSubscriber, StreamReader } from "./realtime.ts";
import {
  type DraftStore,
  hasStep,
  type ReadyThread,
  type StepChoice,
  type ThreadRecord,
  type ThreadRef,
  type TurnRecord,
} from "./store.ts";
import { createTaskWatcher } from "./task-watcher.ts";
import { createTurnEngine } from "./turn-engine.ts";

/**
 * The drafting use cases, with no Slack in them: start a draft, send a message, generate
 * examples, edit, save to the campaign, retry, check again. Results reach the Slack layer as
 * plain outcomes through `emit`.
 */
export interface DraftingServiceOptions {
  store: DraftStore;
  puffle: PuffleClient;
  clock: Clock;
  logger: Logger;
  emit: OutcomeSink;
  pollIntervalMs: number;
  turnTimeoutMs: number;
  /** Defaults to twice the turn timeout (5 min -> 10 min). */
  examplesTimeoutMs?: number;
  /** Realtime follower; absent when TRIGGER_API_URL=off. */
  subscriber?: RunSubscriber | undefined;
  /** Realtime stream reader (the reply as it is written); absent when TRIGGER_API_URL=off. */
  streams?: StreamReader | undefined;
  defaultStep?: StepChoice | undefined;
  campaigns?: CampaignContext;
  durations?: DurationModel;
  /** The benchmark's baseline: a plain fixed poller. */
  pollMode?: "learned" | "fixed";
  /** This process among the replicas sharing the store (leases are held in its name). */
  replicaId: string;
  /** A thread's lease lapses this long after its last renewal (LEASE_TTL_MS). */
  leaseTtlMs: number;
  /** How often to look for threads no replica drives; default min(2 s, a third of the lease). */
  sweepMs?: number;
  /** A thread taken over from a replica that stopped (for the metrics). */
  onTakeover?: (threadId: number) => void;
}

/**
 * A turn Puffle may still be working on: sent (or maybe sent), not timed out, and not already
 * finished on Puffle's side (a finished one is only waiting for Slack to show its result).
 */
function isRunning(turn: TurnRecord): boolean {
  return (
    (turn.state === "sending" || turn.state === "dispatched") &&
    turn.timedOutAt === null &&
    turn.finishedAt === null
  );
}

export type Accepted = { status: "accepted"; thread: ThreadRecord; turn: TurnRecord; queued: boolean };
export type Refused<R extends string> = { status: "refused"; reason: R; detail?: string };

export type StepSource = "channel" | "user" | "default";

export interface StepOption {
  node: SequenceNode;
  label: string;
}

/** How long an edit waits for a driver that is only showing a finished result. */
const LEASE_WAIT_MS = 3000;

export function createDraftingService(options: DraftingServiceOptions) {
  const { store, puffle, clock } = options;
  const logger = options.logger.child({ component: "drafting" });
  const campaigns =
    options.campaigns ??
    createCampaignContext({ puffle, clock, logger: options.logger.child({ component: "campaigns" }) });
  const watcher = createTaskWatcher({
    puffle,
    clock,
    logger: options.logger.child({ component: "watcher" }),
    pollIntervalMs: options.pollIntervalMs,
    subscriber: options.subscriber,
    streams: options.streams,
    durations: options.durations ?? createDurationModel(),
    pollMode: options.pollMode ?? "learned",
  });
  const leases = createLeaseKeeper({
    store,
    owner: options.replicaId,
    ttlMs: options.leaseTtlMs,
    clock,
    logger: options.logger.child({ component: "leases" }),
    ...(options.onTakeover ? { onTakeover: options.onTakeover } : {}),
  });
  const engine = createTurnEngine({
    store,
    puffle,
    watcher,
    campaigns,
    clock,
    leases,
    logger: options.logger.child({ component: "engine" }),
    emit: options.emit,
    turnTimeoutMs: options.turnTimeoutMs,
    examplesTimeoutMs: options.examplesTimeoutMs ?? options.turnTimeoutMs * 2,
    sweepMs: options.sweepMs ?? Math.min(2000, Math.max(100, Math.round(options.leaseTtlMs / 3))),
    streaming: Boolean(options.subscriber && options.streams),
  });

  /**
   * The thread's lease for work outside a turn. When Puffle is done and the thread's driver is only
   * showing the result, that takes a moment: wait for it rather than refuse.
   */
  async function acquireSoon(threadId: number): Promise<HeldLease | undefined> {
    const deadline = clock.now() + LEASE_WAIT_MS;
    for (;;) {
      if (!engine.isBusy(threadId)) {
        const lease = await leases.acquire(threadId);
        if (lease) return lease;
      }
      if (clock.now() >= deadline || (await hasActiveTask(threadId))) return undefined;
      await sleep(clock, 50);
    }
  }

  /**
   * Runs `work` holding the thread's lease, for changes made outside a turn (an edit, a save): answers
   * undefined when another replica (or this one) is driving the thread right now.
   */
  async function withLease<T>(
    threadId: number,
    work: (lease: HeldLease) => Promise<T>,
  ): Promise<T | undefined> {
    const lease = await acquireSoon(threadId);
    if (!lease) return undefined;
    try {
      return await work(lease);
    } finally {
      await leases.release(lease);
      // Work recorded meanwhile (a message while the edit ran) finds a driver.
      engine.wake(threadId);
    }
  }

  /** True while a task of this thread runs (or may run): new messages wait behind it. */
  async function hasActiveTask(threadId: number) {
    const open = await store.listTurns(threadId, ["sending", "dispatched"]);
    return open.some(isRunning);
  }

  /** A recorded turn: whichever replica drives the thread is woken (it shows the turn queued if a task runs). */
  async function accept(thread: ThreadRecord, turn: TurnRecord): Promise<Accepted> {
    const queued = await hasActiveTask(thread.id);
    engine.wake(thread.id);
    return { status: "accepted", thread, turn, queued };
  }

  /** The thread at `ref` when it has a step and a Puffle session. */
  async function draftedThread(ref: ThreadRef): Promise<(ReadyThread & { sessionId: string }) | undefined> {
    const thread = await store.getThread(ref);
    if (!thread?.sessionId || !hasStep(thread)) return undefined;
    return { ...thread, sessionId: thread.sessionId };
  }

  async function idleSession(thread: ThreadRecord) {
    if (!thread.sessionId) return undefined;
    if (await hasActiveTask(thread.id)) return undefined;
    if ((await store.listTurns(thread.id, ["pending"])).length > 0) return undefined;
    const session = await puffle.getSession(thread.sessionId);
    return session.task_status === null ? session : undefined;
  }

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

    /** The current draft (fresh from Puffle), e.g. to fill the Edit modal. */
    async currentDraft(ref: ThreadRef): Promise<DraftView | undefined> {
      const thread = await draftedThread(ref);
      if (!thread) return undefined;
      return draftViewOf(campaigns, thread, await puffle.getSession(thread.sessionId));
    },

    /** True while the thread has a task running or messages waiting (a cheap, local check). */
    async isBusy(ref: ThreadRef): Promise<boolean> {
      const thread = await store.getThread(ref);
      if (!thread) return false;
      const open = await store.listTurns(thread.id, ["pending", "sending", "dispatched"]);
      return open.some((t) => t.state === "pending" || isRunning(t));
    },

    /**
     * Saves an edited subject and/or body with PATCH, only while the session is idle (PATCH
     * does not check task_status itself). A null field keeps what Puffle has.
     */
    async editDraft(input: {
      thread: ThreadRef;
      author: Author;
      subject: string | null;
      body: string | null;
    }): Promise<
      { status: "saved"; thread: ThreadRecord } | Refused<"not_mapped" | "busy" | "nothing_changed">
    > {
      const thread = await draftedThread(input.thread);
      if (!thread) return { status: "refused", reason: "not_mapped" };
      if (input.subject === null && input.body === null)
        return { status: "refused", reason: "nothing_changed" };
      const edited = await withLease(thread.id, async (lease) => {
        const session = await idleSession(thread);
        if (!session) return undefined;
        lease.assertHeld();
        const saved = await puffle.patchSession(thread.sessionId, {
          ...(input.subject === null ? {} : { draft_subject: input.subject }),
          ...(input.body === null ? {} : { draft_body: input.body }),
        });
        await store.updateThread(
          thread.id,
          { draftHash: draftHashOf(saved), messageCount: saved.messages?.length ?? thread.messageCount },
          lease,
        );
        logger.info(
          { threadId: thread.id, sessionId: thread.sessionId, by: input.author.id },
          "draft.edited",
        );
        // The new card is shown under the same lease.
        await options.emit({
          type: "edited",
          thread,
          turnIds: [],
          kind: "chat",
          fence: lease,
          draft: await draftViewOf(campaigns, thread, saved),
          requestedBy: [input.author],
          editId: `${thread.id}:${clock.now()}`,
        });
        return thread;
      });
      return edited ? { status: "saved", thread: edited } : { status: "refused", reason: "busy" };
    },

    /** Writes the draft to the campaign step: email steps of draft campaigns only. */
    async saveToCampaign(input: {
      thread: ThreadRef;
      author: Author;
    }): Promise<
      | { status: "saved"; thread: ThreadRecord; node: SequenceNode; campaignName: string; stepLabel: string }
      | Refused<"not_mapped" | "busy" | "no_draft" | "not_email_step" | "campaign_not_draft">
    > {
      const thread = await draftedThread(input.thread);
      if (!thread) return { status: "refused", reason: "not_mapped" };
      campaigns.invalidate(thread.campaignId);
      const snapshot = await campaigns.get(thread.campaignId);
      const node = snapshot.nodes.find((n) => n.id === thread.nodeId);
      if (!node || !(CONTRACT.savableNodeTypes as readonly string[]).includes(node.type)) {
        return { status: "refused", reason: "not_email_step", detail: node?.type };
      }
      if (snapshot.campaign.status !== CONTRACT.savableCampaignStatus) {
        return {
          status: "refused",
          reason: "campaign_not_draft",
          detail: snapshot.campaign.status ?? undefined,
        };
      }
      // The campaign's step is written, not the thread or its session: no lease needed, only an idle session.
      const session = await idleSession(thread);
      if (!session) return { status: "refused", reason: "busy" };
      if (!session.draft_subject && !session.draft_body) return { status: "refused", reason: "no_draft" };
      const saved = await puffle.updateNode(thread.campaignId, thread.nodeId, {
        subject: session.draft_subject ?? "",
        body: session.draft_body ?? "",
      });
      campaigns.invalidate(thread.campaignId);
      logger.info(
        { threadId: thread.id, campaignId: thread.campaignId, nodeId: thread.nodeId, by: input.author.id },
        "draft.saved_to_campaign",
      );
      return {
        status: "saved",
        thread,
        node: saved,
        campaignName: snapshot.campaign.name,
        stepLabel: stepLabel(snapshot, thread.nodeId),
      };
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

    /** The step for a new draft: the channel's choice (or, in a DM, the user's), else the default. */
    async resolveStep(input: {
      teamId: string;
      channelId: string;
      userId: string;
      isDirect: boolean;
    }): Promise<(StepChoice & { source: StepSource }) | undefined> {
      const saved = input.isDirect
        ? await store.getUserChoice(input.teamId, input.userId)
        : await store.getChannelChoice(input.teamId, input.channelId);
      if (saved)
        return {
          campaignId: saved.campaignId,
          nodeId: saved.nodeId,
          source: input.isDirect ? "user" : "channel",
        };
      return options.defaultStep ? { ...options.defaultStep, source: "default" } : undefined;
    },

    async rememberStep(input: {
      teamId: string;
      channelId: string;
      userId: string;
      step: StepChoice;
      forChannel: boolean;
    }): Promise<void> {
      const now = clock.now();
      await store.setUserChoice(input.teamId, input.userId, input.step, now);
      if (input.forChannel)
        await store.setChannelChoice(input.teamId, input.channelId, input.step, input.userId, now);
    },

    channelChoice(teamId: string, channelId: string) {
      return store.getChannelChoice(teamId, channelId);
    },

    /** Campaigns for the picker: draft campaigns first, then by name. */
    async listCampaigns(): Promise<Campaign[]> {
      const list = await puffle.listCampaigns();
      const rank = (c: Campaign) => (c.status === "draft" ? 0 : 1);
      return [...list].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    },

    /** The steps a session can draft (email and AI steps), labelled. */
    async listSteps(campaignId: string): Promise<StepOption[]> {
      const snapshot = await campaigns.get(campaignId);
      return snapshot.nodes
        .filter((n) => (CONTRACT.draftableNodeTypes as readonly string[]).includes(n.type))
        .sort((a, b) => a.position - b.position)
        .map((node) => ({ node, label: stepLabel(snapshot, node.id) }));
    },

    /** Campaign and step names for display, when Puffle can tell us. */
    async describeStep(step: StepChoice): Promise<{ campaignName: string; stepLabel: string } | undefined> {
      try {
        const snapshot = await campaigns.get(step.campaignId);
        return { campaignName: snapshot.campaign.name, stepLabel: stepLabel(snapshot, step.nodeId) };
      } catch (error) {
        logger.warn(
          { ...step, err: isPuffleError(error) ? error.toLog() : String(error) },
          "campaign.unavailable",
        );
        return undefined;
      }
    },

    /** A display name that arrived after the turn was recorded (used when turns are merged). */
    noteAuthorName(turnId: number, name: string) {
      return store.updateTurns([turnId], { authorName: name });
    },

    /** Turns of a thread (in order), e.g. the ones waiting in the queue. */
    turnsOf(threadId: number, states?: readonly TurnRecord["state"][]) {
      return store.listTurns(threadId, states);
    },

    /** This replica's name in leases and logs. */
    replicaId: options.replicaId,
    /** Starts driving: wake-ups, the sweep, and every thread with open work no replica drives. */
    start: engine.start,
    stop: engine.stop,
    idle: engine.idle,
    busy: engine.busy,
  };
}

export type DraftingService = ReturnType<typeof createDraftingService>;
