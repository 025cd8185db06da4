/**
 * The embedded DraftStore: one SQLite file in WAL mode, through better-sqlite3. Calls run synchronously
 * (an indexed lookup takes microseconds, less than a hop through a worker would) and are wrapped in
 * Promises to fit the port. Every statement is prepared once, when the store opens.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "./migrations.ts";
import {
  DELIVERY_KEY_TTL_MS,
  type DraftStore,
  type NewThread,
  type NewTurn,
  type SavedChoice,
  type StepChoice,
  type ThreadPatch,
  type ThreadRecord,
  type ThreadRef,
  type TurnPatch,
  type TurnRecord,
  type TurnState,
} from "./store.ts";

export interface SqliteDraftStore extends DraftStore {
  /** Absolute path of the database file, or ":memory:". */
  readonly path: string;
  /** Inserts many threads in one transaction; the benchmark seeds 100,000 threads with it. */
  insertThreadsForBench(threads: readonly NewThread[], now: number): void;
}

const SCHEME = "sqlite:";
const MEMORY = ":memory:";

/** Picks the store implementation from DATABASE_URL's scheme. */
export async function openStore(databaseUrl: string): Promise<DraftStore> {
  if (databaseUrl.startsWith(SCHEME)) return createSqliteStore({ url: databaseUrl });
  // Name only the scheme: the rest of a database URL may carry a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(databaseUrl)?.[0] ?? "(none)";
  throw new Error(
    `Unsupported DATABASE_URL scheme "${scheme}". Supported: sqlite: ` +
      "(for example sqlite:./data/puffle-drafter.db, or sqlite::memory: for a throwaway store).",
  );
}

/** Opens (creating and migrating as needed) the database named by a `sqlite:` URL. */
export function createSqliteStore(options: { url: string }): SqliteDraftStore {
  const path = sqlitePath(options.url);
  const db = openDatabase(path);
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return storeOn(db, path);
}

