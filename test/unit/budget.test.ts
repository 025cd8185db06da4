import { afterEach, describe, expect, it } from "vitest";
import { AbortedError } from "../../src/clock.ts";
import { createLogger, createSilentLogger } from "../../src/logger.ts";
import { budgetSpacing, createRequestBudget, type RequestBudget } from "../../src/puffle/budget.ts";
import type { BudgetStore } from "../../src/puffle/budget-store.ts";
import type { Store } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { ManualClock } from "../support/manual-clock.ts";

const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function sqlite(): Store {
  const store = createSqliteStore({ url: "sqlite::memory:" });
  stores.push(store);
  return store;
}

function budget(
  clock: ManualClock,
  maxRpm: number,
  store: BudgetStore = sqlite(),
  extra: Partial<Parameters<typeof createRequestBudget>[0]> = {},
): RequestBudget {
  return createRequestBudget({
    store,
    keyId: "key-hash",
    maxRpm,
    clock,
    logger: createSilentLogger(),
    ...extra,
  });
}

/** The most times in any window of `windowMs` (half-open, as a server counting the last minute does). */
function mostInWindow(times: number[], windowMs = 60_000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** Takes `count` slots, recording when each was granted (relative to the clock's start). */
function takeMany(b: RequestBudget, clock: ManualClock, count: number, likelihood?: () => number) {
  const t0 = clock.now();
  const granted: number[] = [];
  for (let i = 0; i < count; i++) {
    void b.take(likelihood ? { likelihood } : {}).then(() => granted.push(clock.now() - t0));
  }
  return granted;
}

describe("the request budget of one key", () => {
  it("spaces its slots so that no minute holds more than PUFFLE_MAX_RPM, for limits small and large", () => {
    for (const rpm of [1, 2, 10, 15, 16, 60, 100, 600, 6000]) {
      const { intervalMs, toleranceMs } = budgetSpacing(rpm);
      // GCRA under endless demand, every other request arriving half a second late (slow in transit).
      let tat = 0;
      const arrivals: number[] = [];
      for (let i = 0; i < rpm * 4; i++) {
        const slot = Math.max(0, tat - toleranceMs);
        tat = Math.max(tat, slot) + intervalMs;
        arrivals.push(slot + (i % 2 === 0 ? 500 : 0));
      }
      expect(mostInWindow(arrivals), `rpm ${rpm}`).toBeLessThanOrEqual(rpm);
      // And not far under it once the burst is spent.
      const sustained = 60_000 / intervalMs;
      expect(sustained, `rpm ${rpm}`).toBeGreaterThan(rpm * 0.8);
    }
  });

  it("lets an idle key send a few requests at once, then one per interval, never more than 100 a minute", async () => {
    const clock = new ManualClock();
    const b = budget(clock, 100);
    const { intervalMs } = budgetSpacing(100);
    const granted = takeMany(b, clock, 300);
    await clock.advance(0);
    expect(granted).toEqual([0, 0, 0, 0]);
    await clock.advance(intervalMs);
    expect(granted).toHaveLength(5);
    await clock.advance(4 * 60_000);
    expect(granted).toHaveLength(300);
    expect(mostInWindow(granted)).toBeLessThanOrEqual(100);
    expect(mostInWindow(granted)).toBeGreaterThanOrEqual(95);
    expect(b.waiting()).toBe(0);
  });

  it("gives each slot to dispatches first (in order), then to the reads most likely to find their task done", async () => {
    const clock = new ManualClock();
    const b = budget(clock, 100);
    // Use up the burst so that what follows waits for slots.
    takeMany(b, clock, 4);
    await clock.advance(0);
    const order: string[] = [];
    const read = (name: string, likelihood: number) =>
      void b.take({ likelihood: () => likelihood }).then(() => order.push(name));
    read("young read", 0.1);
    read("overdue read A", 1);
    read("half read", 0.5);
    read("overdue read B", 1);
    void b.take().then(() => order.push("dispatch 1"));
    void b.take().then(() => order.push("dispatch 2"));
    await clock.advance(10 * 60_000);
    expect(order).toEqual([
      "dispatch 1",
      "dispatch 2",
      "overdue read A",
      "overdue read B",
      "half read",
      "young read",
    ]);
  });

  it("a new draft's session waits behind the calls of drafts under way, so started drafts finish first", async () => {
    const clock = new ManualClock();
    const b = budget(clock, 100);
    takeMany(b, clock, 4);
    await clock.advance(0);
    const order: string[] = [];
    const take = (name: string, request: Parameters<RequestBudget["take"]>[0]) =>
      void b.take(request).then(() => order.push(name));
    take("create draft 2", { startsDraft: true });
    take("create draft 3", { startsDraft: true });
    take("read draft 0", { likelihood: () => 1 });
    take("turn of draft 1", {});
    take("campaign list for a picker", {});
    await clock.advance(10 * 60_000);
    expect(order).toEqual([
      "turn of draft 1",
      "campaign list for a picker",
      "create draft 2",
      "create draft 3",
      "read draft 0",
    ]);
  });

  it("while dispatches keep coming, a read of a likely finished task still gets one slot in five", async () => {
    const clock = new ManualClock();
    const b = budget(clock, 100);
    takeMany(b, clock, 4);
    await clock.advance(0);
    const order: string[] = [];
    void b.take({ likelihood: () => 0.9 }).then(() => order.push("due read"));
    void b.take({ likelihood: () => 0.1 }).then(() => order.push("young read"));
    for (let i = 1; i <= 10; i++) void b.take().then(() => order.push(`dispatch ${i}`));
    await clock.advance(10 * 60_000);
    expect(order).toEqual([
      "dispatch 1",
      "dispatch 2",
      "dispatch 3",
      "dispatch 4",
      "due read",
      "dispatch 5",
      "dispatch 6",
      "dispatch 7",
      "dispatch 8",
      "dispatch 9",
      "dispatch 10",
      // A read not yet likely done waits for the dispatches, as before.
      "young read",
    ]);
  });

  it("judges a read's likelihood when its slot comes, not when it was queued", async () => {
    const clock = new ManualClock();
    const b = budget(clock, 100);
    takeMany(b, clock, 4);
    await clock.advance(0);
    const order: string[] = [];
    let realtimeSaidDone = false;
    void b.take({ likelihood: () => 0.9 }).then(() => order.push("likely"));
    void b.take({ likelihood: () => (realtimeSaidDone ? 2 : 0) }).then(() => order.push("done per realtime"));
    realtimeSaidDone = true;
    await clock.advance(60_000);
    expect(order).toEqual(["done per realtime", "likely"]);
  });

  it("a 429 pauses the key until its Retry-After, and what follows is spaced, not a burst", async () => {
    const clock = new ManualClock();
    const store = sqlite();
    const b = budget(clock, 100, store);
    const { intervalMs } = budgetSpacing(100);
    const t0 = clock.now();
    await b.pause(t0 + 30_000);
    const granted = takeMany(b, clock, 5);
    await clock.advance(29_999);
    expect(granted).toEqual([]);
    await clock.advance(1 + 4 * intervalMs);
    expect(granted).toEqual([
      30_000,
      30_000 + intervalMs,
      30_000 + 2 * intervalMs,
      30_000 + 3 * intervalMs,
      30_000 + 4 * intervalMs,
    ]);
  });

  it("a pause seen while a slot is awaited holds that slot back too", async () => {
    const clock = new ManualClock();
    const b = budget(clock, 100);
    takeMany(b, clock, 4);
    await clock.advance(0);
    const granted = takeMany(b, clock, 1);
    await clock.advance(100);
    await b.pause(clock.now() + 10_000);
    await clock.advance(9_000);
    expect(granted).toEqual([]);
    await clock.advance(1_100);
    expect(granted).toEqual([10_100]);
  });

  it("replicas sharing the store share the key's slots", async () => {
    const clock = new ManualClock();
    const store = sqlite();
    const a = budget(clock, 100, store);
    const b = budget(clock, 100, store);
    const times: number[] = [];
    const t0 = clock.now();
    for (let i = 0; i < 150; i++) {
      void (i % 2 === 0 ? a : b).take().then(() => times.push(clock.now() - t0));
    }
    await clock.advance(3 * 60_000);
    expect(times).toHaveLength(150);
    expect(mostInWindow(times)).toBeLessThanOrEqual(100);
    // A pause set by one replica holds the other back.
    await a.pause(clock.now() + 20_000);
    const later: number[] = [];
    const t1 = clock.now();
    void b.take().then(() => later.push(clock.now() - t1));
    await clock.advance(19_000);
    expect(later).toEqual([]);
    await clock.advance(1_000);
    expect(later).toEqual([20_000]);
  });

  it("a request given up while waiting leaves the queue and the next one gets the slot", async () => {
    const clock = new ManualClock();
    const b = budget(clock, 100);
    takeMany(b, clock, 4);
    await clock.advance(0);
    const stop = new AbortController();
    const given = b.take({ signal: stop.signal });
    const after = takeMany(b, clock, 1);
    expect(b.waiting()).toBe(2);
    stop.abort();
    await expect(given).rejects.toBeInstanceOf(AbortedError);
    expect(b.waiting()).toBe(1);
    await clock.advance(budgetSpacing(100).intervalMs * 2);
    expect(after).toHaveLength(1);
    await expect(b.take({ signal: stop.signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it("when the store cannot hand out a slot, requests wait (nothing is sent unbudgeted) and it is logged once", async () => {
    const clock = new ManualClock();
    const store = sqlite();
    let down = true;
    const lines: string[] = [];
    const flaky: BudgetStore = {
      reserveSlot: (...args) =>
        down ? Promise.reject(new Error("connection refused")) : store.reserveSlot(...args),
      pauseKey: (...args) => store.pauseKey(...args),
    };
    const b = budget(clock, 100, flaky, {
      logger: createLogger({
        level: "warn",
        destination: { write: (line: string) => lines.push(line) },
      }),
    });
    const granted = takeMany(b, clock, 2);
    await clock.advance(5_000);
    expect(granted).toEqual([]);
    down = false;
    await clock.advance(1_000);
    expect(granted).toHaveLength(2);
    expect(lines.filter((line) => line.includes("budget.store_failed"))).toHaveLength(1);
  });
});
