/**
 * The DraftStore on SQLite, through better-sqlite3. Calls run synchronously (an indexed lookup takes
 * microseconds, less than a hop through a worker would) and are wrapped in Promises to fit the port.
 * Every statement is prepared once, when the store opens. Leases work as on PostgreSQL, for one
 * process; wake-ups stay in the process.
 */
import { EventEmitter } from "node:events";
import Database from "better-sqlite3";
import {
  DELIVERY_KEY_TTL_MS,
  type DraftStore,
  type Lease,
  LeaseLostError,
  type LeaseRef,
  type NewThread,
  type NewTurn,
  type ThreadPatch,
  type TurnPatch,
  type TurnState,
} from "../../drafting/store.ts";
import { THREAD_PATCH_FIELDS, TURN_PATCH_FIELDS } from "../columns.ts";
import { type Params, patchParams, prepareStatements } from "./drafting-queries.ts";

export { QUERIES } from "./drafting-queries.ts";

function threadParams(thread: NewThread, now: number): Params {
  return {
    teamId: thread.teamId,
    channelId: thread.channelId,
    threadTs: thread.threadTs,
    sessionId: thread.sessionId ?? null,
    campaignId: thread.campaignId ?? null,
    nodeId: thread.nodeId ?? null,
    startedBy: thread.startedBy,
    createdAt: now,
  };
}

function turnParams(turn: NewTurn, now: number): Params {
  return {
    threadId: turn.threadId,
    kind: turn.kind,
    text: turn.text,
    authorId: turn.authorId,
    authorName: turn.authorName ?? null,
    slackTs: turn.slackTs ?? null,
    leadCount: turn.leadCount ?? null,
    createdAt: now,
  };
}

/** SQLite only says "UNIQUE constraint failed"; callers need to know which session is taken. */
function explainSessionConflict<T>(sessionId: string | null | undefined, write: () => T): T {
  try {
    return write();
  } catch (error) {
    const taken =
      error instanceof Database.SqliteError &&
      error.code === "SQLITE_CONSTRAINT_UNIQUE" &&
      error.message.includes("threads.session_id");
    if (taken) throw new Error(`Session ${sessionId} is already mapped to another thread`, { cause: error });
    throw error;
  }
}

export interface SqliteDraftStore extends Omit<DraftStore, "close"> {
  insertThreads(threads: readonly NewThread[], now: number): void;
}

