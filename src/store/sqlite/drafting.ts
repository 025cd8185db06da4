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
  type SavedChoice,
  type ThreadPatch,
  type ThreadRecord,
  type TurnPatch,
  type TurnRecord,
  type TurnState,
} from "../../drafting/store.ts";
import {
  OPEN_TURN,
  selectList,
  THREAD_COLUMNS,
  THREAD_PATCH_FIELDS,
  TURN_COLUMNS,
  TURN_PATCH_FIELDS,
} from "../columns.ts";

/**
 * One UPDATE serves every patch: a column takes the new value only when its `set_` flag is 1. This keeps
 * the statement prepared once, where a statement per combination of fields would be prepared on the fly.
 */
function patchSql(table: string, columns: Record<string, string>, fields: readonly string[]): string {
  const assignments = fields.map((field) => {
    const column = columns[field];
    return `${column} = CASE WHEN @set_${field} THEN @${field} ELSE ${column} END`;
  });
  return `UPDATE ${table} SET ${assignments.join(", ")} WHERE id = @id`;
}

type Params = Record<string, unknown>;

/** Binding for patchSql; undefined when the patch sets nothing (an undefined value means "leave as is"). */
function patchParams(
  fields: readonly string[],
  patch: Readonly<Record<string, unknown>>,
): Params | undefined {
  const params: Params = {};
  let changes = 0;
  for (const field of fields) {
    const value = patch[field];
    params[`set_${field}`] = value === undefined ? 0 : 1;
    params[field] = value ?? null;
    if (value !== undefined) changes++;
  }
  return changes === 0 ? undefined : params;
}

const THREAD_SELECT = `SELECT ${selectList(THREAD_COLUMNS)} FROM threads`;
const TURN_SELECT = `SELECT ${selectList(TURN_COLUMNS)} FROM turns`;