/** "sqlite:./data/x.db", "sqlite:///abs/x.db" (the `//` form is tolerated) or "sqlite::memory:". */
function sqlitePath(url: string): string {
  if (!url.startsWith(SCHEME)) throw new Error(`A SQLite database URL starts with "${SCHEME}"`);
  const rest = url.slice(SCHEME.length).replace(/^\/\//, "");
  if (rest === MEMORY) return MEMORY;
  if (rest === "") throw new Error(`"${url}" names no file; for example sqlite:./data/puffle-drafter.db`);
  return resolve(rest);
}

function openDatabase(path: string): Database.Database {
  if (path !== MEMORY) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // WAL: readers never wait for the writer, and a crash mid-write cannot corrupt the file. With WAL,
  // synchronous=NORMAL can lose the last commits on power loss but stays consistent, and is much faster.
  if (path !== MEMORY) db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  return db;
}

/** Record field -> column. Typed as complete records so a field added to the port cannot be forgotten here. */
const THREAD_COLUMNS: Record<keyof ThreadRecord, string> = {
  id: "id",
  teamId: "team_id",
  channelId: "channel_id",
  threadTs: "thread_ts",
  sessionId: "session_id",
  campaignId: "campaign_id",
  nodeId: "node_id",
  startedBy: "started_by",
  createdAt: "created_at",
  statusMessageTs: "status_message_ts",
  cardMessageTs: "card_message_ts",
  cardRevision: "card_revision",
  cardPayload: "card_payload",
  draftHash: "draft_hash",
  turnCount: "turn_count",
  messageCount: "message_count",
};

const TURN_COLUMNS: Record<keyof TurnRecord, string> = {
  id: "id",
  threadId: "thread_id",
  kind: "kind",
  state: "state",
  text: "text",
  authorId: "author_id",
  authorName: "author_name",
  slackTs: "slack_ts",
  batchId: "batch_id",
  sentText: "sent_text",
  runId: "run_id",
  runToken: "run_token",
  messageCountAtDispatch: "message_count_at_dispatch",
  attempts: "attempts",
  failureCode: "failure_code",
  failureDetail: "failure_detail",
  timedOutAt: "timed_out_at",
  leadCount: "lead_count",
  statusMessageTs: "status_message_ts",
  createdAt: "created_at",
  dispatchedAt: "dispatched_at",
  finishedAt: "finished_at",
};

const THREAD_PATCH_FIELDS = Object.keys({
  sessionId: true,
  statusMessageTs: true,
  cardMessageTs: true,
  cardRevision: true,
  cardPayload: true,
  draftHash: true,
  turnCount: true,
  messageCount: true,
  campaignId: true,
  nodeId: true,
} satisfies Record<keyof ThreadPatch, true>) as (keyof ThreadPatch)[];

const TURN_PATCH_FIELDS = Object.keys({
  state: true,
  batchId: true,
  sentText: true,
  runId: true,
  runToken: true,
  messageCountAtDispatch: true,
  attempts: true,
  failureCode: true,
  failureDetail: true,
  timedOutAt: true,
  dispatchedAt: true,
  finishedAt: true,
  statusMessageTs: true,
  authorName: true,
} satisfies Record<keyof TurnPatch, true>) as (keyof TurnPatch)[];

/** Aliasing columns to field names makes each row the record itself, with no mapping code. */
function selectList(columns: Record<string, string>): string {
  return Object.entries(columns)
    .map(([field, column]) => `${column} AS ${field}`)
    .join(", ");
}

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
  moveTurn: "UPDATE turns SET thread_id = ? WHERE id = ?",
  // Spelled exactly like the turns_open partial index (migrations.ts) so that SQLite can use it.
  threadsWithOpenTurns:
    `${THREAD_SELECT} WHERE id IN (SELECT thread_id FROM turns ` +
    "WHERE state IN ('pending', 'sending') OR (state = 'dispatched' AND timed_out_at IS NULL)) ORDER BY id",
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
    moveTurn: db.prepare<[number, number]>(QUERIES.moveTurn),
    threadsWithOpenTurns: db.prepare<[], ThreadRecord>(QUERIES.threadsWithOpenTurns),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

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

/** The synchronous building blocks the transactions are made of. */
function operations(s: Statements) {
  return {
    anyLive: (keys: readonly string[], now: number) =>
      keys.some((key) => s.liveKey.get(key, now) !== undefined),
    putKeys: (keys: readonly string[], now: number) => {
      for (const key of keys) s.putKey.run(key, now + DELIVERY_KEY_TTL_MS);
    },
    /** Undefined when a thread with the same ref exists. */
    insertThread: (thread: NewThread, now: number) =>
      explainSessionConflict(thread.sessionId, () => s.insertThread.get(threadParams(thread, now))),
    insertTurn: (turn: NewTurn, now: number) => s.insertTurn.get(turnParams(turn, now))!,
  };
}

type Operations = ReturnType<typeof operations>;

function transactions(db: Database.Database, s: Statements, op: Operations) {
  return {
    claim: db.transaction((keys: readonly string[], now: number) => {
      if (op.anyLive(keys, now)) return false;
      op.putKeys(keys, now);
      return true;
    }),
    createThreadWithTurn: db.transaction(
      (thread: NewThread, turn: Omit<NewTurn, "threadId">, keys: readonly string[], now: number) => {
        // A retried event for a thread it already created is a duplicate, not a second thread.
        if (op.anyLive(keys, now)) return "duplicate" as const;
        const created = op.insertThread(thread, now);
        if (created === undefined) return "thread_exists" as const;
        op.putKeys(keys, now);
        return { thread: created, turn: op.insertTurn({ ...turn, threadId: created.id }, now) };
      },
    ),
    addTurn: db.transaction((turn: NewTurn, keys: readonly string[], now: number) => {
      if (op.anyLive(keys, now)) return "duplicate" as const;
      op.putKeys(keys, now);
      return op.insertTurn(turn, now);
    }),
    patchTurns: db.transaction((ids: readonly number[], params: Params) => {
      for (const id of ids) s.patchTurn.run({ ...params, id });
    }),
    moveTurns: db.transaction((ids: readonly number[], threadId: number) => {
      for (const id of ids) s.moveTurn.run(threadId, id);
    }),
    insertThreads: db.transaction((threads: readonly NewThread[], now: number) => {
      for (const thread of threads) op.insertThread(thread, now);
    }),
  };
}

function storeOn(db: Database.Database, path: string): SqliteDraftStore {
  const s = prepareStatements(db);
  const op = operations(s);
  const tx = transactions(db, s, op);
  return {
    path,
    insertThreadsForBench: (threads, now) => tx.insertThreads(threads, now),

    claimDeliveries: async (keys, now) => tx.claim(keys, now),
    pruneDeliveries: async (now) => s.pruneKeys.run(now).changes,

    createThreadWithTurn: async (thread, turn, options) =>
      tx.createThreadWithTurn(thread, turn, options.dedupeKeys ?? [], options.now),
    createThread: async (thread, now) => op.insertThread(thread, now) ?? "thread_exists",
    getThread: async (ref: ThreadRef) => s.threadByRef.get(ref.teamId, ref.channelId, ref.threadTs),
    getThreadById: async (id) => s.threadById.get(id),
    getThreadBySession: async (sessionId) => s.threadBySession.get(sessionId),
    updateThread: async (id, patch) => {
      const params = patchParams(THREAD_PATCH_FIELDS, patch);
      if (params) explainSessionConflict(patch.sessionId, () => s.patchThread.run({ ...params, id }));
    },
    deleteThread: async (id) => {
      s.deleteThread.run(id); // turns go with it (ON DELETE CASCADE)
    },

    getChannelChoice: async (teamId, channelId) => s.channelChoice.get(teamId, channelId),
    setChannelChoice: async (teamId, channelId, choice: StepChoice, setBy, now) => {
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
    updateTurns: async (ids, patch) => {
      const params = patchParams(TURN_PATCH_FIELDS, patch);
      if (params && ids.length > 0) tx.patchTurns(ids, params);
    },
    moveTurns: async (ids, threadId) => tx.moveTurns(ids, threadId),
    listThreadsWithOpenTurns: async () => s.threadsWithOpenTurns.all(),

    close: async () => {
      if (db.open) db.close();
    },
  };
}
