import { setMaxListeners } from "node:events";
import { AbortedError, type Clock, linkSignals, type TimerHandle } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { PuffleAccounts } from "./accounts.ts";
import { batchOf, takeBatch } from "./batches.ts";
import type { HeldLease, LeaseKeeper } from "./leases.ts";
import type { OutcomeSink } from "./outcomes.ts";
import { type DraftStore, hasStep, LeaseLostError, type TurnKind, type TurnRecord } from "./store.ts";
import type { TaskWatcher } from "./task-watcher.ts";
import type { DraftingTelemetry } from "./telemetry.ts";
import { driveThread, type ThreadDriver } from "./thread-driver.ts";

/**
 * The turn engine: one loop per thread that drains its turns in order, run by whichever replica holds
 * the thread's lease. At most one Puffle task per session at a time; different threads run fully in
 * parallel.
 *
 * Per thread, repeatedly: create the session if the thread has none; watch the dispatched batch until
 * the task ends; settle a batch whose dispatch is unconfirmed; else send every pending message as the
 * next turn. All state lives in the store, so another replica (or the next start) picks up exactly
 * where this one stopped. Work reaches a thread's driver by wake-ups from any replica, and a periodic
 * sweep takes over threads whose driver stopped renewing its lease.
 */
export interface TurnEngineOptions {
  store: DraftStore;
  /** The Puffle account of each workspace. */
  accounts: PuffleAccounts;
  watcher: TaskWatcher;
  clock: Clock;
  logger: Logger;
  emit: OutcomeSink;
  leases: LeaseKeeper;
  turnTimeoutMs: number;
  examplesTimeoutMs: number;
  /** How often to look for threads no replica drives (a crashed replica's threads). */
  sweepMs: number;
  /** Replies can stream in (realtime streams are read). */
  streaming: boolean;
  telemetry: DraftingTelemetry;
}

/** Threads taken over per sweep at most; the next sweep takes the rest. */
const SWEEP_BATCH = 200;

