import type { Clock, TimerHandle } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { type DraftStore, LeaseLostError, type LeaseRef } from "./store.ts";

/**
 * This replica's leases: the threads it drives. Every lease is renewed together, every third of its
 * lifetime, in one store call. A lease counts as lost when the store says another replica took it, or
 * when it may have lapsed because renewals failed (the store unreachable): from then on its signal is
 * aborted and `assertHeld()` throws, so nothing more is written to Slack or Puffle for that thread.
 */
export interface HeldLease extends LeaseRef {
  /** Aborts when the lease is lost. */
  readonly signal: AbortSignal;
  readonly held: boolean;
  /** Throws LeaseLostError unless the lease is surely still ours (checked before every write that matters). */
  assertHeld(): void;
}

export interface LeaseKeeper {
  readonly owner: string;
  /** Takes the thread's lease, or answers undefined while another replica drives it. */
  acquire(threadId: number): Promise<HeldLease | undefined>;
  /** Gives a lease up (the thread has nothing left to do here). */
  release(lease: HeldLease): Promise<void>;
  /** Gives every lease up and answers their threads (a graceful stop hands them over at once). */
  releaseAll(): Promise<number[]>;
  /** How many leases this replica holds. */
  readonly size: number;
  stop(): void;
}

export interface LeaseKeeperOptions {
  store: DraftStore;
  owner: string;
  ttlMs: number;
  clock: Clock;
  logger: Logger;
  /** A lease taken from a replica that stopped renewing it (a crash): counted by the metrics. */
  onTakeover?: (threadId: number) => void;
}

interface Entry {
  lease: LeaseRef;
  controller: AbortController;
  /** Until when the lease is surely ours: renewal sent + ttl, minus a margin for clocks and pauses. */
  validUntil: number;
  expiryTimer: TimerHandle | undefined;
}

export function createLeaseKeeper(options: LeaseKeeperOptions): LeaseKeeper {
  const { store, owner, ttlMs, clock, logger } = options;
  const entries = new Map<number, Entry>();
  const margin = Math.min(2000, Math.round(ttlMs / 5));
  let renewTimer: TimerHandle | undefined;
  let renewing = false;
  let stopped = false;

  function lose(threadId: number, why: string) {
    const entry = entries.get(threadId);
    if (!entry) return;
    entries.delete(threadId);
    if (entry.expiryTimer !== undefined) clock.clearTimeout(entry.expiryTimer);
    logger.warn({ threadId, token: entry.lease.token, why }, "lease.lost");
    entry.controller.abort(new LeaseLostError(threadId));
  }

  function armExpiry(entry: Entry) {
    if (entry.expiryTimer !== undefined) clock.clearTimeout(entry.expiryTimer);
    entry.expiryTimer = clock.setTimeout(
      () => lose(entry.lease.threadId, "not renewed in time"),
      Math.max(0, entry.validUntil - clock.now()),
    );
  }

  async function renewAll() {
    if (renewing || entries.size === 0) return;
    renewing = true;
    const sentAt = clock.now();
    const leases = [...entries.values()].map((entry) => entry.lease);
    try {
      const kept = new Set(await store.renewLeases(leases, sentAt, ttlMs));
      for (const lease of leases) {
        const entry = entries.get(lease.threadId);
        if (!entry || entry.lease.token !== lease.token) continue;
        if (!kept.has(lease.threadId)) {
          lose(lease.threadId, "taken by another replica");
          continue;
        }
        entry.validUntil = sentAt + ttlMs - margin;
        armExpiry(entry);
      }
    } catch (error) {
      // The store is unreachable: keep the leases until they may have lapsed (the expiry timers).
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, "lease.renew_failed");
    } finally {
      renewing = false;
    }
  }

  function schedule() {
    if (stopped || renewTimer !== undefined) return;
    renewTimer = clock.setTimeout(
      () => {
        renewTimer = undefined;
        void renewAll().finally(() => {
          if (entries.size > 0) schedule();
        });
      },
      Math.max(50, Math.round(ttlMs / 3)),
    );
  }

  function handle(entry: Entry): HeldLease {
    const { lease, controller } = entry;
    return {
      ...lease,
      signal: controller.signal,
      get held() {
        return !controller.signal.aborted && clock.now() < entry.validUntil;
      },
      assertHeld() {
        if (controller.signal.aborted) throw new LeaseLostError(lease.threadId);
        if (clock.now() >= entry.validUntil) {
          lose(lease.threadId, "may have lapsed");
          throw new LeaseLostError(lease.threadId);
        }
      },
    };
  }

  return {
    owner,
    get size() {
      return entries.size;
    },
    async acquire(threadId) {
      if (stopped) return undefined;
      const existing = entries.get(threadId);
      if (existing) return handle(existing);
      const now = clock.now();
      const lease = await store.acquireLease(threadId, owner, now, ttlMs);
      if (!lease) return undefined;
      const entry: Entry = {
        lease: { threadId, owner, token: lease.token },
        controller: new AbortController(),
        validUntil: now + ttlMs - margin,
        expiryTimer: undefined,
      };
      entries.set(threadId, entry);
      armExpiry(entry);
      schedule();
      if (lease.takenFrom) {
        logger.info({ threadId, token: lease.token, from: lease.takenFrom }, "lease.taken_over");
        options.onTakeover?.(threadId);
      } else logger.debug({ threadId, token: lease.token }, "lease.taken");
      return handle(entry);
    },
    async release(lease) {
      const entry = entries.get(lease.threadId);
      if (!entry || entry.lease.token !== lease.token) return;
      entries.delete(lease.threadId);
      if (entry.expiryTimer !== undefined) clock.clearTimeout(entry.expiryTimer);
      entry.controller.abort(new LeaseLostError(lease.threadId));
      await store.releaseLeases([entry.lease]);
      logger.debug({ threadId: lease.threadId, token: lease.token }, "lease.released");
    },
    async releaseAll() {
      const all = [...entries.values()];
      entries.clear();
      for (const entry of all) {
        if (entry.expiryTimer !== undefined) clock.clearTimeout(entry.expiryTimer);
        entry.controller.abort(new LeaseLostError(entry.lease.threadId));
      }
      if (all.length > 0) {
        await store.releaseLeases(all.map((entry) => entry.lease));
        logger.info({ threads: all.map((entry) => entry.lease.threadId) }, "lease.handed_over");
      }
      return all.map((entry) => entry.lease.threadId);
    },
    stop() {
      stopped = true;
      if (renewTimer !== undefined) clock.clearTimeout(renewTimer);
      renewTimer = undefined;
      for (const entry of entries.values())
        if (entry.expiryTimer !== undefined) clock.clearTimeout(entry.expiryTimer);
    },
  };
}
