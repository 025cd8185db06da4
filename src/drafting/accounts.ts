import type { Clock } from "../clock.ts";
import { type Sealer, secretId } from "../crypto.ts";
import type { Logger } from "../logger.ts";
import type { PuffleClient } from "../puffle/client.ts";
import { isPuffleError } from "../puffle/errors.ts";
import { type CampaignContext, createCampaignContext } from "./campaign-context.ts";
import type { WorkspaceStore } from "./workspaces.ts";

/**
 * Which Puffle account drafts for a Slack workspace (SPEC 8): the key the workspace connected, else
 * PUFFLE_API_KEY, else none (its messages wait until an admin connects one). One client and one
 * campaign cache per key, so workspaces never share campaigns, sessions or a request budget.
 */
export interface PuffleAccount {
  /** Where the key comes from: the workspace's own, or the deployment's PUFFLE_API_KEY. */
  source: "workspace" | "default";
  /** A non-secret id of the key (a hash), for logs and the request budget. */
  keyId: string;
  last4: string;
  puffle: PuffleClient;
  campaigns: CampaignContext;
}

export type KeyCheck =
  | { status: "ok"; campaigns: number }
  | { status: "refused" }
  | { status: "unreachable"; detail: string }
  | { status: "error"; detail: string };

export interface PuffleAccounts {
  forTeam(teamId: string): Promise<PuffleAccount | undefined>;
  /** Tries a key against Puffle (lists its campaigns), without keeping it. */
  check(key: string): Promise<KeyCheck>;
  /** Seals a key for the store; undefined when no ENCRYPTION_KEY is set. */
  seal(key: string): string | undefined;
  close(): Promise<void>;
}

export interface PuffleAccountsOptions {
  workspaces: WorkspaceStore;
  /** Opens keys sealed in the store; absent without ENCRYPTION_KEY (then only PUFFLE_API_KEY works). */
  sealer?: Sealer | undefined;
  /** PUFFLE_API_KEY: serves workspaces without a key of their own. */
  defaultKey?: string | undefined;
  /** A client for one key (its own connection pool, retries and budget). */
  clientFor(key: string, keyId: string): PuffleClient;
  clock: Clock;
  logger: Logger;
}

export function createPuffleAccounts(options: PuffleAccountsOptions): PuffleAccounts {
  const { logger } = options;
  const accounts = new Map<string, Omit<PuffleAccount, "source">>();

  function accountFor(key: string): Omit<PuffleAccount, "source"> {
    const keyId = secretId(key);
    let account = accounts.get(keyId);
    if (!account) {
      const puffle = options.clientFor(key, keyId);
      account = {
        keyId,
        last4: key.slice(-4),
        puffle,
        campaigns: createCampaignContext({
          puffle,
          clock: options.clock,
          logger: logger.child({ component: "campaigns", keyId }),
        }),
      };
      accounts.set(keyId, account);
    }
    return account;
  }

  return {
    async forTeam(teamId) {
      const workspace = await options.workspaces.getWorkspace(teamId);
      if (workspace?.puffleKeyEncrypted && options.sealer) {
        try {
          return { source: "workspace", ...accountFor(options.sealer.open(workspace.puffleKeyEncrypted)) };
        } catch (error) {
          // A key sealed with an unknown ENCRYPTION_KEY: say so loudly, fall back to the default key.
          logger.error(
            { teamId, err: error instanceof Error ? error.message : String(error) },
            "puffle.key_unreadable",
          );
        }
      }
      return options.defaultKey ? { source: "default", ...accountFor(options.defaultKey) } : undefined;
    },

    async check(key) {
      const client = options.clientFor(key, secretId(key));
      try {
        const campaigns = await client.listCampaigns({ timeoutMs: 5000, signal: AbortSignal.timeout(8000) });
        return { status: "ok", campaigns: campaigns.length };
      } catch (error) {
        if (isPuffleError(error)) {
          if (error.code === "unauthorized" || error.code === "forbidden") return { status: "refused" };
          if (error.code === "connection" || error.code === "timeout" || error.code === "server_error")
            return { status: "unreachable", detail: error.message };
          return { status: "error", detail: error.message };
        }
        return { status: "unreachable", detail: error instanceof Error ? error.message : String(error) };
      } finally {
        await client.close();
      }
    },

    seal(key) {
      return options.sealer?.seal(key);
    },

    async close() {
      await Promise.allSettled([...accounts.values()].map((account) => account.puffle.close()));
      accounts.clear();
    },
  };
}
