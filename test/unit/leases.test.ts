import { afterEach, describe, expect, it } from "vitest";
import { createLeaseKeeper } from "../../src/drafting/leases.ts";
import { type DraftStore, LeaseLostError } from "../../src/drafting/store.ts";
import { createSilentLogger } from "../../src/logger.ts";
import type { Store } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { ManualClock } from "../support/manual-clock.ts";

const TTL = 15_000;
const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A store whose renewals can be made to fail, as when the database cannot be reached. */
function storeWithOutage() {
  const store = createSqliteStore({ url: "sqlite::memory:" });
  stores.push(store);
  const state = { down: false };
  const flaky: DraftStore = {
    ...store,
    renewLeases: (leases, now, ttl) =>
      state.down ? Promise.reject(new Error("connection refused")) : store.renewLeases(leases, now, ttl),
  };
  return { store, flaky, state };
}

async function threadIn(store: Store): Promise<number> {
  const created = await store.createThread(
    { teamId: "T1", channelId: "C1", threadTs: `${Math.random()}`, startedBy: "U1" },
    0,
  );
  if (created === "thread_exists") throw new Error("exists");
  return created.id;
}

function keeper(store: DraftStore, owner: string, clock: ManualClock, onTakeover?: (id: number) => void) {
  return createLeaseKeeper({
    store,
    owner,
    ttlMs: TTL,
    clock,
    logger: createSilentLogger(),
    ...(onTakeover ? { onTakeover } : {}),
  });
}

describe("lease keeper", () => {
  it("keeps a lease for as long as it works, renewing it every third of its lifetime", async () => {
    const clock = new ManualClock();
    const { store } = storeWithOutage();
    const id = await threadIn(store);
    const a = keeper(store, "replica-a", clock);
    const b = keeper(store, "replica-b", clock);
    const lease = await a.acquire(id);
    expect(lease).toMatchObject({ threadId: id, owner: "replica-a", token: 1, held: true });
    for (let i = 0; i < 6; i++) await clock.advance(TTL / 3);
    // Two lifetimes later it is still ours, and nobody else can take it.
    expect(lease?.held).toBe(true);
    expect(() => lease?.assertHeld()).not.toThrow();
    expect(await b.acquire(id)).toBeUndefined();
    a.stop();
    b.stop();
  });

  it("counts a lease lost when its renewals fail past its lifetime, and aborts its signal", async () => {
    const clock = new ManualClock();
    const { flaky, state } = storeWithOutage();
    const id = await threadIn(flaky as Store);
    const a = keeper(flaky, "replica-a", clock);
    const lease = await a.acquire(id);
    if (!lease) throw new Error("no lease");
    state.down = true;
    await clock.advance(TTL / 3);
    expect(lease.held).toBe(true); // one failed renewal is not a loss
    await clock.advance(TTL);
    expect(lease.held).toBe(false);
    expect(lease.signal.aborted).toBe(true);
    expect(() => lease.assertHeld()).toThrow(LeaseLostError);
    a.stop();
  });

  it("gives it up before it could lapse: it counts as lost a margin before its expiry", async () => {
    const clock = new ManualClock();
    const { flaky, state } = storeWithOutage();
    const id = await threadIn(flaky as Store);
    const a = keeper(flaky, "replica-a", clock);
    const lease = await a.acquire(id);
    state.down = true;
    await clock.advance(TTL - 2_001);
    expect(lease?.held).toBe(true);
    await clock.advance(2);
    expect(lease?.held).toBe(false);
    a.stop();
  });

  it("learns at the next renewal that another replica took a lapsed lease, with a new token", async () => {
    const clock = new ManualClock();
    const { flaky, state, store } = storeWithOutage();
    const id = await threadIn(store);
    const takeovers: number[] = [];
    const a = keeper(flaky, "replica-a", clock);
    const b = keeper(store, "replica-b", clock, (threadId) => takeovers.push(threadId));
    const first = await a.acquire(id);
    state.down = true; // a is cut off: its renewals fail, the lease lapses in the store
    await clock.advance(TTL + 1);
    const second = await b.acquire(id);
    expect(second).toMatchObject({ owner: "replica-b", token: 2 });
    expect(takeovers).toEqual([id]);
    state.down = false;
    expect(first?.held).toBe(false);
    // Writes fenced by a's old token are refused.
    await expect(
      store.updateThread(id, { turnCount: 9 }, { threadId: id, owner: "replica-a", token: 1 }),
    ).rejects.toThrow(LeaseLostError);
    a.stop();
    b.stop();
  });

  it("a renewal that finds another owner marks the lease lost at once", async () => {
    const clock = new ManualClock();
    const { store } = storeWithOutage();
    const id = await threadIn(store);
    const a = keeper(store, "replica-a", clock);
    const lease = await a.acquire(id);
    // Another replica took it (as after a long pause of this one): the store says so.
    await store.releaseLeases([{ threadId: id, owner: "replica-a", token: 1 }]);
    await store.acquireLease(id, "replica-b", clock.now(), TTL);
    await clock.advance(TTL / 3);
    expect(lease?.signal.aborted).toBe(true);
    a.stop();
  });

  it("hands every lease over on release, so another replica takes them at once", async () => {
    const clock = new ManualClock();
    const { store } = storeWithOutage();
    const ids = [await threadIn(store), await threadIn(store)];
    const takeovers: number[] = [];
    const a = keeper(store, "replica-a", clock);
    const b = keeper(store, "replica-b", clock, (id) => takeovers.push(id));
    for (const id of ids) await a.acquire(id);
    expect(a.size).toBe(2);
    expect((await a.releaseAll()).sort()).toEqual([...ids].sort());
    // Without waiting for a lapse; and a lease handed over is not a takeover after a crash.
    for (const id of ids) expect(await b.acquire(id)).toMatchObject({ owner: "replica-b" });
    expect(takeovers).toEqual([]);
    a.stop();
    b.stop();
  });
});