export function createTurnEngine(options: TurnEngineOptions) {
  const { store, clock, logger, leases } = options;
  const loops = new Map<number, Promise<void>>();
  /** Drivers of the loops running here, to show newly queued messages while a task runs. */
  const drivers = new Map<number, ThreadDriver>();
  /** Threads kicked while their loop runs: the loop looks again before it exits. */
  const dirty = new Set<number>();
  const shutdown = new AbortController();
  // Every running turn listens for shutdown: thousands of listeners are expected, not a leak.
  setMaxListeners(0, shutdown.signal);
  let sweepTimer: TimerHandle | undefined;
  let stopWaking: (() => void) | undefined;

  const timeoutFor = (kind: TurnKind) =>
    kind === "examples" ? options.examplesTimeoutMs : options.turnTimeoutMs;
  const wake = (threadId: number) => {
    store.wake(threadId).catch((error: unknown) => {
      logger.warn(
        { threadId, err: error instanceof Error ? error.message : String(error) },
        "engine.wake_failed",
      );
    });
  };

  function kick(threadId: number) {
    if (shutdown.signal.aborted) return;
    if (loops.has(threadId)) {
      dirty.add(threadId);
      void showQueued(threadId);
      return;
    }
    dirty.delete(threadId);
    const loop = runWithLease(threadId)
      .catch((error: unknown) => {
        if (error instanceof AbortedError || error instanceof LeaseLostError || shutdown.signal.aborted)
          return;
        logger.error(
          { threadId, err: error instanceof Error ? error.stack : String(error) },
          "engine.loop_failed",
        );
      })
      .finally(() => {
        loops.delete(threadId);
        drivers.delete(threadId);
        if (dirty.has(threadId)) kick(threadId);
      });
    loops.set(threadId, loop);
  }

  /** New messages while this replica's task for the thread runs: the thread shows them queued. */
  async function showQueued(threadId: number) {
    const driver = drivers.get(threadId);
    if (!driver) return;
    try {
      const thread = await store.getThreadById(threadId);
      const open = thread ? await store.listTurns(threadId, ["sending", "dispatched"]) : [];
      if (thread && open.some((t) => t.timedOutAt === null && t.finishedAt === null))
        await driver.announceQueued(thread, "behind_current_task");
    } catch (error) {
      if (error instanceof LeaseLostError) return;
      logger.warn(
        { threadId, err: error instanceof Error ? error.message : String(error) },
        "engine.queued_failed",
      );
    }
  }

  async function runWithLease(threadId: number): Promise<void> {
    const lease = await leases.acquire(threadId);
    if (!lease) return; // another replica drives it (and was woken too)
    try {
      await runLoop(threadId, lease);
    } finally {
      // On a graceful stop, stop() hands every lease over at once.
      if (!shutdown.signal.aborted) await leases.release(lease);
    }
  }

  async function runLoop(threadId: number, lease: HeldLease): Promise<void> {
    const linked = linkSignals(shutdown.signal, lease.signal);
    try {
      const first = await store.getThreadById(threadId);
      if (!first || first.endedAt !== null) return;
      const account = await options.accounts.forTeam(first.teamId);
      if (!account) {
        // No Puffle key for this workspace yet: the messages wait (connecting a key wakes the thread).
        const waiting = await store.listTurns(threadId, ["pending"]);
        if (waiting.length > 0)
          await options.emit({
            type: "needs_key",
            thread: first,
            turnIds: waiting.map((t) => t.id),
            kind: "chat",
            fence: lease,
          });
        return;
      }
      const driver = driveThread(
        { ...options, puffle: account.puffle, campaigns: account.campaigns, timeoutFor, wake },
        lease,
        linked.signal,
      );
      drivers.set(threadId, driver);
      let announced = false;
      for (;;) {
        if (linked.signal.aborted) return;
        lease.assertHeld();
        dirty.delete(threadId);
        const thread = await store.getThreadById(threadId);
        // A thread without a step waits until someone picks one (chooseStep wakes it again).
        if (!thread || !hasStep(thread) || thread.endedAt !== null) return;
        const open = await store.listTurns(threadId, ["pending", "sending", "dispatched"]);
        if (open.length === 0) return;
        if (!thread.sessionId) {
          if (!(await driver.ensureSession(thread, open))) return;
          continue;
        }
        const active = open.filter((t) => t.state === "dispatched" && t.timedOutAt === null);
        if (active.length > 0) {
          // Taken over, or woken with messages that came meanwhile: the thread shows they wait.
          if (
            !announced &&
            open.some((t) => t.state === "pending") &&
            active.some((t) => t.finishedAt === null)
          )
            await driver.announceQueued(thread, "behind_current_task");
          announced = true;
          await driver.watchBatch(thread, batchOf(active));
          continue;
        }
        const sending = open.filter((t) => t.state === "sending");
        if (sending.length > 0) {
          await driver.settleUnconfirmed(thread, batchOf(sending));
          continue;
        }
        const pending = open.filter((t) => t.state === "pending");
        if (pending.length === 0) return; // only timed-out turns left: they wait for "check again"
        await driver.dispatch(thread, takeBatch(pending));
      }
    } finally {
      linked.dispose();
    }
  }

  async function sweep(): Promise<number> {
    if (shutdown.signal.aborted) return 0;
    const ids = (await store.threadsWithoutDriver(clock.now(), SWEEP_BATCH)).filter((id) => !loops.has(id));
    for (const id of ids) kick(id);
    if (ids.length > 0) logger.info({ threads: ids.length }, "engine.threads_without_driver");
    return ids.length;
  }

  function scheduleSweep() {
    sweepTimer = clock.setTimeout(() => {
      sweep()
        .catch((error: unknown) =>
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, "engine.sweep_failed"),
        )
        .finally(() => {
          if (!shutdown.signal.aborted) scheduleSweep();
        });
    }, options.sweepMs);
  }

  return {
    kick,
    wake,
    /** Starts taking work: wake-ups from every replica, the sweep, and the threads nobody drives now. */
    async start(): Promise<number> {
      stopWaking = store.onWake((threadId) => kick(threadId));
      const taken = await sweep();
      scheduleSweep();
      return taken;
    },
    /** A timed-out batch gets a fresh deadline that any replica reads, and is watched again. */
    async checkAgain(batch: TurnRecord[]) {
      const first = batch[0];
      if (!first) return;
      await store.updateTurns(
        batch.map((t) => t.id),
        { timedOutAt: null, deadlineAt: clock.now() + timeoutFor(first.kind) },
      );
      wake(first.threadId);
    },
    isBusy(threadId: number) {
      return loops.has(threadId);
    },
    /** True while any loop runs here. */
    busy() {
      return loops.size > 0;
    },
    activeThreads() {
      return loops.size;
    },
    /**
     * Stops every loop and hands this replica's threads over at once (their turns stay in the store,
     * and the other replicas are woken to take them).
     */
    async stop(): Promise<void> {
      shutdown.abort();
      stopWaking?.();
      if (sweepTimer !== undefined) clock.clearTimeout(sweepTimer);
      await Promise.allSettled([...loops.values()]);
      const released = await leases.releaseAll().catch((error: unknown) => {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          "lease.hand_over_failed",
        );
        return [];
      });
      leases.stop();
      await Promise.allSettled(released.map((threadId) => store.wake(threadId)));
    },
    /** Resolves when no loop runs (tests and shutdown). */
    async idle(): Promise<void> {
      while (loops.size > 0) await Promise.allSettled([...loops.values()]);
    },
  };
}
