/**
 * The DraftStore's records on PostgreSQL: delivery keys, threads, turns and saved choices, with the
 * fenced writes. A claim of delivery keys and the rows it guards commit together: the unique keys
 * make a second replica wait for the first and then see its claim, so one of them wins. A fenced
 * write is one statement that locks the thread's row while it checks the lease, so a takeover
 * cannot commit between the check and the write.
 */
import type pg from "pg";
import {
  DELIVERY_KEY_TTL_MS,
  type DraftStore,
  LeaseLostError,
  type LeaseRef,
  type NewThread,
  type NewTurn,
  type SavedChoice,
  type ThreadRecord,
  type TurnRecord,
} from "../../drafting/store.ts";
import { setFields, THREAD_PATCH_FIELDS, TURN_PATCH_FIELDS } from "../columns.ts";
import { isSessionTaken, transaction } from "./pool.ts";
import { QUERIES, run, type Statement, threadPatch, turnPatch } from "./queries.ts";

export type DraftRecords = Omit<
  DraftStore,
  | "close"
  | "acquireLease"
  | "renewLeases"
  | "releaseLeases"
  | "threadsWithoutDriver"
  | "countPendingTurns"
  | "wake"
  | "onWake"
>;

function threadValues(thread: NewThread, now: number): unknown[] {
  return [
    thread.teamId,
    thread.channelId,
    thread.threadTs,
    thread.sessionId ?? null,
    thread.campaignId ?? null,
    thread.nodeId ?? null,
    thread.startedBy,
    now,
  ];
}

function turnValues(turn: NewTurn, now: number): unknown[] {
  return [
    turn.threadId,
    turn.kind,
    turn.text,
    turn.authorId,
    turn.authorName ?? null,
    turn.slackTs ?? null,
    turn.leadCount ?? null,
    now,
  ];
}

/** PostgreSQL names the violated index; callers need to know which session is taken. */
async function explainSessionConflict<T>(sessionId: string | null | undefined, write: () => Promise<T>) {
  try {
    return await write();
  } catch (error) {
    if (isSessionTaken(error))
      throw new Error(`Session ${sessionId} is already mapped to another thread`, { cause: error });
    throw error;
  }
}

/** Claims every key or none: answers false when one is live (the caller's transaction rolls back). */
async function claim(client: pg.PoolClient, keys: readonly string[], now: number): Promise<boolean> {
  // Sorted, so that two claims of the same keys lock them in the same order (no deadlock).
  const unique = [...new Set(keys)].sort();
  if (unique.length === 0) return true;
  const claimed = await run(client, QUERIES.claimKeys, [unique, now + DELIVERY_KEY_TTL_MS, now]);
  return claimed.rowCount === unique.length;
}

const BENCH_CHUNK = 5_000;

