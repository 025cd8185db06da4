// The per-key request budget ("100 requests per minute per key" in Puffle's older docs), for the bot's
// rate-limit bench. Our choice: a sliding 60 s window over the requests the budget let through; a refused
// request does not use budget, and Retry-After says when the oldest counted request leaves the window.

export const WINDOW_MS = 60_000;

/** Timestamps within the last WINDOW_MS, oldest first. */
export class SlidingWindow {
  #times: number[] = [];
  #head = 0;

  /** How many entries fall in (now - WINDOW_MS, now], after forgetting the older ones. */
  countAt(now: number): number {
    while (this.#head < this.#times.length && (this.#times[this.#head] ?? 0) <= now - WINDOW_MS) {
      this.#head += 1;
    }
    // Drop the forgotten prefix now and then, so a long bench does not keep every timestamp.
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    return this.#times.length - this.#head;
  }

  add(now: number): void {
    this.#times.push(now);
  }

  oldest(): number | undefined {
    return this.#times[this.#head];
  }
}

export type BudgetDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class RequestBudget {
  #windows = new Map<string, SlidingWindow>();

  /** `limit` is read on every request, so a change applies at once. */
  constructor(private readonly limit: () => number | null) {}

  /** Counts the request against the key's budget, or refuses it with the wait until one is free. */
  take(keyId: string, now: number): BudgetDecision {
    const limit = this.limit();
    if (limit === null) return { allowed: true };
    let window = this.#windows.get(keyId);
    if (!window) {
      window = new SlidingWindow();
      this.#windows.set(keyId, window);
    }
    if (window.countAt(now) < limit) {
      window.add(now);
      return { allowed: true };
    }
    const freeAt = (window.oldest() ?? now) + WINDOW_MS;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now) / 1000)) };
  }

  reset(): void {
    this.#windows.clear();
  }
}
