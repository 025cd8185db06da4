import type { WebClient } from "@slack/web-api";
import type { Logger } from "../logger.ts";

/**
 * Display names for attribution ("Dana: make it shorter"). One users.info per person per hour
 * at most, and never more than a short wait: a name is nice to have, the message is not
 * allowed to wait for it.
 */
export interface UserNames {
  /** The name if already known, without waiting. */
  cached(userId: string): string | null;
  nameOf(userId: string): Promise<string | null>;
}

const TTL_MS = 60 * 60 * 1000;
const WAIT_MS = 1500;
const MAX_ENTRIES = 5000;

export function createUserNames(options: { client: WebClient; logger: Logger }): UserNames {
  const cache = new Map<string, { name: string | null; expiresAt: number }>();
  const inFlight = new Map<string, Promise<string | null>>();

  async function lookup(userId: string): Promise<string | null> {
    try {
      const answer = await options.client.users.info({ user: userId });
      const profile = answer.user?.profile;
      const name =
        profile?.display_name?.trim() || profile?.real_name?.trim() || answer.user?.real_name || null;
      remember(userId, name);
      return name;
    } catch (error) {
      options.logger.debug({ userId, err: (error as Error).message }, "users.name_unavailable");
      remember(userId, null);
      return null;
    }
  }

  function remember(userId: string, name: string | null) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(userId, { name, expiresAt: Date.now() + (name ? TTL_MS : TTL_MS / 12) });
  }

  return {
    cached(userId) {
      const cached = cache.get(userId);
      return cached && cached.expiresAt > Date.now() ? cached.name : null;
    },
    async nameOf(userId) {
      const cached = cache.get(userId);
      if (cached && cached.expiresAt > Date.now()) return cached.name;
      let pending = inFlight.get(userId);
      if (!pending) {
        pending = lookup(userId).finally(() => inFlight.delete(userId));
        inFlight.set(userId, pending);
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