/** Every statement the store runs (exported so a test can check their query plans). */
export const QUERIES = {
  liveKey: "SELECT 1 FROM delivery_keys WHERE key = ? AND expires_at > ?",
  putKey:
    "INSERT INTO delivery_keys (key, expires_at) VALUES (?, ?) " +
    "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at",
  pruneKeys: "DELETE FROM delivery_keys WHERE expires_at <= ?",
  insertThread:
    "INSERT INTO threads (team_id, channel_id, thread_ts, session_id, campaign_id, node_id, started_by, created_at) " +
    "VALUES (@teamId, @channelId, @threadTs, @sessionId, @campaignId, @nodeId, @startedBy, @createdAt) " +
    `ON CONFLICT (team_id, channel_id, thread_ts) DO NOTHING RETURNING ${selectList(THREAD_COLUMNS)}`,
  threadByRef: `${THREAD_SELECT} WHERE team_id = ? AND channel_id = ? AND thread_ts = ?`,
  threadById: `${THREAD_SELECT} WHERE id = ?`,
  threadBySession: `${THREAD_SELECT} WHERE session_id = ?`,
  patchThread: patchSql("threads", THREAD_COLUMNS, THREAD_PATCH_FIELDS),
  deleteThread: "DELETE FROM threads WHERE id = ?",
  channelChoice:
    "SELECT campaign_id AS campaignId, node_id AS nodeId, set_by AS setBy, updated_at AS updatedAt " +
    "FROM channel_choices WHERE team_id = ? AND channel_id = ?",
  putChannelChoice:
    "INSERT INTO channel_choices (team_id, channel_id, campaign_id, node_id, set_by, updated_at) " +
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (team_id, channel_id) DO UPDATE SET " +
    "campaign_id = excluded.campaign_id, node_id = excluded.node_id, set_by = excluded.set_by, " +
    "updated_at = excluded.updated_at",
  // A user's own choice is always set by that user, so setBy needs no column.
  userChoice:
    "SELECT campaign_id AS campaignId, node_id AS nodeId, user_id AS setBy, updated_at AS updatedAt " +
    "FROM user_choices WHERE team_id = ? AND user_id = ?",
  putUserChoice:
    "INSERT INTO user_choices (team_id, user_id, campaign_id, node_id, updated_at) VALUES (?, ?, ?, ?, ?) " +
    "ON CONFLICT (team_id, user_id) DO UPDATE SET " +
    "campaign_id = excluded.campaign_id, node_id = excluded.node_id, updated_at = excluded.updated_at",
  insertTurn:
    "INSERT INTO turns (thread_id, kind, state, text, author_id, author_name, slack_ts, lead_count, created_at) " +
    "VALUES (@threadId, @kind, 'pending', @text, @authorId, @authorName, @slackTs, @leadCount, @createdAt) " +
    `RETURNING ${selectList(TURN_COLUMNS)}`,
  turnById: `${TURN_SELECT} WHERE id = ?`,
  turnsOfThread: `${TURN_SELECT} WHERE thread_id = ? ORDER BY id`,
  // The states travel as one JSON array so that a single prepared statement serves any list.
  turnsOfThreadInStates: `${TURN_SELECT} WHERE thread_id = ? AND state IN (SELECT value FROM json_each(?)) ORDER BY id`,
  patchTurn: patchSql("turns", TURN_COLUMNS, TURN_PATCH_FIELDS),
  turnThread: "SELECT thread_id FROM turns WHERE id = ?",
  moveTurn: "UPDATE turns SET thread_id = ? WHERE id = ?",
  // Spelled exactly like the turns_open partial index (migrations.ts) so that SQLite can use it.
  threadsWithOpenTurns: `${THREAD_SELECT} WHERE id IN (SELECT thread_id FROM turns WHERE ${OPEN_TURN}) ORDER BY id`,
  acquireLease:
    "UPDATE threads SET lease_owner = @owner, lease_expires_at = @until, " +
    "lease_token = CASE WHEN lease_owner = @owner AND lease_expires_at > @now THEN lease_token ELSE lease_token + 1 END " +
    "WHERE id = @id AND (lease_owner IS NULL OR lease_owner = @owner OR lease_expires_at <= @now) " +
    "RETURNING lease_token",
  renewLease:
    "UPDATE threads SET lease_expires_at = @until WHERE id = @id AND lease_owner = @owner AND lease_token = @token",
  releaseLease:
    "UPDATE threads SET lease_owner = NULL, lease_expires_at = 0 " +
    "WHERE id = @id AND lease_owner = @owner AND lease_token = @token",
  fence: "SELECT 1 FROM threads WHERE id = ? AND lease_owner = ? AND lease_token = ?",
  leaseHolder: "SELECT lease_owner AS owner, lease_expires_at AS expiresAt FROM threads WHERE id = ?",
  openThreadsOfTeam: `SELECT id FROM threads WHERE team_id = ? AND id IN (SELECT thread_id FROM turns WHERE ${OPEN_TURN}) ORDER BY id`,
  threadsStartedBy: `${THREAD_SELECT} WHERE team_id = ? AND started_by = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
  teamThreads: "SELECT id FROM threads WHERE team_id = ? AND ended_at IS NULL ORDER BY id",
  endThread:
    "UPDATE threads SET ended_at = ?, ended_reason = ?, lease_owner = NULL, lease_expires_at = 0, " +
    "lease_token = lease_token + 1 WHERE id = ?",
  failOpenTurns: `UPDATE turns SET state = 'failed', failure_code = ?, finished_at = ? WHERE thread_id = ? AND (${OPEN_TURN})`,
  countPending: "SELECT count(*) FROM turns WHERE state = 'pending'",
  threadsWithoutDriver:
    `SELECT id FROM threads WHERE id IN (SELECT thread_id FROM turns WHERE ${OPEN_TURN}) ` +
    "AND (lease_owner IS NULL OR lease_expires_at <= ?) ORDER BY id LIMIT ?",
} as const;

function prepareStatements(db: Database.Database) {
  return {
    liveKey: db.prepare<[string, number], number>(QUERIES.liveKey).pluck(),
    putKey: db.prepare<[string, number]>(QUERIES.putKey),
    pruneKeys: db.prepare<[number]>(QUERIES.pruneKeys),
    insertThread: db.prepare<Params, ThreadRecord>(QUERIES.insertThread),
    threadByRef: db.prepare<[string, string, string], ThreadRecord>(QUERIES.threadByRef),
    threadById: db.prepare<[number], ThreadRecord>(QUERIES.threadById),
    threadBySession: db.prepare<[string], ThreadRecord>(QUERIES.threadBySession),
    patchThread: db.prepare<Params>(QUERIES.patchThread),
    deleteThread: db.prepare<[number]>(QUERIES.deleteThread),
    channelChoice: db.prepare<[string, string], SavedChoice>(QUERIES.channelChoice),
    putChannelChoice: db.prepare<[string, string, string, string, string, number]>(QUERIES.putChannelChoice),
    userChoice: db.prepare<[string, string], SavedChoice>(QUERIES.userChoice),
    putUserChoice: db.prepare<[string, string, string, string, number]>(QUERIES.putUserChoice),
    insertTurn: db.prepare<Params, TurnRecord>(QUERIES.insertTurn),
    turnById: db.prepare<[number], TurnRecord>(QUERIES.turnById),
    turnsOfThread: db.prepare<[number], TurnRecord>(QUERIES.turnsOfThread),
    turnsOfThreadInStates: db.prepare<[number, string], TurnRecord>(QUERIES.turnsOfThreadInStates),
    patchTurn: db.prepare<Params>(QUERIES.patchTurn),
    turnThread: db.prepare<[number], number>(QUERIES.turnThread).pluck(),
    moveTurn: db.prepare<[number, number]>(QUERIES.moveTurn),
    threadsWithOpenTurns: db.prepare<[], ThreadRecord>(QUERIES.threadsWithOpenTurns),
    acquireLease: db.prepare<Params, number>(QUERIES.acquireLease).pluck(),
    renewLease: db.prepare<Params>(QUERIES.renewLease),
    releaseLease: db.prepare<Params>(QUERIES.releaseLease),
    fence: db.prepare<[number, string, number], number>(QUERIES.fence).pluck(),
    leaseHolder: db.prepare<[number], { owner: string | null; expiresAt: number }>(QUERIES.leaseHolder),
    threadsWithoutDriver: db.prepare<[number, number], number>(QUERIES.threadsWithoutDriver).pluck(),
    countPending: db.prepare<[], number>(QUERIES.countPending).pluck(),
    openThreadsOfTeam: db.prepare<[string], number>(QUERIES.openThreadsOfTeam).pluck(),
    threadsStartedBy: db.prepare<[string, string, number], ThreadRecord>(QUERIES.threadsStartedBy),
    teamThreads: db.prepare<[string], number>(QUERIES.teamThreads).pluck(),
    endThread: db.prepare<[number, string, number]>(QUERIES.endThread),
    failOpenTurns: db.prepare<[string, number, number]>(QUERIES.failOpenTurns),
  };
}

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
