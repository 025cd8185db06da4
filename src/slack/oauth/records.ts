/**
 * What OAuth installs keep in the store (SPEC 8): each installation (keyed by team, or by enterprise for
 * an org-wide install) with everything secret encrypted, a per-installation refresh lock so that two
 * replicas never refresh the same rotating token at once, and the one-time `state` of install links.
 */
export interface InstallationRow {
  /** "T:<team id>" for a workspace install, "E:<enterprise id>" for an org-wide one. */
  installKey: string;
  teamId: string | null;
  enterpriseId: string | null;
  isEnterpriseInstall: boolean;
  /** The whole installation (tokens included), encrypted with ENCRYPTION_KEY. */
  recordEncrypted: string;
  botUserId: string | null;
  installerUserId: string | null;
  /** When the bot token expires (token rotation), epoch ms; null when it does not. */
  tokenExpiresAt: number | null;
  installedAt: number;
  updatedAt: number;
}

export interface InstallationRecords {
  /** Inserts or replaces; `installedAt` of an existing row is kept. */
  saveInstallation(row: InstallationRow): Promise<void>;
  findInstallation(installKey: string): Promise<InstallationRow | undefined>;
  /** Answers whether there was one. */
  deleteInstallation(installKey: string): Promise<boolean>;
  /** Takes the installation's refresh lock for `owner` until `now + ttlMs`, unless another owner holds it. */
  lockInstallationRefresh(installKey: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  unlockInstallationRefresh(installKey: string, owner: string): Promise<void>;
  /**
   * A workspace of an org-wide install, seen in a delivery: remembered so that every replica, also after
   * a restart, finds the enterprise's installation for it (work resumed for it has no delivery to go by).
   */
  noteOrgWorkspace(teamId: string, enterpriseId: string, now: number): Promise<void>;
  enterpriseOfWorkspace(teamId: string): Promise<string | undefined>;
  /** The workspaces seen under an enterprise, and forgets them (its org-wide install was removed). */
  takeOrgWorkspaces(enterpriseId: string): Promise<string[]>;
}

export interface OAuthStates {
  putOAuthState(state: string, payload: string, expiresAt: number): Promise<void>;
  /** Answers the payload once: a state is spent by reading it (a replayed link is refused). */
  takeOAuthState(state: string, now: number): Promise<string | undefined>;
}
