import type { Logger } from "../logger.ts";
import type { SlackClients } from "./poster.ts";

/**
 * Display names for attribution ("Dana: make it shorter"). One users.info per person per hour
 * at most, asked with the person's workspace's token, and never more than a short wait: a name is
 * nice to have, the message is not allowed to wait for it.
 */
export interface UserNames {
  /** The name if already known, without waiting. */
  cached(teamId: string, userId: string): string | null;
  nameOf(teamId: string, userId: string): Promise<string | null>;
}

const TTL_MS = 60 * 60 * 1000;
const WAIT_MS = 1500;
const MAX_ENTRIES = 5000;

export function createUserNames(options: { clients: SlackClients; logger: Logger }): UserNames {
  const cache = new Map<string, { name: string | null; expiresAt: number }>();
  const inFlight = new Map<string, Promise<string | null>>();

  async function lookup(key: string, teamId: string, userId: string): Promise<string | null> {
    try {
      const client = await options.clients.forTeam(teamId);
      const answer = await client.users.info({ user: userId });
      const profile = answer.user?.profile;
      const name =
        profile?.display_name?.trim() || profile?.real_name?.trim() || answer.user?.real_name || null;
      remember(key, name);
      return name;
    } catch (error) {
      options.logger.debug({ teamId, userId, err: (error as Error).message }, "users.name_unavailable");
      remember(key, null);
      return null;
    }
  }

  function remember(key: string, name: string | null) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(key, { name, expiresAt: Date.now() + (name ? TTL_MS : TTL_MS / 12) });
  }

  return {
    cached(teamId, userId) {
      const cached = cache.get(`${teamId}:${userId}`);
      return cached && cached.expiresAt > Date.now() ? cached.name : null;
    },
    async nameOf(teamId, userId) {
      const key = `${teamId}:${userId}`;
      const cached = cache.get(key);
      if (cached && cached.expiresAt > Date.now()) return cached.name;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = lookup(key, teamId, userId).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), WAIT_MS);
      });
      try {
        return await Promise.race([pending, late]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
