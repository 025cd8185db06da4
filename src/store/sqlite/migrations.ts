/**
 * Versioned schema migrations for the SQLite store. The schema version lives in `PRAGMA user_version`
 * (stored in the file header, so it needs no table of its own). Append new migrations; never edit one
 * that has shipped, because files in the field already ran it.
 */
import type Database from "better-sqlite3";

export interface Migration {
  /** Strictly increasing, starting at 1. */
  version: number;
  name: string;
  up: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    up: `
      -- AUTOINCREMENT so that ids of deleted rows are never handed out again (they travel in batch ids and logs).
      CREATE TABLE threads (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        session_id TEXT,
        campaign_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        started_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status_message_ts TEXT,
        card_message_ts TEXT,
        card_revision INTEGER NOT NULL DEFAULT 0,
        draft_hash TEXT,
        turn_count INTEGER NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX threads_ref ON threads (team_id, channel_id, thread_ts);
      -- A session belongs to at most one thread; NULLs (no session yet) never collide in a UNIQUE index.
      CREATE UNIQUE INDEX threads_session ON threads (session_id);

      CREATE TABLE turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        thread_id INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('chat', 'examples')),
        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'dispatched', 'done', 'failed')),
        text TEXT NOT NULL,
        author_id TEXT NOT NULL,
        author_name TEXT,
        slack_ts TEXT,
        batch_id INTEGER,
        sent_text TEXT,
        run_id TEXT,
        run_token TEXT,
        message_count_at_dispatch INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        failure_code TEXT,
        failure_detail TEXT,
        timed_out_at INTEGER,
        lead_count INTEGER,
        created_at INTEGER NOT NULL,
        dispatched_at INTEGER,
        finished_at INTEGER
      );
      CREATE INDEX turns_thread_state ON turns (thread_id, state);
      -- Finished turns pile up forever; a restart only needs the few open ones. The resume query must spell
      -- this condition identically for SQLite to use the index.
      CREATE INDEX turns_open ON turns (thread_id)
        WHERE state IN ('pending', 'sending') OR (state = 'dispatched' AND timed_out_at IS NULL);

      CREATE TABLE delivery_keys (
        key TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX delivery_keys_expiry ON delivery_keys (expires_at);

      CREATE TABLE channel_choices (
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        set_by TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (team_id, channel_id)
      ) WITHOUT ROWID;

      CREATE TABLE user_choices (
        team_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (team_id, user_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: "threads may wait for a step; card payload; per-turn status message",
    up: `
      -- SQLite cannot drop NOT NULL in place: rebuild threads (foreign keys are off during migrations,
      -- so dropping the old table does not cascade to turns).
      CREATE TABLE threads_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        session_id TEXT,
        campaign_id TEXT,
        node_id TEXT,
        started_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status_message_ts TEXT,
        card_message_ts TEXT,
        card_revision INTEGER NOT NULL DEFAULT 0,
        card_payload TEXT,
        draft_hash TEXT,
        turn_count INTEGER NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO threads_v2 (id, team_id, channel_id, thread_ts, session_id, campaign_id, node_id, started_by,
          created_at, status_message_ts, card_message_ts, card_revision, draft_hash, turn_count, message_count)
        SELECT id, team_id, channel_id, thread_ts, session_id, campaign_id, node_id, started_by,
          created_at, status_message_ts, card_message_ts, card_revision, draft_hash, turn_count, message_count
        FROM threads;
      -- Keep AUTOINCREMENT's memory of ids handed out before, so none is reused.
      UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'threads'))
        WHERE name = 'threads_v2';
      DROP TABLE threads;
      ALTER TABLE threads_v2 RENAME TO threads;
      CREATE UNIQUE INDEX threads_ref ON threads (team_id, channel_id, thread_ts);
      CREATE UNIQUE INDEX threads_session ON threads (session_id);

      ALTER TABLE turns ADD COLUMN status_message_ts TEXT;
    `,
  },
  {
    version: 3,
    name: "leases and fencing; what Slack messages we posted moves to tables of the Slack layer",
    up: `
      -- One replica drives a thread at a time; the token grows with every new holder (fencing).
      ALTER TABLE threads ADD COLUMN lease_owner TEXT;
      ALTER TABLE threads ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE threads ADD COLUMN lease_expires_at INTEGER NOT NULL DEFAULT 0;
      -- "Check again" gives a timed-out turn a new deadline that any replica can read.
      ALTER TABLE turns ADD COLUMN deadline_at INTEGER;

      -- Every post by a key of ours: a post whose answer was lost is looked up, never posted twice.
      CREATE TABLE slack_posts (
        key TEXT PRIMARY KEY,
        thread_id INTEGER NOT NULL,
        ts TEXT,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX slack_posts_thread ON slack_posts (thread_id);
      CREATE TABLE slack_turn_status (
        turn_id INTEGER PRIMARY KEY,
        post_key TEXT NOT NULL
      );
      CREATE TABLE slack_cards (
        thread_id INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        ts TEXT NOT NULL,
        payload TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        superseded_at INTEGER,
        PRIMARY KEY (thread_id, revision)
      ) WITHOUT ROWID;

      -- What version 2 kept in threads and turns moves over, so live cards keep their buttons.
      INSERT INTO slack_cards (thread_id, revision, ts, payload)
        SELECT id, card_revision, card_message_ts, card_payload FROM threads
        WHERE card_message_ts IS NOT NULL AND card_payload IS NOT NULL;
      INSERT INTO slack_posts (key, thread_id, ts, created_at)
        SELECT 'status:legacy:' || id, thread_id, status_message_ts, created_at FROM turns
        WHERE status_message_ts IS NOT NULL;
      INSERT INTO slack_turn_status (turn_id, post_key)
        SELECT id, 'status:legacy:' || id FROM turns WHERE status_message_ts IS NOT NULL;
      ALTER TABLE threads DROP COLUMN status_message_ts;
      ALTER TABLE threads DROP COLUMN card_message_ts;
      ALTER TABLE threads DROP COLUMN card_revision;
      ALTER TABLE threads DROP COLUMN card_payload;
      ALTER TABLE turns DROP COLUMN status_message_ts;
    `,
  },
  {
    version: 4,
    name: "workspaces: Puffle keys and defaults, OAuth installations and states, Home viewers; the request budget",
    up: `
      -- A thread of an uninstalled workspace ends; one saved to its campaign says so; its last version.
      ALTER TABLE threads ADD COLUMN ended_at INTEGER;
      ALTER TABLE threads ADD COLUMN ended_reason TEXT;
      ALTER TABLE threads ADD COLUMN saved_at INTEGER;
      ALTER TABLE threads ADD COLUMN draft_version INTEGER;
      CREATE INDEX threads_started_by ON threads (team_id, started_by, created_at);

      CREATE TABLE workspaces (
        team_id TEXT PRIMARY KEY,
        puffle_key_enc TEXT,
        puffle_key_last4 TEXT,
        puffle_key_set_by TEXT,
        puffle_key_set_at INTEGER,
        default_campaign_id TEXT,
        default_node_id TEXT,
        default_set_by TEXT,
        default_set_at INTEGER
      ) WITHOUT ROWID;

      CREATE TABLE installations (
        install_key TEXT PRIMARY KEY,
        team_id TEXT,
        enterprise_id TEXT,
        is_enterprise_install INTEGER NOT NULL DEFAULT 0,
        record_enc TEXT NOT NULL,
        bot_user_id TEXT,
        installer_user_id TEXT,
        token_expires_at INTEGER,
        installed_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        refresh_owner TEXT,
        refresh_until INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;

      CREATE TABLE oauth_states (
        state TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE home_viewers (
        team_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        PRIMARY KEY (team_id, user_id)
      ) WITHOUT ROWID;

      CREATE TABLE puffle_budget (
        key_id TEXT PRIMARY KEY,
        next_slot_at INTEGER NOT NULL,
        paused_until INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: "the workspaces seen under each org-wide install",
    up: `
      CREATE TABLE org_workspaces (
        team_id TEXT PRIMARY KEY,
        enterprise_id TEXT NOT NULL,
        seen_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX org_workspaces_enterprise ON org_workspaces (enterprise_id);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Brings the database up to the last migration, all pending steps in one transaction, and returns the
 * versions it applied. IMMEDIATE takes the write lock before reading the version, so two processes
 * opening the same file at once cannot both run a step.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const latest = migrations.at(-1)?.version ?? 0;
  // Table rebuilds need foreign keys off (SQLite's documented procedure; the pragma is a no-op inside a
  // transaction, so it is set around it), and a check that every reference still holds before commit.
  const foreignKeys = db.pragma("foreign_keys", { simple: true }) as number;
  db.pragma("foreign_keys = OFF");
  try {
    return migrateWithoutForeignKeys(db, migrations, latest);
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? "ON" : "OFF"}`);
  }
}

function migrateWithoutForeignKeys(
  db: Database.Database,
  migrations: readonly Migration[],
  latest: number,
): number[] {
  const run = db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > latest) {
      throw new Error(
        `Database ${db.name} has schema version ${current}, newer than this release knows (${latest}). ` +
          "Run a newer release, or point DATABASE_URL at another file.",
      );
    }
    const pending = migrations.filter((migration) => migration.version > current);
    for (const migration of pending) {
      db.exec(migration.up);
      db.pragma(`user_version = ${migration.version}`);
    }
    const broken = db.pragma("foreign_key_check") as unknown[];
    if (broken.length > 0)
      throw new Error(`Migration left ${broken.length} broken references; nothing was changed`);
    return pending.map((migration) => migration.version);
  });
  return run.immediate();
}
