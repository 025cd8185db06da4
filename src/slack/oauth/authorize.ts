import type { AuthorizeResult, InstallationQuery, InstallProvider } from "@slack/oauth";
import { type Clock, sleep } from "../../clock.ts";
import type { Logger } from "../../logger.ts";
import { describeQuery, NoInstallationError, type SealedInstallationStore } from "./installation-store.ts";
import type { InstallationRecords } from "./records.ts";

/**
 * An installation's current bot token, through @slack/oauth's `authorize`, which refreshes a rotating
 * token that expires within 2 hours and saves the new pair. A refresh token works once: two replicas
 * refreshing the same installation at once would leave one of them with a dead token. So a token near
 * its expiry is refreshed only by the holder of the installation's refresh lock in the store (one per
 * process at a time, too); the others wait, read the row again, and find the new token.
 */
export type InstallationAuthorize = (query: InstallationQuery<boolean>) => Promise<AuthorizeResult>;

/** The provider refreshes tokens that expire within this (@slack/oauth's own window). */
export const REFRESH_WINDOW_MS = 2 * 60 * 60_000;
const LOCK_TTL_MS = 30_000;
const WAIT_MS = 10_000;
const POLL_MS = 100;

/** Another replica kept the refresh lock for longer than we wait: the caller tries again later. */
export class RefreshBusyError extends Error {
  constructor(installKey: string) {
    super(`the token of ${installKey} is being refreshed elsewhere; try again shortly`);
    this.name = "RefreshBusyError";
  }
}

const BUSY = Symbol("busy");

export function createRefreshingAuthorize(options: {
  provider: Pick<InstallProvider, "authorize">;
  installations: SealedInstallationStore;
  records: Pick<InstallationRecords, "lockInstallationRefresh" | "unlockInstallationRefresh">;
  replicaId: string;
  clock: Clock;
  logger: Logger;
  waitMs?: number;
}): InstallationAuthorize {
  const { provider, installations, records, replicaId, clock, logger } = options;
  const waitMs = options.waitMs ?? WAIT_MS;
  /** Refreshes this process is making, by installation: the lock is per replica, not per call. */
  const refreshing = new Map<string, Promise<AuthorizeResult | typeof BUSY>>();

  async function underLock(
    installKey: string,
    expiresAt: number | null,
    query: InstallationQuery<boolean>,
  ): Promise<AuthorizeResult | typeof BUSY> {
    if (!(await records.lockInstallationRefresh(installKey, replicaId, clock.now(), LOCK_TTL_MS)))
      return BUSY;
    try {
      // The provider reads the row again: a refresh made meanwhile elsewhere is seen, not repeated.
      const result = await provider.authorize(query);
      const refreshedTo = result.botTokenExpiresAt === undefined ? null : result.botTokenExpiresAt * 1000;
      if (refreshedTo !== expiresAt)
        logger.info({ installKey, expiresAt: refreshedTo }, "oauth.token_refreshed");
      return result;
    } finally {
      await records.unlockInstallationRefresh(installKey, replicaId).catch((error: unknown) => {
        logger.warn({ installKey, err: (error as Error).message }, "oauth.unlock_failed");
      });
    }
  }

  return async function authorize(query) {
    const deadline = clock.now() + waitMs;
    for (;;) {
      const row = await installations.findRow(query);
      if (!row) throw new NoInstallationError(describeQuery(query));
      const expiresAt = row.tokenExpiresAt;
      if (expiresAt === null || expiresAt - clock.now() > REFRESH_WINDOW_MS) return provider.authorize(query);
      const pending = refreshing.get(row.installKey);
      if (pending) {
        await pending.catch(() => undefined);
        continue;
      }
      const attempt = underLock(row.installKey, expiresAt, query);
      refreshing.set(row.installKey, attempt);
      let result: AuthorizeResult | typeof BUSY;
      try {
        result = await attempt;
      } finally {
        if (refreshing.get(row.installKey) === attempt) refreshing.delete(row.installKey);
      }
      if (result !== BUSY) return result;
      if (clock.now() >= deadline) throw new RefreshBusyError(row.installKey);
      await sleep(clock, POLL_MS);
    }
  };
}
