/**
 * The SQL of the SQLite DraftStore, prepared once when the store opens.
 */
import type Database from "better-sqlite3";
import type { SavedChoice, ThreadRecord, TurnRecord } from "../../drafting/store.ts";
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

export type Params = Record<string, unknown>;

/** Binding for patchSql; undefined when the patch sets nothing (an undefined value means "leave as is"). */
export function patchParams(
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

export function prepareStatements(db: Database.Database) {
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
