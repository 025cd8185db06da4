import type { WebClient } from "@slack/web-api";
import type { Clock } from "../../clock.ts";
import type { DraftingService } from "../../drafting/drafting-service.ts";
import type { ThreadRecord } from "../../drafting/store.ts";
import type { Logger } from "../../logger.ts";
import type { SlackClients } from "../poster.ts";
import { slackErrorCode } from "../slack-errors.ts";
import { type InstallerOf, isWorkspaceAdmin } from "./admins.ts";
import { createCoalescer } from "./coalesce.ts";
import { type HomeDraft, MAX_DRAFTS, renderHome } from "./render.ts";
import type { HomeViewers } from "./viewers.ts";

/**
 * Publishes each person's Home tab (views.publish) and keeps it current: when they open it, after they
 * change a setting there, and when one of their drafts changes (the presenter's `onThreadChanged`).
 * Publishes are coalesced: at most one per person per `minIntervalMs`, always one after the last change.
 * Other viewers of a workspace see a changed setting the next time they open the tab.
 */
export interface HomeTab {
  /** The person opened the tab: remembered (for later refreshes), and it is published for them. */
  opened(teamId: string, userId: string): Promise<void>;
  /**
   * Publishes the person's tab again: soon (coalesced) by default; at once after something they did
   * themselves (`now`), still one publish at a time.
   */
  refresh(teamId: string, userId: string, options?: { now?: boolean }): void;
  /** The presenter's hook: the thread's starter sees it on their tab, if they ever opened it. */
  threadChanged(thread: ThreadRecord): void;
  /**
   * Whether the person may change the workspace's settings. `fresh` asks Slack (before a change);
   * otherwise an answer from the last minute will do (what the tab shows, opening a form).
   */
  isAdmin(client: WebClient, teamId: string, userId: string, options?: { fresh?: boolean }): Promise<boolean>;
  /** Resolves when no publish is going on or waiting (tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface HomeTabOptions {
  drafting: Pick<DraftingService, "workspaceStatus" | "recentDrafts" | "describeStep">;
  viewers: HomeViewers;
  clients: SlackClients;
  clock: Clock;
  logger: Logger;
  /** The installing user of a workspace (OAuth installs); absent with a single bot token. */
  installerOf?: InstallerOf | undefined;
  /** Default 2 s. */
  minIntervalMs?: number;
}

const ROLE_TTL_MS = 60_000;
/** A workspace's URL is asked again after a day (it changes when the workspace is renamed), or 5 min after a failure. */
const URL_TTL_MS = 24 * 60 * 60_000;
const URL_RETRY_MS = 5 * 60_000;

export function createHomeTab(options: HomeTabOptions): HomeTab {
  const { drafting, viewers, clients, clock, logger } = options;
  const roles = new Map<string, { admin: boolean; until: number }>();
  const urls = new Map<string, { url: string | undefined; until: number }>();

  async function isAdmin(client: WebClient, teamId: string, userId: string, opts: { fresh?: boolean } = {}) {
    const key = `${teamId}:${userId}`;
    const known = roles.get(key);
    if (!opts.fresh && known && known.until > clock.now()) return known.admin;
    const admin = await isWorkspaceAdmin(client, teamId, userId, options.installerOf);
    if (roles.size >= 5000) roles.clear();
    roles.set(key, { admin, until: clock.now() + ROLE_TTL_MS });
    return admin;
  }

  /** The workspace's web address (auth.test, once per team), for links to threads without a call each. */
  async function workspaceUrl(client: WebClient, teamId: string): Promise<string | undefined> {
    const known = urls.get(teamId);
    if (known && known.until > clock.now()) return known.url;
    let url: string | undefined;
    try {
      const answer = await client.auth.test();
      url = answer.url && /^https:\/\//.test(answer.url) ? answer.url.replace(/\/?$/, "/") : undefined;
    } catch (error) {
      logger.debug({ teamId, err: slackErrorCode(error) }, "home.workspace_url_unknown");
    }
    urls.set(teamId, { url, until: clock.now() + (url ? URL_TTL_MS : URL_RETRY_MS) });
    return url;
  }

  function threadLink(base: string | undefined, thread: ThreadRecord): string {
    if (!base) return `https://slack.com/app_redirect?channel=${encodeURIComponent(thread.channelId)}`;
    return `${base}archives/${thread.channelId}/p${thread.threadTs.replace(".", "")}`;
  }

  async function publish(teamId: string, userId: string): Promise<void> {
    const client = await clients.forTeam(teamId);
    const [status, summaries, admin, base] = await Promise.all([
      drafting.workspaceStatus(teamId),
      drafting.recentDrafts(teamId, userId, MAX_DRAFTS),
      isAdmin(client, teamId, userId).catch((error: unknown) => {
        logger.debug({ teamId, err: slackErrorCode(error) }, "home.role_unknown");
        return false;
      }),
      workspaceUrl(client, teamId),
    ]);
    const defaultStep =
      status.defaultStep && status.connection !== "none"
        ? await drafting.describeStep(teamId, status.defaultStep)
        : undefined;
    // Newest first, as the store lists them.
    const drafts: HomeDraft[] = summaries.map((summary) => ({
      brief: summary.brief,
      channelId: summary.thread.channelId,
      state: summary.state,
      version: summary.version,
      updatedAt: summary.updatedAt,
      link: threadLink(base, summary.thread),
    }));
    const view = renderHome({ isAdmin: admin, status, defaultStep, drafts });
    await client.views.publish({ user_id: userId, view });
    logger.debug({ teamId, drafts: drafts.length }, "home.published");
  }

  const publishes = createCoalescer({
    clock,
    intervalMs: options.minIntervalMs ?? 2000,
    run: (key) => {
      const [teamId = "", userId = ""] = key.split(" ");
      return publish(teamId, userId);
    },
    onError: (key, error) =>
      logger.warn({ teamId: key.split(" ")[0], err: slackErrorCode(error) }, "home.publish_failed"),
  });

  const refresh = (teamId: string, userId: string, opts: { now?: boolean } = {}) =>
    opts.now ? publishes.requestNow(`${teamId} ${userId}`) : publishes.request(`${teamId} ${userId}`);

  return {
    async opened(teamId, userId) {
      await viewers.noteHomeOpened(teamId, userId, clock.now());
      refresh(teamId, userId, { now: true });
    },
    refresh,
    threadChanged(thread) {
      viewers
        .hasOpenedHome(thread.teamId, thread.startedBy)
        .then((seen) => {
          if (seen) refresh(thread.teamId, thread.startedBy);
        })
        .catch((error: unknown) =>
          logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            "home.viewer_lookup_failed",
          ),
        );
    },
    isAdmin,
    idle: publishes.idle,
    close: publishes.close,
  };
}
