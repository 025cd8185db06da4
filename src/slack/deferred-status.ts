import type { Clock, TimerHandle } from "../clock.ts";

/**
 * Status posts held back for a while: a reply that may stream shows its progress itself, so its
 * "Drafting..." is posted only if no stream started in time. Each is keyed by its batch.
 */
export interface DeferredStatus {
  /** Calls `post` after `delayMs` unless the batch is cancelled or posted sooner. */
  defer(batch: string, delayMs: number, post: () => void): void;
  /** Posts now what waits for `batch` (nothing when nothing waits). */
  postNow(batch: string): void;
  /** The batch's status is shown some other way: what waits for it never posts. */
  cancel(batch: string): void;
  /** Whether any status post waits. */
  pending(): boolean;
  /** Cancels everything (shutdown). */
  close(): void;
  /** Resolves when nothing waits. */
  idle(): Promise<void>;
}

export function createDeferredStatus(clock: Clock): DeferredStatus {
  const waiting = new Map<string, { timer: TimerHandle; post: () => void }>();
  let waiters: (() => void)[] = [];
  const drop = (batch: string) => {
    waiting.delete(batch);
    if (waiting.size > 0) return;
    const wake = waiters;
    waiters = [];
    for (const resolve of wake) resolve();
  };
  const postNow = (batch: string) => {
    const entry = waiting.get(batch);
    if (!entry) return;
    clock.clearTimeout(entry.timer);
    entry.post();
    drop(batch);
  };
  return {
    defer(batch, delayMs, post) {
      const timer = clock.setTimeout(() => postNow(batch), delayMs);
      waiting.set(batch, { timer, post });
    },
    postNow,
    cancel(batch) {
      const entry = waiting.get(batch);
      if (!entry) return;
      clock.clearTimeout(entry.timer);
      drop(batch);
    },
    pending: () => waiting.size > 0,
    close() {
      for (const [batch, entry] of waiting) {
        clock.clearTimeout(entry.timer);
        drop(batch);
      }
    },
    async idle() {
      if (waiting.size > 0) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}
