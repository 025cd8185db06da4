/**
 * Every statement of the PostgreSQL DraftStore, as named prepared statements (each connection
 * parses and plans a statement once). Exported so a test can check their query plans. Times are
 * the caller's clock in ms, never the database's: the engine's tests run on a manual clock.
 */
import type pg from "pg";
import type { ThreadPatch, TurnPatch } from "../../drafting/store.ts";
import {
  OPEN_TURN,
  selectList,
  THREAD_COLUMNS,
  THREAD_PATCH_FIELDS,
  TURN_COLUMNS,
  TURN_PATCH_FIELDS,
} from "../columns.ts";

export interface Statement {
  name: string;
  text: string;
}

/** Runs a named statement (prepared on each connection the first time it runs there). */
export function run<R extends pg.QueryResultRow = Record<string, unknown>>(
  db: pg.Pool | pg.PoolClient,
  statement: Statement,
  values: readonly unknown[],
): Promise<pg.QueryResult<R>> {
  return db.query<R>({ name: statement.name, text: statement.text, values: [...values] });
}

const THREAD_FIELDS = selectList(THREAD_COLUMNS, true);
const TURN_FIELDS = selectList(TURN_COLUMNS, true);

/** The lease a fenced write names, locked so that no takeover can commit between check and write. */
const fenceCte = (lock: "UPDATE" | "SHARE", first: number) =>
  `fence AS (SELECT 1 FROM threads WHERE id = $${first} AND lease_owner = $${first + 1} ` +
  `AND lease_token = $${first + 2} FOR ${lock})`;

