import type { Installation, InstallationQuery, InstallationStore } from "@slack/oauth";
import type { Clock } from "../../clock.ts";
import type { Sealer } from "../../crypto.ts";
import type { InstallationRecords, InstallationRow } from "./records.ts";

/**
 * @slack/oauth's installation store on our InstallationRecords. The whole Installation, tokens
 * included, is sealed (AES-256-GCM) into one column; the row keeps only what is not secret. A
 * workspace install is keyed "T:<team id>", an org-wide install "E:<enterprise id>", and a workspace
 * of an org-wide install finds the enterprise's row. A row sealed with ENCRYPTION_KEY_PREVIOUS opens,
 * and is sealed with the current key the next time it is saved (a refresh, a reinstall).
 */
export interface SealedInstallationStore extends InstallationStore {
  /** The row an installation query resolves to (the enterprise's for a workspace of an org install). */
  findRow(query: InstallationQuery<boolean>): Promise<InstallationRow | undefined>;
}

/** No installation for a workspace: it never installed the app, or uninstalled it. */
export class NoInstallationError extends Error {
  constructor(what: string) {
    super(`Puffle Drafter is not installed in ${what} (install it from /slack/install)`);
    this.name = "NoInstallationError";
  }
}

export const teamKey = (teamId: string) => `T:${teamId}`;
export const enterpriseKey = (enterpriseId: string) => `E:${enterpriseId}`;

/** The row key an installation is saved under. */
export function installKeyOf(installation: Installation): string {
  if (installation.isEnterpriseInstall) {
    const enterpriseId = installation.enterprise?.id;
    if (!enterpriseId) throw new Error("an org-wide installation without an enterprise id");
    return enterpriseKey(enterpriseId);
  }
  const teamId = installation.team?.id;
  if (!teamId) throw new Error("a workspace installation without a team id");
  return teamKey(teamId);
}

/** The keys to look up, in order, for a query. */
export function installKeysFor(query: InstallationQuery<boolean>): string[] {
  if (query.isEnterpriseInstall && query.enterpriseId) return [enterpriseKey(query.enterpriseId)];
  const keys: string[] = [];
  if (query.teamId) keys.push(teamKey(query.teamId));
  if (query.enterpriseId) keys.push(enterpriseKey(query.enterpriseId));
  return keys;
}

export function describeQuery(query: InstallationQuery<boolean>): string {
  if (query.isEnterpriseInstall) return `enterprise ${query.enterpriseId ?? "(none)"}`;
  return `workspace ${query.teamId ?? "(none)"}`;
}

export function createInstallationStore(options: {
  records: InstallationRecords;
  sealer: Sealer;
  clock: Clock;
}): SealedInstallationStore {
  const { records, sealer, clock } = options;

  async function findRow(query: InstallationQuery<boolean>): Promise<InstallationRow | undefined> {
    for (const key of installKeysFor(query)) {
      const row = await records.findInstallation(key);
      if (row) return row;
    }
    return undefined;
  }

  return {
    findRow,

    async storeInstallation(installation) {
      const now = clock.now();
      const expiresAt = installation.bot?.expiresAt;
      await records.saveInstallation({
        installKey: installKeyOf(installation),
        teamId: installation.team?.id ?? null,
        enterpriseId: installation.enterprise?.id ?? null,
        isEnterpriseInstall: installation.isEnterpriseInstall === true,
        recordEncrypted: sealer.seal(JSON.stringify(installation)),
        botUserId: installation.bot?.userId ?? null,
        installerUserId: installation.user.id ?? null,
        tokenExpiresAt: typeof expiresAt === "number" ? expiresAt * 1000 : null,
        installedAt: now,
        updatedAt: now,
      });
    },

    async fetchInstallation(query) {
      const row = await findRow(query);
      if (!row) throw new NoInstallationError(describeQuery(query));
      return JSON.parse(sealer.open(row.recordEncrypted)) as Installation;
    },

    // Exactly the query's own installation: a workspace leaving never removes its enterprise's install.
    async deleteInstallation(query) {
      const [key] = installKeysFor(query);
      if (key) await records.deleteInstallation(key);
    },
  };
}