export function sqliteDraftStore(db: Database.Database): SqliteDraftStore {
  const s = prepareStatements(db);
  const wakeups = new EventEmitter();
  wakeups.setMaxListeners(0);

  const anyLive = (keys: readonly string[], now: number) =>
    keys.some((key) => s.liveKey.get(key, now) !== undefined);
  const putKeys = (keys: readonly string[], now: number) => {
    for (const key of keys) s.putKey.run(key, now + DELIVERY_KEY_TTL_MS);
  };
  /** Undefined when a thread with the same ref exists. */
  const insertThread = (thread: NewThread, now: number) =>
    explainSessionConflict(thread.sessionId, () => s.insertThread.get(threadParams(thread, now)));
  const insertTurn = (turn: NewTurn, now: number) => s.insertTurn.get(turnParams(turn, now))!;
  const checkFence = (fence: LeaseRef | undefined) => {
    if (fence && s.fence.get(fence.threadId, fence.owner, fence.token) === undefined)
      throw new LeaseLostError(fence.threadId);
  };

  const tx = {
    claim: db.transaction((keys: readonly string[], now: number) => {
      if (anyLive(keys, now)) return false;
      putKeys(keys, now);
      return true;
    }),
    createThreadWithTurn: db.transaction(
      (thread: NewThread, turn: Omit<NewTurn, "threadId">, keys: readonly string[], now: number) => {
        // A retried event for a thread it already created is a duplicate, not a second thread.
        if (anyLive(keys, now)) return "duplicate" as const;
        const created = insertThread(thread, now);
        if (created === undefined) return "thread_exists" as const;
        putKeys(keys, now);
        return { thread: created, turn: insertTurn({ ...turn, threadId: created.id }, now) };
      },
    ),
    addTurn: db.transaction((turn: NewTurn, keys: readonly string[], now: number) => {
      if (anyLive(keys, now)) return "duplicate" as const;
      putKeys(keys, now);
      return insertTurn(turn, now);
    }),
    patchThread: db.transaction((id: number, params: Params, fence: LeaseRef | undefined) => {
      checkFence(fence);
      s.patchThread.run({ ...params, id });
    }),
    deleteThread: db.transaction((id: number, fence: LeaseRef | undefined) => {
      checkFence(fence);
      s.deleteThread.run(id); // turns go with it (ON DELETE CASCADE)
    }),
    patchTurns: db.transaction((ids: readonly number[], params: Params, fence: LeaseRef | undefined) => {
      checkFence(fence);
      for (const id of ids) {
        if (fence && s.turnThread.get(id) !== fence.threadId) throw new LeaseLostError(fence.threadId);
        s.patchTurn.run({ ...params, id });
      }
    }),
    moveTurns: db.transaction((ids: readonly number[], threadId: number, fence: LeaseRef | undefined) => {
      checkFence(fence);
      for (const id of ids) s.moveTurn.run(threadId, id);
    }),
    renew: db.transaction((leases: readonly LeaseRef[], until: number) =>
      leases.flatMap((lease) =>
        s.renewLease.run({ id: lease.threadId, owner: lease.owner, token: lease.token, until }).changes > 0
          ? [lease.threadId]
          : [],
      ),
    ),
    acquire: db.transaction(
      (threadId: number, owner: string, now: number, until: number): Lease | undefined => {
        const before = s.leaseHolder.get(threadId);
        const token = s.acquireLease.get({ id: threadId, owner, now, until });
        if (token === undefined) return undefined;
        const takenFrom =
          before?.owner && before.owner !== owner && before.expiresAt > 0 ? before.owner : null;
        return { threadId, owner, token, expiresAt: until, takenFrom };
      },
    ),
    release: db.transaction((leases: readonly LeaseRef[]) => {
      for (const lease of leases)
        s.releaseLease.run({ id: lease.threadId, owner: lease.owner, token: lease.token });
    }),
    endTeam: db.transaction((teamId: string, reason: string, now: number) => {
      const ids = s.teamThreads.all(teamId);
      for (const id of ids) {
        s.endThread.run(now, reason, id);
        s.failOpenTurns.run(reason, now, id);
      }
      return ids;
    }),
    insertThreads: db.transaction((threads: readonly NewThread[], now: number) => {
      for (const thread of threads) insertThread(thread, now);
    }),
  };

  return {
    insertThreads: (threads, now) => tx.insertThreads(threads, now),

    claimDeliveries: async (keys, now) => tx.claim(keys, now),
    pruneDeliveries: async (now) => s.pruneKeys.run(now).changes,

    createThreadWithTurn: async (thread, turn, options) =>
      tx.createThreadWithTurn(thread, turn, options.dedupeKeys ?? [], options.now),
    createThread: async (thread, now) => insertThread(thread, now) ?? "thread_exists",
    getThread: async (ref) => s.threadByRef.get(ref.teamId, ref.channelId, ref.threadTs),
    getThreadById: async (id) => s.threadById.get(id),
    getThreadBySession: async (sessionId) => s.threadBySession.get(sessionId),
    updateThread: async (id, patch: ThreadPatch, fence) => {
      const params = patchParams(THREAD_PATCH_FIELDS, patch);
      if (params) explainSessionConflict(patch.sessionId, () => tx.patchThread(id, params, fence));
      else checkFence(fence);
    },
    deleteThread: async (id, fence) => tx.deleteThread(id, fence),

    getChannelChoice: async (teamId, channelId) => s.channelChoice.get(teamId, channelId),
    setChannelChoice: async (teamId, channelId, choice, setBy, now) => {
      s.putChannelChoice.run(teamId, channelId, choice.campaignId, choice.nodeId, setBy, now);
    },
    getUserChoice: async (teamId, userId) => s.userChoice.get(teamId, userId),
    setUserChoice: async (teamId, userId, choice, now) => {
      s.putUserChoice.run(teamId, userId, choice.campaignId, choice.nodeId, now);
    },

    addTurn: async (turn, options) => tx.addTurn(turn, options.dedupeKeys ?? [], options.now),
    getTurn: async (id) => s.turnById.get(id),
    listTurns: async (threadId, states?: readonly TurnState[]) =>
      states === undefined
        ? s.turnsOfThread.all(threadId)
        : s.turnsOfThreadInStates.all(threadId, JSON.stringify(states)),
    updateTurns: async (ids, patch: TurnPatch, fence) => {
      const params = patchParams(TURN_PATCH_FIELDS, patch);
      if (params && ids.length > 0) tx.patchTurns(ids, params, fence);
      else checkFence(fence);
    },
    moveTurns: async (ids, threadId, fence) => tx.moveTurns(ids, threadId, fence),
    listThreadsWithOpenTurns: async () => s.threadsWithOpenTurns.all(),
    threadsWithOpenTurnsOfTeam: async (teamId) => s.openThreadsOfTeam.all(teamId),
    threadsStartedBy: async (teamId, userId, limit) => s.threadsStartedBy.all(teamId, userId, limit),
    endThreadsOfTeam: async (teamId, reason, now) => tx.endTeam(teamId, reason, now),

    acquireLease: async (threadId, owner, now, ttlMs) => tx.acquire(threadId, owner, now, now + ttlMs),
    renewLeases: async (leases, now, ttlMs) => (leases.length === 0 ? [] : tx.renew(leases, now + ttlMs)),
    releaseLeases: async (leases) => {
      if (leases.length > 0) tx.release(leases);
    },
    threadsWithoutDriver: async (now, limit) => s.threadsWithoutDriver.all(now, limit),
    countPendingTurns: async () => s.countPending.get() ?? 0,
    wake: async (threadId) => {
      // Listeners run after the caller's own work, as a notification from another replica would.
      queueMicrotask(() => wakeups.emit("wake", threadId));
    },
    onWake: (listener) => {
      wakeups.on("wake", listener);
      return () => wakeups.off("wake", listener);
    },
  };
}
