/**
 * Workspaces, installations, install states, Home viewers and the request budget on PostgreSQL
 * (migration 2). What several replicas may race for is settled inside one statement each: a budget
 * slot (an upsert that locks the key's row), a token refresh lock (a conditional UPDATE, re-checked
 * by PostgreSQL once the other replica's write commits) and an install state (a DELETE that answers
 * the row only to the replica that removed it).
 */

import type pg from "pg";
import type { WorkspaceRecord, WorkspaceStore } from "../../drafting/workspaces.ts";
import type { BudgetStore } from "../../puffle/budget-store.ts";
import type { HomeViewers } from "../../slack/home/viewers.ts";
import type { InstallationRecords, InstallationRow, OAuthStates } from "../../slack/oauth/records.ts";
import { type WorkspaceRow, workspaceRecordOf } from "../columns.ts";
import { run, type Statement } from "./queries.ts";

export type PostgresWorkspaceRecords = WorkspaceStore &
  InstallationRecords &
  OAuthStates &
  HomeViewers &
  BudgetStore;

/** Every statement, named (prepared once per connection); exported so a test can read them. */
export const WORKSPACE_QUERIES = {
  workspace: {
    name: "workspace",
    text:
      'SELECT team_id AS "teamId", puffle_key_enc AS "puffleKeyEncrypted", puffle_key_last4 AS "puffleKeyLast4", ' +
      'puffle_key_set_by AS "puffleKeySetBy", puffle_key_set_at AS "puffleKeySetAt", ' +
      'default_campaign_id AS "defaultCampaignId", default_node_id AS "defaultNodeId", ' +
      'default_set_by AS "defaultSetBy" FROM workspaces WHERE team_id = $1',
  },
  setKey: {
    name: "workspace_set_key",
    text:
      "INSERT INTO workspaces (team_id, puffle_key_enc, puffle_key_last4, puffle_key_set_by, puffle_key_set_at) " +
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id) DO UPDATE SET puffle_key_enc = excluded.puffle_key_enc, " +
      "puffle_key_last4 = excluded.puffle_key_last4, puffle_key_set_by = excluded.puffle_key_set_by, " +
      "puffle_key_set_at = excluded.puffle_key_set_at",
  },
  clearKey: {
    name: "workspace_clear_key",
    text:
      "UPDATE workspaces SET puffle_key_enc = NULL, puffle_key_last4 = NULL, puffle_key_set_by = NULL, " +
      "puffle_key_set_at = NULL WHERE team_id = $1",
  },
  setDefault: {
    name: "workspace_set_default",
    text:
      "INSERT INTO workspaces (team_id, default_campaign_id, default_node_id, default_set_by, default_set_at) " +
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id) DO UPDATE SET " +
      "default_campaign_id = excluded.default_campaign_id, default_node_id = excluded.default_node_id, " +
      "default_set_by = excluded.default_set_by, default_set_at = excluded.default_set_at",
  },
  // installed_at is kept when the row exists: a reinstall updates the installation, it does not restart it.
  saveInstallation: {
    name: "save_installation",
    text:
      "INSERT INTO installations (install_key, team_id, enterprise_id, is_enterprise_install, record_enc, " +
      "bot_user_id, installer_user_id, token_expires_at, installed_at, updated_at) " +
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (install_key) DO UPDATE SET " +
      "team_id = excluded.team_id, enterprise_id = excluded.enterprise_id, " +
      "is_enterprise_install = excluded.is_enterprise_install, record_enc = excluded.record_enc, " +
      "bot_user_id = excluded.bot_user_id, installer_user_id = excluded.installer_user_id, " +
      "token_expires_at = excluded.token_expires_at, updated_at = excluded.updated_at",
  },
  findInstallation: {
    name: "find_installation",
    text:
      'SELECT install_key AS "installKey", team_id AS "teamId", enterprise_id AS "enterpriseId", ' +
      'is_enterprise_install AS "isEnterpriseInstall", record_enc AS "recordEncrypted", ' +
      'bot_user_id AS "botUserId", installer_user_id AS "installerUserId", ' +
      'token_expires_at AS "tokenExpiresAt", installed_at AS "installedAt", updated_at AS "updatedAt" ' +
      "FROM installations WHERE install_key = $1",
  },
  deleteInstallation: {
    name: "delete_installation",
    text: "DELETE FROM installations WHERE install_key = $1",
  },
  noteOrgWorkspace: {
    name: "note_org_workspace",
    text:
      "INSERT INTO org_workspaces (team_id, enterprise_id, seen_at) VALUES ($1, $2, $3) " +
      "ON CONFLICT (team_id) DO UPDATE SET enterprise_id = excluded.enterprise_id, seen_at = excluded.seen_at",
  },
  enterpriseOfWorkspace: {
    name: "enterprise_of_workspace",
    text: 'SELECT enterprise_id AS "enterpriseId" FROM org_workspaces WHERE team_id = $1',
  },
  takeOrgWorkspaces: {
    name: "take_org_workspaces",
    text: 'DELETE FROM org_workspaces WHERE enterprise_id = $1 RETURNING team_id AS "teamId"',
  },
  // Two replicas at once: the second waits for the first one's row lock, then PostgreSQL checks the
  // condition again against the row the first one wrote, and finds it held.
  lockRefresh: {
    name: "lock_installation_refresh",
    text:
      "UPDATE installations SET refresh_owner = $2, refresh_until = $3 WHERE install_key = $1 " +
      "AND (refresh_owner IS NULL OR refresh_owner = $2 OR refresh_until <= $4)",
  },
  unlockRefresh: {
    name: "unlock_installation_refresh",
    text: "UPDATE installations SET refresh_owner = NULL, refresh_until = 0 WHERE install_key = $1 AND refresh_owner = $2",
  },
  putState: {
    name: "put_oauth_state",
    text: "INSERT INTO oauth_states (state, payload, expires_at) VALUES ($1, $2, $3)",
  },
  // Only the replica whose DELETE removed the row gets the payload; expired states go at the same time.
  takeState: {
    name: "take_oauth_state",
    text:
      "WITH taken AS (DELETE FROM oauth_states WHERE state = $1 AND expires_at > $2 RETURNING payload), " +
      "expired AS (DELETE FROM oauth_states WHERE expires_at <= $2) SELECT payload FROM taken",
  },
  noteHome: {
    name: "note_home_opened",
    text:
      "INSERT INTO home_viewers (team_id, user_id, opened_at) VALUES ($1, $2, $3) " +
      "ON CONFLICT (team_id, user_id) DO UPDATE SET opened_at = excluded.opened_at",
  },
  hasHome: {
    name: "has_opened_home",
    text: "SELECT 1 FROM home_viewers WHERE team_id = $1 AND user_id = $2",
  },
  // GCRA: next_slot_at is the key's theoretical arrival time. A slot is due when that time, less the
  // burst tolerance, has come; after a pause there is no burst credit. The upsert locks the row, so
  // replicas reserving at once queue up and get distinct slots.
  reserve: {
    name: "reserve_slot",
    text:
      "INSERT INTO puffle_budget AS b (key_id, next_slot_at) VALUES ($1, $2::bigint + $3::bigint) " +
      "ON CONFLICT (key_id) DO UPDATE SET " +
      "next_slot_at = GREATEST(b.next_slot_at, $2::bigint, b.paused_until + $4::bigint) + $3::bigint " +
      "RETURNING GREATEST($2::bigint, b.next_slot_at - $3::bigint - $4::bigint) AS slot",
  },
  pause: {
    name: "pause_key",
    text:
      "INSERT INTO puffle_budget AS b (key_id, next_slot_at, paused_until) VALUES ($1, 0, $2) " +
      "ON CONFLICT (key_id) DO UPDATE SET paused_until = GREATEST(b.paused_until, excluded.paused_until)",
  },
} as const satisfies Record<string, Statement>;