export function postgresDraftRecords(pool: pg.Pool): DraftRecords & {
  insertThreads(threads: readonly NewThread[], now: number): Promise<void>;
} {
  const first = async <R extends pg.QueryResultRow>(statement: Statement, values: readonly unknown[]) =>
    (await run<R>(pool, statement, values)).rows[0];

  const checkFence = async (fence: LeaseRef | undefined) => {
    if (!fence) return;
    const found = await run(pool, QUERIES.fence, [fence.threadId, fence.owner, fence.token]);
    if (found.rowCount === 0) throw new LeaseLostError(fence.threadId);
  };
  const fenceValues = (fence: LeaseRef) => [fence.threadId, fence.owner, fence.token];

  return {
    claimDeliveries: async (keys, now) =>
      keys.length === 0
        ? true
        : transaction<boolean>(pool, async (client, rollback) =>
            (await claim(client, keys, now)) ? true : rollback(false),
          ),
    pruneDeliveries: async (now) => (await run(pool, QUERIES.pruneKeys, [now])).rowCount ?? 0,

    createThreadWithTurn: (thread, turn, options) =>
      explainSessionConflict(thread.sessionId, () =>
        transaction<{ thread: ThreadRecord; turn: TurnRecord } | "duplicate" | "thread_exists">(
          pool,
          async (client, rollback) => {
            // A retried event for a thread it already created is a duplicate, not a second thread.
            if (!(await claim(client, options.dedupeKeys ?? [], options.now))) return rollback("duplicate");
            const created = await run<ThreadRecord>(
              client,
              QUERIES.insertThread,
              threadValues(thread, options.now),
            );
            const record = created.rows[0];
            // Rolling back gives the claimed keys up again.
            if (!record) return rollback("thread_exists");
            const added = await run<TurnRecord>(
              client,
              QUERIES.insertTurn,
              turnValues({ ...turn, threadId: record.id }, options.now),
            );
            return { thread: record, turn: added.rows[0]! };
          },
        ),
      ),
    createThread: async (thread, now) =>
      (await explainSessionConflict(thread.sessionId, () =>
        first<ThreadRecord>(QUERIES.insertThread, threadValues(thread, now)),
      )) ?? "thread_exists",
    getThread: (ref) => first<ThreadRecord>(QUERIES.threadByRef, [ref.teamId, ref.channelId, ref.threadTs]),
    getThreadById: (id) => first<ThreadRecord>(QUERIES.threadById, [id]),
    getThreadBySession: (sessionId) => first<ThreadRecord>(QUERIES.threadBySession, [sessionId]),
    updateThread: async (id, patch, fence) => {
      const fields = setFields(THREAD_PATCH_FIELDS, patch);
      if (fields.length === 0) return checkFence(fence);
      const values = [id, ...fields.map((field) => patch[field])];
      const result = await explainSessionConflict(patch.sessionId, () =>
        fence
          ? run<{ held: boolean }>(pool, threadPatch(fields, true), [...values, ...fenceValues(fence)])
          : run(pool, threadPatch(fields, false), values),
      );
      if (fence && !result.rows[0]?.held) throw new LeaseLostError(fence.threadId);
    },
    deleteThread: async (id, fence) => {
      // Turns go with the thread (ON DELETE CASCADE).
      if (!fence) {
        await run(pool, QUERIES.deleteThread, [id]);
        return;
      }
      const result = await run<{ held: boolean }>(pool, QUERIES.deleteThreadFenced, [
        id,
        ...fenceValues(fence),
      ]);
      if (!result.rows[0]?.held) throw new LeaseLostError(fence.threadId);
    },

    getChannelChoice: (teamId, channelId) => first<SavedChoice>(QUERIES.channelChoice, [teamId, channelId]),
    setChannelChoice: async (teamId, channelId, choice, setBy, now) => {
      await run(pool, QUERIES.putChannelChoice, [
        teamId,
        channelId,
        choice.campaignId,
        choice.nodeId,
        setBy,
        now,
      ]);
    },
    getUserChoice: (teamId, userId) => first<SavedChoice>(QUERIES.userChoice, [teamId, userId]),
    setUserChoice: async (teamId, userId, choice, now) => {
      await run(pool, QUERIES.putUserChoice, [teamId, userId, choice.campaignId, choice.nodeId, now]);
    },

    addTurn: (turn, options) =>
      transaction<TurnRecord | "duplicate">(pool, async (client, rollback) => {
        if (!(await claim(client, options.dedupeKeys ?? [], options.now))) return rollback("duplicate");
        return (await run<TurnRecord>(client, QUERIES.insertTurn, turnValues(turn, options.now))).rows[0]!;
      }),
    getTurn: (id) => first<TurnRecord>(QUERIES.turnById, [id]),
    listTurns: async (threadId, states) =>
      states === undefined
        ? (await run<TurnRecord>(pool, QUERIES.turnsOfThread, [threadId])).rows
        : (await run<TurnRecord>(pool, QUERIES.turnsOfThreadInStates, [threadId, [...states]])).rows,
    updateTurns: async (ids, patch, fence) => {
      const fields = setFields(TURN_PATCH_FIELDS, patch);
      const unique = [...new Set(ids)];
      if (fields.length === 0 || unique.length === 0) return checkFence(fence);
      const values = [unique, ...fields.map((field) => patch[field])];
      if (!fence) {
        await run(pool, turnPatch(fields, false), values);
        return;
      }
      const result = await run<{ held: boolean; own: number }>(pool, turnPatch(fields, true), [
        ...values,
        ...fenceValues(fence),
      ]);
      // A lost lease, or a turn of another thread (or of none): nothing was changed.
      const row = result.rows[0];
      if (!row?.held || row.own !== unique.length) throw new LeaseLostError(fence.threadId);
    },
    moveTurns: async (ids, threadId, fence) => {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return checkFence(fence);
      if (!fence) {
        await run(pool, QUERIES.moveTurns, [unique, threadId]);
        return;
      }
      const result = await run<{ held: boolean }>(pool, QUERIES.moveTurnsFenced, [
        unique,
        threadId,
        ...fenceValues(fence),
      ]);
      if (!result.rows[0]?.held) throw new LeaseLostError(fence.threadId);
    },
    listThreadsWithOpenTurns: async () =>
      (await run<ThreadRecord>(pool, QUERIES.threadsWithOpenTurns, [])).rows,
    threadsWithOpenTurnsOfTeam: async (teamId) =>
      (await run<{ id: number }>(pool, QUERIES.openThreadsOfTeam, [teamId])).rows.map((row) => row.id),
    threadsStartedBy: async (teamId, userId, limit) =>
      (await run<ThreadRecord>(pool, QUERIES.threadsStartedBy, [teamId, userId, limit])).rows,
    endThreadsOfTeam: (teamId, reason, now) =>
      transaction<number[]>(pool, async (client) => {
        const ids = (await run<{ id: number }>(client, QUERIES.lockTeamThreads, [teamId])).rows.map(
          (row) => row.id,
        );
        if (ids.length === 0) return [];
        await run(client, QUERIES.endThreads, [ids, now, reason]);
        await run(client, QUERIES.failOpenTurns, [ids, now, reason]);
        return ids;
      }),

    insertThreads: async (threads, now) => {
      await transaction<void>(pool, async (client) => {
        for (let start = 0; start < threads.length; start += BENCH_CHUNK) {
          const chunk = threads.slice(start, start + BENCH_CHUNK);
          const column = (pick: (thread: NewThread) => string | null | undefined) =>
            chunk.map((thread) => pick(thread) ?? null);
          await run(client, QUERIES.insertThreads, [
            column((t) => t.teamId),
            column((t) => t.channelId),
            column((t) => t.threadTs),
            column((t) => t.sessionId),
            column((t) => t.campaignId),
            column((t) => t.nodeId),
            column((t) => t.startedBy),
            now,
          ]);
        }
      });
      // As a long-lived table would be: statistics for the planner, and no first reads that must write
      // hint bits to pages the bulk insert left behind.
      await pool.query("VACUUM (ANALYZE) threads");
    },
  };
}
