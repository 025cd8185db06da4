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
}

export interface OAuthStates {
  putOAuthState(state: string, payload: string, expiresAt: number): Promise<void>;
  /** Answers the payload once: a state is spent by reading it (a replayed link is refused). */
  takeOAuthState(state: string, now: number): Promise<string | undefined>;
}