const Q = WORKSPACE_QUERIES;

export function postgresWorkspaceRecords(pool: pg.Pool): PostgresWorkspaceRecords {
  const first = async <R extends pg.QueryResultRow>(statement: Statement, values: readonly unknown[]) =>
    (await run<R>(pool, statement, values)).rows[0];
  const exec = async (statement: Statement, values: readonly unknown[]) =>
    (await run(pool, statement, values)).rowCount ?? 0;

  return {
    async getWorkspace(teamId): Promise<WorkspaceRecord | undefined> {
      const row = await first<WorkspaceRow>(Q.workspace, [teamId]);
      if (!row) return undefined;
      return workspaceRecordOf(row);
    },
    async setPuffleKey(teamId, key, setBy, now) {
      await exec(Q.setKey, [teamId, key.encrypted, key.last4, setBy, now]);
    },
    async clearPuffleKey(teamId) {
      await exec(Q.clearKey, [teamId]);
    },
    async setWorkspaceDefaultStep(teamId, step, setBy, now) {
      await exec(Q.setDefault, [teamId, step?.campaignId ?? null, step?.nodeId ?? null, setBy, now]);
    },

    async saveInstallation(row) {
      await exec(Q.saveInstallation, [
        row.installKey,
        row.teamId,
        row.enterpriseId,
        row.isEnterpriseInstall,
        row.recordEncrypted,
        row.botUserId,
        row.installerUserId,
        row.tokenExpiresAt,
        row.installedAt,
        row.updatedAt,
      ]);
    },
    findInstallation: (installKey) => first<InstallationRow>(Q.findInstallation, [installKey]),
    deleteInstallation: async (installKey) => (await exec(Q.deleteInstallation, [installKey])) > 0,
    lockInstallationRefresh: async (installKey, owner, now, ttlMs) =>
      (await exec(Q.lockRefresh, [installKey, owner, now + ttlMs, now])) > 0,
    async unlockInstallationRefresh(installKey, owner) {
      await exec(Q.unlockRefresh, [installKey, owner]);
    },
    async noteOrgWorkspace(teamId, enterpriseId, now) {
      await exec(Q.noteOrgWorkspace, [teamId, enterpriseId, now]);
    },
    async enterpriseOfWorkspace(teamId) {
      return (await first<{ enterpriseId: string }>(Q.enterpriseOfWorkspace, [teamId]))?.enterpriseId;
    },
    async takeOrgWorkspaces(enterpriseId) {
      const { rows } = await run<{ teamId: string }>(pool, Q.takeOrgWorkspaces, [enterpriseId]);
      return rows.map((row) => row.teamId);
    },

    async putOAuthState(state, payload, expiresAt) {
      await exec(Q.putState, [state, payload, expiresAt]);
    },
    takeOAuthState: async (state, now) =>
      (await first<{ payload: string }>(Q.takeState, [state, now]))?.payload,

    async noteHomeOpened(teamId, userId, now) {
      await exec(Q.noteHome, [teamId, userId, now]);
    },
    hasOpenedHome: async (teamId, userId) => (await first(Q.hasHome, [teamId, userId])) !== undefined,

    reserveSlot: async (keyId, now, intervalMs, toleranceMs = 0) =>
      Number(
        (await first<{ slot: string | number }>(Q.reserve, [keyId, now, intervalMs, toleranceMs]))?.slot ??
          now,
      ),
    async pauseKey(keyId, until) {
      await exec(Q.pause, [keyId, until]);
    },
  };
}
