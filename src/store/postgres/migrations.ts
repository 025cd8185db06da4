/**
 * Versioned schema migrations for the PostgreSQL store. Applied versions are rows of
 * `schema_migrations`. Every replica migrates on start: all pending steps run in one transaction
 * under a transaction-scoped advisory lock, so replicas starting at the same moment wait for each
 * other and the steps run once. Append new migrations; never edit one that has shipped.
 */
import type pg from "pg";
import { transaction } from "./pool.ts";

export interface Migration {
  /** Strictly increasing, starting at 1. */
  version: number;
  name: string;
  up: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema: threads with leases, turns, delivery keys, choices, Slack messages",
    up: `
      -- Identity ids are never handed out twice, even after a delete (they travel in batch ids and logs).
      CREATE TABLE threads (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        session_id TEXT,
        campaign_id TEXT,
        node_id TEXT,
        started_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        draft_hash TEXT,
        turn_count INTEGER NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0,
        -- One replica drives a thread at a time; the token grows with every new holder (fencing).
        lease_owner TEXT,
        lease_token BIGINT NOT NULL DEFAULT 0,
        lease_expires_at BIGINT NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX threads_ref ON threads (team_id, channel_id, thread_ts);
      -- A session belongs to at most one thread; NULLs (no session yet) never collide.
      CREATE UNIQUE INDEX threads_session ON threads (session_id);

      CREATE TABLE turns (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('chat', 'examples')),
        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'dispatched', 'done', 'failed')),
        text TEXT NOT NULL,
        author_id TEXT NOT NULL,
        author_name TEXT,
        slack_ts TEXT,
        batch_id BIGINT,
        sent_text TEXT,
        run_id TEXT,
        run_token TEXT,
        message_count_at_dispatch INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        failure_code TEXT,
        failure_detail TEXT,
        timed_out_at BIGINT,
        deadline_at BIGINT,
        lead_count INTEGER,
        created_at BIGINT NOT NULL,
        dispatched_at BIGINT,
        finished_at BIGINT
      );
      CREATE INDEX turns_thread_state ON turns (thread_id, state);
      -- Finished turns pile up forever; a restart and the sweep only need the few open ones. The
      -- queries spell this condition like OPEN_TURN (columns.ts) so that the planner can use the index.
      CREATE INDEX turns_open ON turns (thread_id)
        WHERE state IN ('pending', 'sending') OR (state = 'dispatched' AND timed_out_at IS NULL);

      CREATE TABLE delivery_keys (
        key TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX delivery_keys_expiry ON delivery_keys (expires_at);

      CREATE TABLE channel_choices (
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        set_by TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (team_id, channel_id)
      );

      CREATE TABLE user_choices (
        team_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (team_id, user_id)
      );

      -- What the Slack layer posted. Every post by a key of ours: a post whose answer was lost is
      -- looked up, never posted twice.
      CREATE TABLE slack_posts (
        key TEXT PRIMARY KEY,
        thread_id BIGINT NOT NULL,
        ts TEXT,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX slack_posts_thread ON slack_posts (thread_id);
      CREATE TABLE slack_turn_status (
        turn_id BIGINT PRIMARY KEY,
        post_key TEXT NOT NULL
      );
      CREATE TABLE slack_cards (
        thread_id BIGINT NOT NULL,
        revision INTEGER NOT NULL,
        ts TEXT NOT NULL,
        payload TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        superseded_at BIGINT,
        PRIMARY KEY (thread_id, revision)
      );
    `,
  },
  {
    version: 2,
    name: "workspaces: Puffle keys and defaults, OAuth installations and states, Home viewers; the request budget",
    up: `
      -- A thread of an uninstalled workspace ends; one saved to its campaign says so; its last version.
      ALTER TABLE threads
        ADD COLUMN ended_at BIGINT,
        ADD COLUMN ended_reason TEXT,
        ADD COLUMN saved_at BIGINT,
        ADD COLUMN draft_version INTEGER;
      -- A user's recent threads (the App Home).
      CREATE INDEX threads_started_by ON threads (team_id, started_by, created_at);

      CREATE TABLE workspaces (
        team_id TEXT PRIMARY KEY,
        puffle_key_enc TEXT,
        puffle_key_last4 TEXT,
        puffle_key_set_by TEXT,
        puffle_key_set_at BIGINT,
        default_campaign_id TEXT,
        default_node_id TEXT,
        default_set_by TEXT,
        default_set_at BIGINT
      );

      -- One row per install ("T:<team>" or "E:<enterprise>"); refresh_owner holds the token refresh lock.
      CREATE TABLE installations (
        install_key TEXT PRIMARY KEY,
        team_id TEXT,
        enterprise_id TEXT,
        is_enterprise_install BOOLEAN NOT NULL DEFAULT false,
        record_enc TEXT NOT NULL,
        bot_user_id TEXT,
        installer_user_id TEXT,
        token_expires_at BIGINT,
        installed_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        refresh_owner TEXT,
        refresh_until BIGINT NOT NULL DEFAULT 0
      );

      CREATE TABLE oauth_states (
        state TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );

      CREATE TABLE home_viewers (
        team_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        opened_at BIGINT NOT NULL,
        PRIMARY KEY (team_id, user_id)
      );

      -- One row per Puffle key (by a hash): the earliest time of its next request, shared by replicas.
      CREATE TABLE puffle_budget (
        key_id TEXT PRIMARY KEY,
        next_slot_at BIGINT NOT NULL,
        paused_until BIGINT NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 3,
    name: "the workspaces seen under each org-wide install",
    up: `
      CREATE TABLE org_workspaces (
        team_id TEXT PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        seen_at BIGINT NOT NULL
      );
      CREATE INDEX org_workspaces_enterprise ON org_workspaces (enterprise_id);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** Any constant works, as long as every replica uses the same one: ASCII "puffledr". */
export const MIGRATION_LOCK = "8103495694614357106";

/**
 * Brings the database up to the last migration and returns the versions it applied (none when it was
 * up to date). Refuses a database whose version is newer than this release knows, changing nothing.
 */
export async function migrate(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const latest = migrations.at(-1)?.version ?? 0;
  return transaction<number[]>(pool, async (client) => {
    // A migration may rewrite a big table: the pool's statement timeout is meant for ordinary queries.
    await client.query("SET LOCAL statement_timeout = 0");
    // Held until COMMIT or ROLLBACK: another replica migrating now waits here, then finds nothing to do.
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (" +
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    );
    const found = await client.query<{ current: number; database: string }>(
      "SELECT COALESCE(MAX(version), 0) AS current, current_database() AS database FROM schema_migrations",
    );
    const { current, database } = found.rows[0] ?? { current: 0, database: "" };
    if (current > latest) {
      throw new Error(
        `Database "${database}" has schema version ${current}, newer than this release knows (${latest}). ` +
          "Run a newer release, or point DATABASE_URL at another database.",
      );
    }
    const pending = migrations.filter((migration) => migration.version > current);
    for (const migration of pending) {
      await client.query(migration.up);
      await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
    }
    return pending.map((migration) => migration.version);
  });
}
