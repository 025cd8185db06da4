// Request counters for tests and the bench: per route, GETs per session, and per API key (by its label,
// never the key): requests, the most seen in any 60 s window, and how many the budget refused with 429.
import { SlidingWindow } from "./budget.ts";
import type { RouteName } from "./routes.ts";

export interface EmulatorStats {
  requests: Record<string, number>;
  getsBySession: Record<string, number>;
}

export interface KeyStats {
  /** API requests made with the key (refused ones included). */
  requests: number;
  /** The most requests made with the key in any 60 s window. */
  maxPerMinute: number;
  /** Requests the per-key budget (rateLimitPerMinute) answered with 429. */
  rateLimited: number;
}

export interface KeyStatsSnapshot {
  /** By key label ("…" + last 4 characters). */
  keys: Record<string, KeyStats>;
  /** Sum of rateLimited over the keys. */
  rateLimited: number;
}

export function createRequestStats() {
  let requests: Record<string, number> = {};
  let getsBySession: Record<string, number> = {};
  let byKey = new Map<string, KeyStats & { window: SlidingWindow }>();

  const forKey = (label: string) => {
    let entry = byKey.get(label);
    if (!entry) {
      entry = { requests: 0, maxPerMinute: 0, rateLimited: 0, window: new SlidingWindow() };
      byKey.set(label, entry);
    }
    return entry;
  };

  return {
    count(route: RouteName, sessionId: string | undefined) {
      requests[route] = (requests[route] ?? 0) + 1;
      if (route === "sessions.get" && sessionId)
        getsBySession[sessionId] = (getsBySession[sessionId] ?? 0) + 1;
    },
    /** One API request made with the key labelled `label`, at `now` (ms). */
    countKey(label: string, now: number) {
      const entry = forKey(label);
      entry.requests += 1;
      entry.window.add(now);
      // The busiest window ends at some request: checking at each one finds the maximum.
      entry.maxPerMinute = Math.max(entry.maxPerMinute, entry.window.countAt(now));
    },
    countRateLimited(label: string) {
      forKey(label).rateLimited += 1;
    },
    snapshot(): EmulatorStats {
      return { requests: { ...requests }, getsBySession: { ...getsBySession } };
    },
    keySnapshot(): KeyStatsSnapshot {
      const keys: Record<string, KeyStats> = {};
      let rateLimited = 0;
      for (const [label, { window: _window, ...counters }] of byKey) {
        keys[label] = counters;
        rateLimited += counters.rateLimited;
      }
      return { keys, rateLimited };
    },
    reset() {
      requests = {};
      getsBySession = {};
      byKey = new Map();
    },
  };
}
