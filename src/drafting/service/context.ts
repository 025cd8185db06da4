import { type Clock, sleep } from "../../clock.ts";
import type { Logger } from "../../logger.ts";
import type { Session } from "../../puffle/schemas.ts";
import type { PuffleAccount, PuffleAccounts } from "../accounts.ts";
import type { HeldLease, LeaseKeeper } from "../leases.ts";
import type { OutcomeSink } from "../outcomes.ts";
import {
  type DraftStore,
  hasStep,
  type ReadyThread,
  type ThreadRecord,
  type ThreadRef,
  type TurnRecord,
} from "../store.ts";
import type { WorkspaceStore } from "../workspaces.ts";

/** What every group of use cases shares. */
export interface ServiceContext {
  store: DraftStore & WorkspaceStore;
  accounts: PuffleAccounts;
  clock: Clock;
  logger: Logger;
  leases: LeaseKeeper;
  emit: OutcomeSink;
  engine: {
    wake(threadId: number): void;
    isBusy(threadId: number): boolean;
    checkAgain(batch: TurnRecord[]): Promise<void>;
  };
  /** The deployment's default step (PUFFLE_CAMPAIGN_ID + PUFFLE_NODE_ID). */
  defaultStep: { campaignId: string; nodeId: string } | undefined;
}

export type Accepted = { status: "accepted"; thread: ThreadRecord; turn: TurnRecord; queued: boolean };
export type Refused<R extends string> = { status: "refused"; reason: R; detail?: string };

/** The workspace has no Puffle account: an admin connects a key in the Home tab. */
export class NoPuffleKeyError extends Error {
  constructor(readonly teamId: string) {
    super("this workspace has not connected a Puffle key");
    this.name = "NoPuffleKeyError";
  }
}

/**
 * A turn Puffle may still be working on: sent (or maybe sent), not timed out, and not already
 * finished on Puffle's side (a finished one is only waiting for Slack to show its result).
 */
export function isRunning(turn: TurnRecord): boolean {
  return (
    (turn.state === "sending" || turn.state === "dispatched") &&
    turn.timedOutAt === null &&
    turn.finishedAt === null
  );
}

/** How long an edit waits for a driver that is only showing a finished result. */
const LEASE_WAIT_MS = 3000;

export function sharedHelpers(ctx: ServiceContext) {
  const { store, clock } = ctx;

  /** True while a task of this thread runs (or may run): new messages wait behind it. */
  async function hasActiveTask(threadId: number) {
    const open = await store.listTurns(threadId, ["sending", "dispatched"]);
    return open.some(isRunning);
  }

  /** The thread's lease for work outside a turn; waits a moment for a driver only showing a result. */
  async function acquireSoon(threadId: number): Promise<HeldLease | undefined> {
    const deadline = clock.now() + LEASE_WAIT_MS;
    for (;;) {
      if (!ctx.engine.isBusy(threadId)) {
        const lease = await ctx.leases.acquire(threadId);
        if (lease) return lease;
      }
      if (clock.now() >= deadline || (await hasActiveTask(threadId))) return undefined;
      await sleep(clock, 50);
    }
  }

  return {
    hasActiveTask,

    /**
     * Runs `work` holding the thread's lease, for changes made outside a turn (an edit): answers
     * undefined when a replica (this one or another) is driving the thread right now.
     */
    async withLease<T>(threadId: number, work: (lease: HeldLease) => Promise<T>): Promise<T | undefined> {
      const lease = await acquireSoon(threadId);
      if (!lease) return undefined;
      try {
        return await work(lease);
      } finally {
        await ctx.leases.release(lease);
        // Work recorded meanwhile (a message while the edit ran) finds a driver.
        ctx.engine.wake(threadId);
      }
    },

    /** A recorded turn: the thread's driver is woken (it shows the turn queued if a task runs). */
    async accept(thread: ThreadRecord, turn: TurnRecord): Promise<Accepted> {
      const queued = await hasActiveTask(thread.id);
      ctx.engine.wake(thread.id);
      return { status: "accepted", thread, turn, queued };
    },

    /** The thread at `ref` when it has a step and a Puffle session. */
    async draftedThread(ref: ThreadRef): Promise<(ReadyThread & { sessionId: string }) | undefined> {
      const thread = await store.getThread(ref);
      if (!thread?.sessionId || !hasStep(thread)) return undefined;
      return { ...thread, sessionId: thread.sessionId };
    },

    /** The workspace's Puffle account, or NoPuffleKeyError. */
    async account(teamId: string): Promise<PuffleAccount> {
      const account = await ctx.accounts.forTeam(teamId);
      if (!account) throw new NoPuffleKeyError(teamId);
      return account;
    },

    /** The session when nothing runs or waits in the thread and Puffle says it is idle. */
    async idleSession(thread: ThreadRecord, account: PuffleAccount): Promise<Session | undefined> {
      if (!thread.sessionId) return undefined;
      if (await hasActiveTask(thread.id)) return undefined;
      if ((await store.listTurns(thread.id, ["pending"])).length > 0) return undefined;
      const session = await account.puffle.getSession(thread.sessionId);
      return session.task_status === null ? session : undefined;
    },
  };
}

export type SharedHelpers = ReturnType<typeof sharedHelpers>;