export const QUERIES = {
  // Claims keys that are new or expired; fewer rows than keys means one is live (the caller rolls back).
  // Keys go in sorted, so two claims with the same keys lock them in the same order.
  claimKeys: {
    name: "claim_keys",
    text:
      "INSERT INTO delivery_keys (key, expires_at) SELECT key, $2::bigint FROM unnest($1::text[]) AS key " +
      "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE delivery_keys.expires_at <= $3",
  },
  pruneKeys: { name: "prune_keys", text: "DELETE FROM delivery_keys WHERE expires_at <= $1" },

  insertThread: {
    name: "insert_thread",
    text:
      "INSERT INTO threads (team_id, channel_id, thread_ts, session_id, campaign_id, node_id, started_by, created_at) " +
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) " +
      `ON CONFLICT (team_id, channel_id, thread_ts) DO NOTHING RETURNING ${THREAD_FIELDS}`,
  },
  insertThreads: {
    name: "insert_threads",
    text:
      "INSERT INTO threads (team_id, channel_id, thread_ts, session_id, campaign_id, node_id, started_by, created_at) " +
      "SELECT t.*, $8::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], " +
      "$7::text[]) AS t ON CONFLICT (team_id, channel_id, thread_ts) DO NOTHING",
  },
  threadByRef: {
    name: "thread_by_ref",
    text: `SELECT ${THREAD_FIELDS} FROM threads WHERE team_id = $1 AND channel_id = $2 AND thread_ts = $3`,
  },
  threadById: { name: "thread_by_id", text: `SELECT ${THREAD_FIELDS} FROM threads WHERE id = $1` },
  threadBySession: {
    name: "thread_by_session",
    text: `SELECT ${THREAD_FIELDS} FROM threads WHERE session_id = $1`,
  },
  deleteThread: { name: "delete_thread", text: "DELETE FROM threads WHERE id = $1" },
  deleteThreadFenced: {
    name: "delete_thread_fenced",
    text:
      `WITH ${fenceCte("UPDATE", 2)}, gone AS (DELETE FROM threads WHERE id = $1 AND EXISTS (SELECT 1 FROM fence)) ` +
      "SELECT EXISTS (SELECT 1 FROM fence) AS held",
  },

  channelChoice: {
    name: "channel_choice",
    text:
      'SELECT campaign_id AS "campaignId", node_id AS "nodeId", set_by AS "setBy", updated_at AS "updatedAt" ' +
      "FROM channel_choices WHERE team_id = $1 AND channel_id = $2",
  },
  putChannelChoice: {
    name: "put_channel_choice",
    text:
      "INSERT INTO channel_choices (team_id, channel_id, campaign_id, node_id, set_by, updated_at) " +
      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (team_id, channel_id) DO UPDATE SET " +
      "campaign_id = excluded.campaign_id, node_id = excluded.node_id, set_by = excluded.set_by, " +
      "updated_at = excluded.updated_at",
  },
  // A user's own choice is always set by that user, so setBy needs no column.
  userChoice: {
    name: "user_choice",
    text:
      'SELECT campaign_id AS "campaignId", node_id AS "nodeId", user_id AS "setBy", updated_at AS "updatedAt" ' +
      "FROM user_choices WHERE team_id = $1 AND user_id = $2",
  },
  putUserChoice: {
    name: "put_user_choice",
    text:
      "INSERT INTO user_choices (team_id, user_id, campaign_id, node_id, updated_at) VALUES ($1, $2, $3, $4, $5) " +
      "ON CONFLICT (team_id, user_id) DO UPDATE SET " +
      "campaign_id = excluded.campaign_id, node_id = excluded.node_id, updated_at = excluded.updated_at",
  },

  insertTurn: {
    name: "insert_turn",
    text:
      "INSERT INTO turns (thread_id, kind, state, text, author_id, author_name, slack_ts, lead_count, created_at) " +
      `VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8) RETURNING ${TURN_FIELDS}`,
  },
  turnById: { name: "turn_by_id", text: `SELECT ${TURN_FIELDS} FROM turns WHERE id = $1` },
  turnsOfThread: {
    name: "turns_of_thread",
    text: `SELECT ${TURN_FIELDS} FROM turns WHERE thread_id = $1 ORDER BY id`,
  },
  turnsOfThreadInStates: {
    name: "turns_of_thread_in_states",
    text: `SELECT ${TURN_FIELDS} FROM turns WHERE thread_id = $1 AND state = ANY($2::text[]) ORDER BY id`,
  },
  moveTurns: { name: "move_turns", text: "UPDATE turns SET thread_id = $2 WHERE id = ANY($1::bigint[])" },
  moveTurnsFenced: {
    name: "move_turns_fenced",
    text:
      `WITH ${fenceCte("SHARE", 3)}, moved AS (UPDATE turns SET thread_id = $2 ` +
      "WHERE id = ANY($1::bigint[]) AND EXISTS (SELECT 1 FROM fence)) SELECT EXISTS (SELECT 1 FROM fence) AS held",
  },
  // The same wording as the turns_open partial index (migrations.ts), so that the planner uses it.
  threadsWithOpenTurns: {
    name: "threads_with_open_turns",
    text: `SELECT ${THREAD_FIELDS} FROM threads WHERE id IN (SELECT thread_id FROM turns WHERE ${OPEN_TURN}) ORDER BY id`,
  },
  openThreadsOfTeam: {
    name: "open_threads_of_team",
    text: `SELECT id FROM threads WHERE team_id = $1 AND id IN (SELECT thread_id FROM turns WHERE ${OPEN_TURN}) ORDER BY id`,
  },
  threadsStartedBy: {
    name: "threads_started_by",
    text:
      `SELECT ${THREAD_FIELDS} FROM threads WHERE team_id = $1 AND started_by = $2 ` +
      "ORDER BY created_at DESC, id DESC LIMIT $3",
  },
  // FOR UPDATE (not the weaker lock an UPDATE takes) also waits for turns being added to these threads,
  // whose foreign key check holds a KEY SHARE lock: the turns failed next include every committed one.
  lockTeamThreads: {
    name: "lock_team_threads",
    text: "SELECT id FROM threads WHERE team_id = $1 AND ended_at IS NULL ORDER BY id FOR UPDATE",
  },
  // A new token voids the lease: its holder's next fenced write fails.
  endThreads: {
    name: "end_threads",
    text:
      "UPDATE threads SET ended_at = $2, ended_reason = $3, lease_owner = NULL, lease_expires_at = 0, " +
      "lease_token = lease_token + 1 WHERE id = ANY($1::bigint[])",
  },
  failOpenTurns: {
    name: "fail_open_turns",
    text:
      "UPDATE turns SET state = 'failed', failure_code = $3, finished_at = $2 " +
      `WHERE thread_id = ANY($1::bigint[]) AND (${OPEN_TURN})`,
  },

  fence: {
    name: "fence",
    text: "SELECT 1 FROM threads WHERE id = $1 AND lease_owner = $2 AND lease_token = $3",
  },
  // `previous` locks the row and keeps its values from before the update, for `takenFrom`.
  acquireLease: {
    name: "acquire_lease",
    text:
      "WITH previous AS (SELECT id, lease_owner, lease_expires_at FROM threads WHERE id = $1 FOR NO KEY UPDATE) " +
      "UPDATE threads t SET lease_owner = $2, lease_expires_at = $4, lease_token = CASE " +
      "WHEN t.lease_owner = $2 AND t.lease_expires_at > $3 THEN t.lease_token ELSE t.lease_token + 1 END " +
      "FROM previous WHERE t.id = previous.id " +
      "AND (t.lease_owner IS NULL OR t.lease_owner = $2 OR t.lease_expires_at <= $3) " +
      'RETURNING t.lease_token AS token, previous.lease_owner AS "previousOwner", ' +
      'previous.lease_expires_at AS "previousExpiresAt"',
  },
  renewLeases: {
    name: "renew_leases",
    text:
      "UPDATE threads t SET lease_expires_at = $4 " +
      "FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS l (id, owner, token) " +
      "WHERE t.id = l.id AND t.lease_owner = l.owner AND t.lease_token = l.token RETURNING t.id",
  },
  releaseLeases: {
    name: "release_leases",
    text:
      "UPDATE threads t SET lease_owner = NULL, lease_expires_at = 0 " +
      "FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS l (id, owner, token) " +
      "WHERE t.id = l.id AND t.lease_owner = l.owner AND t.lease_token = l.token",
  },
  threadsWithoutDriver: {
    name: "threads_without_driver",
    text:
      `SELECT id FROM threads WHERE id IN (SELECT thread_id FROM turns WHERE ${OPEN_TURN}) ` +
      "AND (lease_owner IS NULL OR lease_expires_at <= $1) ORDER BY id LIMIT $2",
  },
  countPending: {
    name: "count_pending",
    text: "SELECT count(*)::int AS n FROM turns WHERE state = 'pending'",
  },
  wake: { name: "wake", text: "SELECT pg_notify($1, $2)" },
} as const satisfies Record<string, Statement>;

