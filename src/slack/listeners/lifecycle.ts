import type { App, Context } from "@slack/bolt";
import { z } from "zod";
import type { UninstallTarget } from "../oauth/index.ts";
import { type ListenerDeps, readPayload } from "./deps.ts";

/**
 * The app leaves a workspace: `app_uninstalled`, or `tokens_revoked` naming our bot's token. Its
 * tokens are forgotten (OAuth mode) and its threads end for good, quietly: there is no token left to
 * say anything with, and nothing is retried. Bolt delivers these two events without authorizing them,
 * since the installation is already gone. Only local writes happen here, before Slack is answered.
 */
export interface LifecycleDeps {
  /** OAuth mode: forgets the installation; answers the workspaces whose work stops. Absent with one bot token. */
  uninstall?: ((target: UninstallTarget) => Promise<string[]>) | undefined;
}

/** We hold no user tokens: only a revoked bot token ends anything. */
const TokensRevokedSchema = z.looseObject({
  tokens: z.looseObject({ oauth: z.array(z.string()).optional(), bot: z.array(z.string()).optional() }),
});

export function registerLifecycleListeners(app: App, deps: ListenerDeps & LifecycleDeps): void {
  app.event("app_uninstalled", async ({ context }) => {
    await leave(deps, context, "app_uninstalled");
  });
  app.event("tokens_revoked", async ({ event, context }) => {
    const revoked = readPayload(deps, "event", TokensRevokedSchema, event);
    if (!revoked) return;
    if (!revoked.tokens.bot?.length) {
      deps.logger.info({ teamId: context.teamId }, "workspace.user_tokens_revoked");
      return;
    }
    await leave(deps, context, "tokens_revoked");
  });
}

async function leave(deps: ListenerDeps & LifecycleDeps, context: Context, why: string): Promise<void> {
  const target: UninstallTarget = {
    teamId: context.teamId,
    enterpriseId: context.enterpriseId,
    isEnterpriseInstall: context.isEnterpriseInstall === true,
  };
  const teams = deps.uninstall ? await deps.uninstall(target) : target.teamId ? [target.teamId] : [];
  for (const teamId of teams) await deps.drafting.endWorkspace({ teamId, reason: "uninstalled" });
  deps.logger.info(
    { teamId: target.teamId, enterpriseId: target.enterpriseId, teams: teams.length, event: why },
    "workspace.uninstalled",
  );
}
