/** What the contracts for several replicas share: a clock time, a lease lifetime, and setup steps. */
import { expect } from "vitest";
import {
  type DraftStore,
  type Lease,
  LeaseLostError,
  type LeaseRef,
  type ThreadRecord,
  type TurnRecord,
  type TurnState,
} from "../../src/drafting/store.ts";

/** A store opened fresh for one test, and how to close it. */
export interface OpenedStore<S> {
  store: S;
  cleanup: () => Promise<void>;
}

export const T0 = 1_760_000_000_000;
export const TTL = 15_000;

let tsCounter = 0;

export async function newThread(store: DraftStore): Promise<ThreadRecord> {
  tsCounter++;
  const created = await store.createThread(
    {
      teamId: "T1",
      channelId: "C1",
      threadTs: `1760000000.${String(tsCounter).padStart(6, "0")}`,
      startedBy: "U1",
    },
    T0,
  );
  if (created === "thread_exists") throw new Error("test setup: thread already exists");
  return created;
}

export async function newTurn(
  store: DraftStore,
  threadId: number,
  patch: { state?: TurnState; timedOutAt?: number } = {},
) {
  const turn = await store.addTurn({ threadId, kind: "chat", text: "shorter", authorId: "U2" }, { now: T0 });
  if (turn === "duplicate") throw new Error("test setup: duplicate turn");
  if (patch.state || patch.timedOutAt) await store.updateTurns([turn.id], patch);
  return (await store.getTurn(turn.id)) as TurnRecord;
}

export async function lease(store: DraftStore, threadId: number, owner: string, now = T0): Promise<Lease> {
  const taken = await store.acquireLease(threadId, owner, now, TTL);
  if (!taken) throw new Error(`test setup: ${owner} could not take thread ${threadId}`);
  return taken;
}

export const ref = (held: Lease): LeaseRef => ({
  threadId: held.threadId,
  owner: held.owner,
  token: held.token,
});

/** The write must fail with LeaseLostError for this thread. */
export async function expectLost(write: Promise<unknown>, threadId: number): Promise<void> {
  const error = await write.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(LeaseLostError);
  expect((error as LeaseLostError).threadId).toBe(threadId);
}