/** A short name for a set of fields (statement names are cut at 63 characters): one bit per field. */
function fieldSet<K extends string>(all: readonly K[], fields: readonly K[]): string {
  return fields.reduce((bits, field) => bits | (1 << all.indexOf(field)), 0).toString(36);
}

/**
 * `UPDATE threads` for the fields a patch sets, in THREAD_PATCH_FIELDS order (as setFields answers
 * them, so that one name always means one text): $1 is the id, then one value per field,
 * then (fenced) the lease's thread, owner and token. One statement per set of fields, each named.
 */
export function threadPatch(fields: readonly (keyof ThreadPatch)[], fenced: boolean): Statement {
  const assignments = fields.map((field, i) => `${THREAD_COLUMNS[field]} = $${i + 2}`);
  const name = `patch_thread${fenced ? "_fenced" : ""}_${fieldSet(THREAD_PATCH_FIELDS, fields)}`;
  const update = `UPDATE threads SET ${assignments.join(", ")} WHERE id = $1`;
  if (!fenced) return { name, text: update };
  return {
    name,
    text:
      `WITH ${fenceCte("UPDATE", fields.length + 2)}, patched AS (${update} AND EXISTS (SELECT 1 FROM fence)) ` +
      "SELECT EXISTS (SELECT 1 FROM fence) AS held",
  };
}

/**
 * `UPDATE turns` for the fields a patch sets, in TURN_PATCH_FIELDS order: $1 is the id list, then one
 * value per field, then (fenced) the lease's thread, owner and token. Fenced, it changes the turns only
 * when the lease is current and every id is a turn of the lease's thread; `held` and `own` tell which
 * check failed.
 */
export function turnPatch(fields: readonly (keyof TurnPatch)[], fenced: boolean): Statement {
  const assignments = fields.map((field, i) => `${TURN_COLUMNS[field]} = $${i + 2}`);
  const name = `patch_turns${fenced ? "_fenced" : ""}_${fieldSet(TURN_PATCH_FIELDS, fields)}`;
  if (!fenced)
    return { name, text: `UPDATE turns SET ${assignments.join(", ")} WHERE id = ANY($1::bigint[])` };
  const lease = fields.length + 2;
  return {
    name,
    text:
      `WITH ${fenceCte("SHARE", lease)}, ` +
      `own AS (SELECT id FROM turns WHERE id = ANY($1::bigint[]) AND thread_id = $${lease} ` +
      "AND EXISTS (SELECT 1 FROM fence) FOR NO KEY UPDATE), " +
      `patched AS (UPDATE turns SET ${assignments.join(", ")} WHERE id IN (SELECT id FROM own) ` +
      "AND (SELECT count(*) FROM own) = cardinality($1::bigint[])) " +
      'SELECT EXISTS (SELECT 1 FROM fence) AS held, (SELECT count(*) FROM own) AS "own"',
  };
}
