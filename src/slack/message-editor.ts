import type { Clock, TimerHandle } from "../clock.ts";
import type { SlackMessage } from "./render/blocks.ts";

/**
 * chat.update with coalescing: at most one edit per message per `minIntervalMs`. An edit that
 * comes too soon waits, and a newer edit of the same message replaces it while it waits, so a
 * burst of state changes costs one call.
 */
export interface MessageEditor {
  /**
   * Resolves when this content (or newer content for the same message) is shown; rejects on a Slack
   * error, or when `guard` (checked just before the edit is sent, however late) throws.
   */
  edit(channel: string, ts: string, message: SlackMessage, guard?: () => void): Promise<void>;
  /** Applies every waiting edit now (shutdown). */
  flush(): Promise<void>;
}

interface Pending {
  message: SlackMessage;
  guard: (() => void) | undefined;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
  timer: TimerHandle;
}

export function createMessageEditor(options: {
  /** chat.update itself (retries included). */
  update: (channel: string, ts: string, message: SlackMessage) => Promise<void>;
  clock: Clock;
  minIntervalMs: number;
}): MessageEditor {
  const lastEditAt = new Map<string, number>();
  const pending = new Map<string, Pending & { channel: string; ts: string }>();
  const key = (channel: string, ts: string) => `${channel}:${ts}`;

  async function apply(
    channel: string,
    ts: string,
    message: SlackMessage,
    guard?: () => void,
  ): Promise<void> {
    guard?.();
    lastEditAt.set(key(channel, ts), options.clock.now());
    await options.update(channel, ts, message);
    // Old entries are only needed for 2 s; drop them so the map does not grow forever.
    if (lastEditAt.size > 10_000) {
      const cutoff = options.clock.now() - options.minIntervalMs;
      for (const [k, at] of lastEditAt) if (at < cutoff) lastEditAt.delete(k);
    }
  }

  function fire(k: string): Promise<void> {
    const entry = pending.get(k);
    if (!entry) return Promise.resolve();
    pending.delete(k);
    return apply(entry.channel, entry.ts, entry.message, entry.guard).then(
      () => {
        for (const w of entry.waiters) w.resolve();
      },
      (error: unknown) => {
        for (const w of entry.waiters) w.reject(error);
      },
    );
  }

  return {
    edit(channel, ts, message, guard) {
      const k = key(channel, ts);
      const waiting = pending.get(k);
      if (waiting) {
        waiting.message = message;
        waiting.guard = guard;
        return new Promise((resolve, reject) => waiting.waiters.push({ resolve, reject }));
      }
      const since = options.clock.now() - (lastEditAt.get(k) ?? Number.NEGATIVE_INFINITY);
      if (since >= options.minIntervalMs) return apply(channel, ts, message, guard);
      return new Promise((resolve, reject) => {
        const timer = options.clock.setTimeout(() => void fire(k), options.minIntervalMs - since);
        pending.set(k, { channel, ts, message, guard, waiters: [{ resolve, reject }], timer });
      });
    },
    async flush() {
      const firing = [...pending.entries()].map(([k, entry]) => {
        options.clock.clearTimeout(entry.timer);
        return fire(k);
      });
      await Promise.allSettled(firing);
    },
  };
}
