import type { Authorize, Logger as BoltLogger } from "@slack/bolt";
import { InstallProvider } from "@slack/oauth";
import type { Clock } from "../../clock.ts";
import type { Config } from "../../config.ts";
import type { Sealer } from "../../crypto.ts";
import { createSecretScrubber, type Logger } from "../../logger.ts";
import { toBoltLogger } from "../output.ts";
import { createRefreshingAuthorize } from "./authorize.ts";
import { createInstallationStore, describeQuery, NoInstallationError } from "./installation-store.ts";
import { createInstallPages, type InstallPages, renderInstallPage } from "./pages.ts";
import type { InstallationRecords, OAuthStates } from "./records.ts";
import { BOT_SCOPES } from "./scopes.ts";
import { createStateStore } from "./state-store.ts";

export { createBotUserScope } from "./bot-user.ts";
export { NoInstallationError } from "./installation-store.ts";
export { INSTALL_PATH, REDIRECT_PATH } from "./pages.ts";

/**
 * OAuth mode (SPEC 8): the app installs in any number of workspaces. @slack/oauth's InstallProvider
 * runs the install and token rotation, on our stores: installations sealed in the database (see
 * installation-store.ts), one-time install states (state-store.ts), refreshes serialized across
 * replicas (authorize.ts).
 */
export interface OAuthInstalls {
  /** Bolt's authorize: the installation of the delivery's workspace (or its enterprise). */
  authorize: Authorize<boolean>;
  /** A workspace's current bot token (refreshed first when it is about to expire). */
  tokenFor(teamId: string): Promise<string>;
  /** GET /slack/install and GET /slack/oauth_redirect. */
  pages: InstallPages;
  /** The app was uninstalled (or its bot token revoked): forgets the tokens; answers the workspaces to stop. */
  uninstall(target: UninstallTarget): Promise<string[]>;
  /** Who installed the app in a workspace (an admin of the app there), when known. */
  installerOf(teamId: string): Promise<string | undefined>;
}

export interface UninstallTarget {
  teamId: string | undefined;
  enterpriseId: string | undefined;
  isEnterpriseInstall: boolean;
}

/** Workspaces of org-wide installs seen in deliveries, remembered so their clients find the enterprise. */
const MAX_REMEMBERED_TEAMS = 10_000;

export function createOAuthInstalls(options: {
  oauth: NonNullable<Config["slack"]["oauth"]>;
  slackApiUrl: string;
  store: InstallationRecords & OAuthStates;
  sealer: Sealer;
  replicaId: string;
  clock: Clock;
  logger: Logger;
  logLevel: string;
  /** How long to wait for another replica's refresh of a token (default 10 s). */
  refreshWaitMs?: number;
}): OAuthInstalls {
  const { oauth, store, clock } = options;
  const logger = options.logger.child({ component: "oauth" });
  const installationStore = createInstallationStore({ records: store, sealer: options.sealer, clock });
  const provider = new InstallProvider({
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    stateSecret: oauth.stateSecret,
    stateStore: createStateStore({ states: store, secret: oauth.stateSecret }),
    installationStore,
    installUrlOptions: { scopes: [...BOT_SCOPES] },
    renderHtmlForInstallPath: renderInstallPage,
    authVersion: "v2",
    logger: providerLogger(options.logger, options.logLevel, [oauth.clientSecret, oauth.stateSecret]),
    // A browser waits on the exchange: fail fast, the person can try again. A refresh token works once,
    // so a refresh is never repeated blindly either.
    clientOptions: { slackApiUrl: options.slackApiUrl, retryConfig: { retries: 0 }, timeout: 15_000 },
  });
  const authorizeInstallation = createRefreshingAuthorize({
    provider,
    installations: installationStore,
    records: store,
    replicaId: options.replicaId,
    clock,
    logger,
    ...(options.refreshWaitMs === undefined ? {} : { waitMs: options.refreshWaitMs }),
  });
  // Workspaces of org-wide installs: remembered here and in the store (another replica, or this one
  // after a restart, resumes their work with no delivery to say which enterprise they belong to).
  const enterpriseOf = new Map<string, string>();
  const remember = (teamId: string | undefined, enterpriseId: string | undefined) => {
    if (!teamId || !enterpriseId || enterpriseOf.get(teamId) === enterpriseId) return;
    if (enterpriseOf.size >= MAX_REMEMBERED_TEAMS)
      enterpriseOf.delete(enterpriseOf.keys().next().value as string);
    enterpriseOf.set(teamId, enterpriseId);
    store.noteOrgWorkspace(teamId, enterpriseId, clock.now()).catch((error: unknown) => {
      enterpriseOf.delete(teamId);
      logger.warn(
        { teamId, err: error instanceof Error ? error.message : String(error) },
        "oauth.org_note_failed",
      );
    });
  };
  const queryFor = async (teamId: string) => {
    let enterpriseId = enterpriseOf.get(teamId);
    if (enterpriseId === undefined) {
      enterpriseId = await store.enterpriseOfWorkspace(teamId);
      if (enterpriseId !== undefined) enterpriseOf.set(teamId, enterpriseId);
    }
    return { teamId, enterpriseId, isEnterpriseInstall: false };
  };

  return {
    pages: createInstallPages({ provider, logger }),

    async authorize(source) {
      remember(source.teamId, source.enterpriseId);
      return authorizeInstallation({
        teamId: source.teamId,
        enterpriseId: source.enterpriseId,
        isEnterpriseInstall: source.isEnterpriseInstall,
      });
    },

    async tokenFor(teamId) {
      const query = await queryFor(teamId);
      const result = await authorizeInstallation(query);
      if (!result.botToken) throw new NoInstallationError(describeQuery(query));
      return result.botToken;
    },

    async installerOf(teamId) {
      const query = await queryFor(teamId).catch(() => undefined);
      if (!query) return undefined;
      const installation = await installationStore.fetchInstallation(query).catch(() => undefined);
      return installation?.user?.id;
    },

    async uninstall(target) {
      await installationStore.deleteInstallation?.(target);
      const teams = new Set(target.teamId ? [target.teamId] : []);
      if (target.isEnterpriseInstall && target.enterpriseId) {
        for (const teamId of await store.takeOrgWorkspaces(target.enterpriseId)) teams.add(teamId);
        for (const [teamId, enterpriseId] of enterpriseOf)
          if (enterpriseId === target.enterpriseId) teams.add(teamId);
        for (const teamId of teams) enterpriseOf.delete(teamId);
      }
      return [...teams];
    },
  };
}

/**
 * The provider's logger, also its Web API client's: that client logs request bodies at debug level,
 * and the body of oauth.v2.access carries the client secret. Every line is scrubbed of our secrets.
 */
function providerLogger(logger: Logger, level: string, secrets: string[]): BoltLogger {
  const base = toBoltLogger(logger.child({ component: "oauth-provider" }), level);
  const scrub = createSecretScrubber(secrets);
  const clean = (parts: unknown[]) =>
    parts.map((part) =>
      scrub(typeof part === "string" ? part : part instanceof Error ? part.message : JSON.stringify(part)),
    );
  return {
    ...base,
    debug: (...msg) => base.debug(...clean(msg)),
    info: (...msg) => base.info(...clean(msg)),
    warn: (...msg) => base.warn(...clean(msg)),
    error: (...msg) => base.error(...clean(msg)),
  };
}
