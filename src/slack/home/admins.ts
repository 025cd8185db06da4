import type { WebClient } from "@slack/web-api";

/**
 * Who may change a workspace's Puffle connection and default step (SPEC 8): its admins, owners and
 * primary owner (users.info), and the person who installed the app.
 */

/** The user who installed the app in a workspace, when the installation records one (OAuth installs). */
export type InstallerOf = (teamId: string) => Promise<string | undefined>;

/**
 * Whether `userId` may administer the app in `teamId`. Throws when Slack cannot say (the caller tells
 * the person to try again); an installer lookup that fails only skips that rule.
 */
export async function isWorkspaceAdmin(
  client: WebClient,
  teamId: string,
  userId: string,
  installerOf?: InstallerOf,
): Promise<boolean> {
  if (installerOf) {
    const installer = await installerOf(teamId).catch(() => undefined);
    if (installer === userId) return true;
  }
  const answer = await client.users.info({ user: userId });
  const user = answer.user;
  if (!user || user.deleted) return false;
  return user.is_admin === true || user.is_owner === true || user.is_primary_owner === true;
}
