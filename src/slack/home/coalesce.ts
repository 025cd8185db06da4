import type { Clock, TimerHandle } from "../../clock.ts";

/**
 * Runs `run(key)` at most once per `intervalMs` per key, one run at a time per key, and always once
 * more after the last request: a request during a run, or within the interval after one, is folded
 * into a single later run, which reads the state as it is then.
 */
export interface Coalescer {
  request(key: string): void;
  /** As `request`, without waiting for the interval (something the person did themselves). */
  requestNow(key: string): void;
  /** Resolves when no run is going on or waiting (tests). */
  idle(): Promise<void>;
  /** Drops waiting runs and lets running ones finish; later requests are ignored. */
  close(): Promise<void>;
}

interface Slot {
  lastStart: number;
  timer: TimerHandle | undefined;
  running: Promise<void> | undefined;
  again: boolean;
  /** The run after this one need not wait for the interval. */
  againNow: boolean;
}

/** Slots of keys nobody asked for lately are dropped past this many. */
const MAX_IDLE_SLOTS = 1000;

export function createCoalescer(options: {
  clock: Clock;
  intervalMs: number;
  run: (key: string) => Promise<void>;
  onError: (key: string, error: unknown) => void;
}): Coalescer {
  const { clock, intervalMs } = options;
  const slots = new Map<string, Slot>();
  let closed = false;

  function start(key: string, slot: Slot) {
    slot.lastStart = clock.now();
    slot.again = false;
    slot.againNow = false;
    slot.running = Promise.resolve()
      .then(() => options.run(key))
      .catch((error: unknown) => options.onError(key, error))
      .finally(() => {
        slot.running = undefined;
        if (slot.again) request(key, slot.againNow);
      });
  }

  function prune() {
    if (slots.size <= MAX_IDLE_SLOTS) return;
    const now = clock.now();
    for (const [key, slot] of slots) {
      if (!slot.running && slot.timer === undefined && now - slot.lastStart >= intervalMs) slots.delete(key);
    }
  }

  function request(key: string, now = false) {
    if (closed) return;
    let slot = slots.get(key);
    if (!slot) {
      prune();
      slot = {
        lastStart: Number.NEGATIVE_INFINITY,
        timer: undefined,
        running: undefined,
        again: false,
        againNow: false,
      };
      slots.set(key, slot);
    }
    if (slot.timer !== undefined) {
      if (!now) return; // a run is due: it will see this change too
      clock.clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    if (slot.running) {
      slot.again = true;
      slot.againNow ||= now;
      return;
    }
    const wait = now ? 0 : slot.lastStart + intervalMs - clock.now();
    if (wait <= 0) {
      start(key, slot);
      return;
    }
    const waiting = slot;
    waiting.timer = clock.setTimeout(() => {
      waiting.timer = undefined;
      if (!closed) start(key, waiting);
    }, wait);
  }

  async function idle() {
    for (;;) {
      const busy = [...slots.values()].filter((slot) => slot.running || slot.timer !== undefined);
      if (busy.length === 0) return;
      await Promise.all(
        busy.map((slot) => slot.running ?? new Promise((resolve) => setTimeout(resolve, 20))),
      );
    }
  }

  return {
    request: (key) => request(key),
    requestNow: (key) => request(key, true),
    idle,
    async close() {
      closed = true;
      for (const slot of slots.values()) {
        if (slot.timer !== undefined) clock.clearTimeout(slot.timer);
        slot.timer = undefined;
        slot.again = false;
      }
      await Promise.all([...slots.values()].map((slot) => slot.running));
    },
  };
}
