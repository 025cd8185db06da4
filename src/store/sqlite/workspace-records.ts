import type Database from "better-sqlite3";
import type { WorkspaceRecord, WorkspaceStore } from "../../drafting/workspaces.ts";
import type { BudgetStore } from "../../puffle/budget-store.ts";
import type { HomeViewers } from "../../slack/home/viewers.ts";
import type { InstallationRecords, InstallationRow, OAuthStates } from "../../slack/oauth/records.ts";
import { type WorkspaceRow, workspaceRecordOf } from "../columns.ts";

/** Workspaces, installations, install states, Home viewers and the request budget on SQLite (migration 4). */
export type SqliteWorkspaceRecords = WorkspaceStore &
  InstallationRecords &
  OAuthStates &
  HomeViewers &
  BudgetStore;

const INSTALLATION_SELECT =
  "SELECT install_key AS installKey, team_id AS teamId, enterprise_id AS enterpriseId, " +
  "is_enterprise_install AS isEnterpriseInstall, record_enc AS recordEncrypted, bot_user_id AS botUserId, " +
  "installer_user_id AS installerUserId, token_expires_at AS tokenExpiresAt, installed_at AS installedAt, " +
  "updated_at AS updatedAt FROM installations";

export function sqliteWorkspaceRecords(db: Database.Database): SqliteWorkspaceRecords {
  const s = {
    workspace: db.prepare<[string], WorkspaceRow>(
      "SELECT team_id AS teamId, puffle_key_enc AS puffleKeyEncrypted, puffle_key_last4 AS puffleKeyLast4, " +
        "puffle_key_set_by AS puffleKeySetBy, puffle_key_set_at AS puffleKeySetAt, " +
        "default_campaign_id AS defaultCampaignId, default_node_id AS defaultNodeId, default_set_by AS defaultSetBy " +
        "FROM workspaces WHERE team_id = ?",
    ),
    setKey: db.prepare<[string, string, string, string, number]>(
      "INSERT INTO workspaces (team_id, puffle_key_enc, puffle_key_last4, puffle_key_set_by, puffle_key_set_at) " +
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id) DO UPDATE SET puffle_key_enc = excluded.puffle_key_enc, " +
        "puffle_key_last4 = excluded.puffle_key_last4, puffle_key_set_by = excluded.puffle_key_set_by, " +
        "puffle_key_set_at = excluded.puffle_key_set_at",
    ),
    clearKey: db.prepare<[string]>(
      "UPDATE workspaces SET puffle_key_enc = NULL, puffle_key_last4 = NULL, puffle_key_set_by = NULL, " +
        "puffle_key_set_at = NULL WHERE team_id = ?",
    ),
    setDefault: db.prepare<[string, string | null, string | null, string, number]>(
      "INSERT INTO workspaces (team_id, default_campaign_id, default_node_id, default_set_by, default_set_at) " +
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id) DO UPDATE SET default_campaign_id = excluded.default_campaign_id, " +
        "default_node_id = excluded.default_node_id, default_set_by = excluded.default_set_by, " +
        "default_set_at = excluded.default_set_at",
    ),
    saveInstallation: db.prepare<Record<string, unknown>>(
      "INSERT INTO installations (install_key, team_id, enterprise_id, is_enterprise_install, record_enc, bot_user_id, " +
        "installer_user_id, token_expires_at, installed_at, updated_at) VALUES (@installKey, @teamId, @enterpriseId, " +
        "@isEnterpriseInstall, @recordEncrypted, @botUserId, @installerUserId, @tokenExpiresAt, @installedAt, @updatedAt) " +
        "ON CONFLICT (install_key) DO UPDATE SET team_id = excluded.team_id, enterprise_id = excluded.enterprise_id, " +
        "is_enterprise_install = excluded.is_enterprise_install, record_enc = excluded.record_enc, " +
        "bot_user_id = excluded.bot_user_id, installer_user_id = excluded.installer_user_id, " +
        "token_expires_at = excluded.token_expires_at, updated_at = excluded.updated_at",
    ),
    findInstallation: db.prepare<
      [string],
      Omit<InstallationRow, "isEnterpriseInstall"> & { isEnterpriseInstall: number }
    >(`${INSTALLATION_SELECT} WHERE install_key = ?`),
    deleteInstallation: db.prepare<[string]>("DELETE FROM installations WHERE install_key = ?"),
    noteOrg: db.prepare<[string, string, number]>(
      "INSERT INTO org_workspaces (team_id, enterprise_id, seen_at) VALUES (?, ?, ?) " +
        "ON CONFLICT (team_id) DO UPDATE SET enterprise_id = excluded.enterprise_id, seen_at = excluded.seen_at",
    ),
    enterpriseOf: db
      .prepare<[string], string>("SELECT enterprise_id FROM org_workspaces WHERE team_id = ?")
      .pluck(),
    takeOrg: db
      .prepare<[string], string>("DELETE FROM org_workspaces WHERE enterprise_id = ? RETURNING team_id")
      .pluck(),
    lockRefresh: db.prepare<[string, number, string, string, number]>(
      "UPDATE installations SET refresh_owner = ?, refresh_until = ? WHERE install_key = ? " +
        "AND (refresh_owner IS NULL OR refresh_owner = ? OR refresh_until <= ?)",
    ),
    unlockRefresh: db.prepare<[string, string]>(
      "UPDATE installations SET refresh_owner = NULL, refresh_until = 0 WHERE install_key = ? AND refresh_owner = ?",
    ),
    putState: db.prepare<[string, string, number]>(
      "INSERT INTO oauth_states (state, payload, expires_at) VALUES (?, ?, ?)",
    ),
    takeState: db
      .prepare<[string, number], string>(
        "DELETE FROM oauth_states WHERE state = ? AND expires_at > ? RETURNING payload",
      )
      .pluck(),
    dropExpiredStates: db.prepare<[number]>("DELETE FROM oauth_states WHERE expires_at <= ?"),
    noteHome: db.prepare<[string, string, number]>(
      "INSERT INTO home_viewers (team_id, user_id, opened_at) VALUES (?, ?, ?) " +
        "ON CONFLICT (team_id, user_id) DO UPDATE SET opened_at = excluded.opened_at",
    ),
    hasHome: db
      .prepare<[string, string], number>("SELECT 1 FROM home_viewers WHERE team_id = ? AND user_id = ?")
      .pluck(),
    // GCRA: next_slot_at is the key's theoretical arrival time. A slot is due when that time, less the
    // burst tolerance, has come; after a pause there is no burst credit.
    reserve: db
      .prepare<[{ key: string; now: number; interval: number; tolerance: number }], number>(
        "INSERT INTO puffle_budget (key_id, next_slot_at) VALUES (@key, @now + @interval) " +
          "ON CONFLICT (key_id) DO UPDATE SET next_slot_at = " +
          "MAX(puffle_budget.next_slot_at, @now, puffle_budget.paused_until + @tolerance) + @interval " +
          "RETURNING MAX(@now, next_slot_at - @interval - @tolerance)",
      )
      .pluck(),
    pause: db.prepare<[string, number, number, number]>(
      "INSERT INTO puffle_budget (key_id, next_slot_at, paused_until) VALUES (?, ?, ?) ON CONFLICT (key_id) DO UPDATE " +
        "SET paused_until = MAX(puffle_budget.paused_until, ?)",
    ),
  };
  return {
    async getWorkspace(teamId): Promise<WorkspaceRecord | undefined> {
      const row = s.workspace.get(teamId);
      if (!row) return undefined;
      return workspaceRecordOf(row);
    },
    async setPuffleKey(teamId, key, setBy, now) {
      s.setKey.run(teamId, key.encrypted, key.last4, setBy, now);
    },
    async clearPuffleKey(teamId) {
      s.clearKey.run(teamId);
    },
    async setWorkspaceDefaultStep(teamId, step, setBy, now) {
      s.setDefault.run(teamId, step?.campaignId ?? null, step?.nodeId ?? null, setBy, now);
    },
    async saveInstallation(row) {
      s.saveInstallation.run({ ...row, isEnterpriseInstall: row.isEnterpriseInstall ? 1 : 0 });
    },
    async findInstallation(installKey) {
      const row = s.findInstallation.get(installKey);
      return row ? { ...row, isEnterpriseInstall: Boolean(row.isEnterpriseInstall) } : undefined;
    },
    async deleteInstallation(installKey) {
      return s.deleteInstallation.run(installKey).changes > 0;
    },
    async lockInstallationRefresh(installKey, owner, now, ttlMs) {
      return s.lockRefresh.run(owner, now + ttlMs, installKey, owner, now).changes > 0;
    },
    async noteOrgWorkspace(teamId, enterpriseId, now) {
      s.noteOrg.run(teamId, enterpriseId, now);
    },
    async enterpriseOfWorkspace(teamId) {
      return s.enterpriseOf.get(teamId);
    },
    async takeOrgWorkspaces(enterpriseId) {
      return s.takeOrg.all(enterpriseId);
    },
    async unlockInstallationRefresh(installKey, owner) {
      s.unlockRefresh.run(installKey, owner);
    },
    async putOAuthState(state, payload, expiresAt) {
      s.putState.run(state, payload, expiresAt);
    },
    async takeOAuthState(state, now) {
      const payload = s.takeState.get(state, now);
      s.dropExpiredStates.run(now);
      return payload;
    },
    async noteHomeOpened(teamId, userId, now) {
      s.noteHome.run(teamId, userId, now);
    },
    async hasOpenedHome(teamId, userId) {
      return s.hasHome.get(teamId, userId) !== undefined;
    },
    async reserveSlot(keyId, now, intervalMs, toleranceMs = 0) {
      return s.reserve.get({ key: keyId, now, interval: intervalMs, tolerance: toleranceMs }) ?? now;
    },
    async pauseKey(keyId, until) {
      s.pause.run(keyId, 0, until, until);
    },
  };
}
