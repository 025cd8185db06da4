/**
 * Leases on PostgreSQL: which replica drives each thread. Each call is one statement; the row lock
 * it takes makes two replicas reaching for the same thread at once wait for each other, so exactly
 * one of them wins. Times are the caller's clock, like every other store kind.
 */
import type pg from "pg";
import type { DraftStore, Lease, LeaseRef } from "../../drafting/store.ts";
import { QUERIES, run } from "./queries.ts";

export type LeaseStore = Pick<
  DraftStore,
  "acquireLease" | "renewLeases" | "releaseLeases" | "threadsWithoutDriver" | "countPendingTurns"
>;

interface Acquired {
  token: number;
  previousOwner: string | null;
  previousExpiresAt: number;
}

/** Parallel arrays for unnest(), in thread order so that rows are locked in the same order each time. */
function leaseArrays(leases: readonly LeaseRef[]): [number[], string[], number[]] {
  const sorted = [...leases].sort((a, b) => a.threadId - b.threadId);
  return [sorted.map((l) => l.threadId), sorted.map((l) => l.owner), sorted.map((l) => l.token)];
}

export function postgresLeases(pool: pg.Pool): LeaseStore {
  return {
    acquireLease: async (threadId, owner, now, ttlMs): Promise<Lease | undefined> => {
      const until = now + ttlMs;
      const { rows } = await run<Acquired>(pool, QUERIES.acquireLease, [threadId, owner, now, until]);
      const row = rows[0];
      if (!row) return undefined;
      // Taking a lease another owner still had (it lapsed): a takeover, most likely after a crash.
      const takenFrom =
        row.previousOwner !== null && row.previousOwner !== owner && row.previousExpiresAt > 0
          ? row.previousOwner
          : null;
      return { threadId, owner, token: row.token, expiresAt: until, takenFrom };
    },
    renewLeases: async (leases, now, ttlMs) => {
      if (leases.length === 0) return [];
      const { rows } = await run<{ id: number }>(pool, QUERIES.renewLeases, [
        ...leaseArrays(leases),
        now + ttlMs,
      ]);
      const kept = new Set(rows.map((row) => row.id));
      return leases.filter((lease) => kept.has(lease.threadId)).map((lease) => lease.threadId);
    },
    releaseLeases: async (leases) => {
      if (leases.length === 0) return;
      await run(pool, QUERIES.releaseLeases, leaseArrays(leases));
    },
    threadsWithoutDriver: async (now, limit) => {
      const { rows } = await run<{ id: number }>(pool, QUERIES.threadsWithoutDriver, [now, limit]);
      return rows.map((row) => row.id);
    },
    countPendingTurns: async () => {
      const { rows } = await run<{ n: number }>(pool, QUERIES.countPending, []);
      return rows[0]?.n ?? 0;
    },
  };
}
