/**
 * The behaviour every DraftStore implementation must have. Each implementation's test file calls
 * defineStoreContract with a factory that opens a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DELIVERY_KEY_TTL_MS,
  type DraftStore,
  type NewThread,
  type NewTurn,
  type ThreadRecord,
  type TurnRecord,
  type TurnState,
} from "../../src/drafting/store.ts";

export interface StoreUnderTest {
  store: DraftStore;
  /**
   * Opens another store on the same data, for stores that persist. The suite closes `store` before
   * calling it; `cleanup` must close every store handed out.
   */
  reopen?: () => Promise<DraftStore>;
  cleanup: () => Promise<void>;
}

const T0 = 1_760_000_000_000;
const TTL = DELIVERY_KEY_TTL_MS;

let tsCounter = 0;
/** A thread in team T1, channel C1, with a fresh Slack ts unless the overrides say otherwise. */
function newThread(overrides: Partial<NewThread> = {}): NewThread {
  tsCounter++;
  return {
    teamId: "T1",
    channelId: "C1",
    threadTs: `1760000000.${String(tsCounter).padStart(6, "0")}`,
    campaignId: "camp-1",
    nodeId: "node-1",
    startedBy: "U1",
    ...overrides,
  };
}

function chatTurn(threadId: number, text = "make it shorter"): NewTurn {
  return { threadId, kind: "chat", text, authorId: "U2" };
}

async function createThread(
  store: DraftStore,
  thread: NewThread = newThread(),
  now = T0,
): Promise<ThreadRecord> {
  const created = await store.createThread(thread, now);
  if (created === "thread_exists") throw new Error("test setup: thread already exists");
  return created;
}

async function addTurn(store: DraftStore, turn: NewTurn, now = T0): Promise<TurnRecord> {
  const added = await store.addTurn(turn, { now });
  if (added === "duplicate") throw new Error("test setup: duplicate turn");
  return added;
}

function ids(records: readonly { id: number }[]): number[] {
  return records.map((record) => record.id);
}

export function defineStoreContract(
  name: string,
  open: () => Promise<StoreUnderTest>,
  traits: { persistent: boolean },
): void {
  describe(`DraftStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: DraftStore;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe("delivery keys", () => {
      it("claims new keys once, and refuses them again until they expire", async () => {
        const keys = ["event:Ev1", "message:C1:1760000000.000100"];
        expect(await store.claimDeliveries(keys, T0)).toBe(true);
        expect(await store.claimDeliveries(["event:Ev1"], T0 + 1)).toBe(false);
        expect(await store.claimDeliveries(["message:C1:1760000000.000100"], T0 + TTL - 1)).toBe(false);
        expect(await store.claimDeliveries(["event:Ev1"], T0 + TTL)).toBe(true);
      });

      it("claims nothing when any key of the set was seen", async () => {
        expect(await store.claimDeliveries(["a"], T0)).toBe(true);
        expect(await store.claimDeliveries(["b", "a"], T0 + 1)).toBe(false);
        expect(await store.claimDeliveries(["b"], T0 + 2)).toBe(true);
      });

      it("accepts an empty key list every time", async () => {
        expect(await store.claimDeliveries([], T0)).toBe(true);
        expect(await store.claimDeliveries([], T0)).toBe(true);
      });

      it("counts a key repeated within one claim once", async () => {
        expect(await store.claimDeliveries(["a", "a"], T0)).toBe(true);
        expect(await store.claimDeliveries(["a"], T0 + 1)).toBe(false);
      });

      it("gives a re-claimed expired key a full lifetime again", async () => {
        await store.claimDeliveries(["a"], T0);
        expect(await store.claimDeliveries(["a"], T0 + TTL)).toBe(true);
        expect(await store.claimDeliveries(["a"], T0 + 2 * TTL - 1)).toBe(false);
      });

      it("prunes only expired keys and reports how many", async () => {
        expect(await store.pruneDeliveries(T0)).toBe(0);
        await store.claimDeliveries(["old"], T0);
        await store.claimDeliveries(["recent"], T0 + 1000);
        expect(await store.pruneDeliveries(T0 + TTL)).toBe(1);
        expect(await store.pruneDeliveries(T0 + TTL)).toBe(0);
        expect(await store.claimDeliveries(["recent"], T0 + TTL)).toBe(false);
      });
    });

    describe("threads", () => {
      it("creates a thread with no session, card or counts yet", async () => {
        const thread = newThread();
        const created = await createThread(store, thread, T0);
        expect(created).toStrictEqual({
          id: expect.any(Number),
          teamId: "T1",
          channelId: "C1",
          threadTs: thread.threadTs,
          sessionId: null,
          campaignId: "camp-1",
          nodeId: "node-1",
          startedBy: "U1",
          createdAt: T0,
          draftHash: null,
          turnCount: 0,
          messageCount: 0,
          endedAt: null,
          endedReason: null,
          savedAt: null,
          draftVersion: null,
        });
      });

      it("creates a thread that waits for a step, and gives it one later", async () => {
        const created = await createThread(store, newThread({ campaignId: undefined, nodeId: undefined }));
        expect(created).toMatchObject({ campaignId: null, nodeId: null, sessionId: null });
        await store.updateThread(created.id, { campaignId: "camp-3", nodeId: "node-3" });
        expect(await store.getThreadById(created.id)).toMatchObject({
          campaignId: "camp-3",
          nodeId: "node-3",
        });
      });

      it("finds a thread by its Slack ref, its id and its session", async () => {
        const thread = newThread({ sessionId: "sess-1" });
        const created = await createThread(store, thread);
        expect(created.sessionId).toBe("sess-1");
        const ref = { teamId: thread.teamId, channelId: thread.channelId, threadTs: thread.threadTs };
        expect(await store.getThread(ref)).toStrictEqual(created);
        expect(await store.getThreadById(created.id)).toStrictEqual(created);
        expect(await store.getThreadBySession("sess-1")).toStrictEqual(created);
      });

      it("answers undefined for threads it does not know", async () => {
        await createThread(store, newThread({ threadTs: "1.000001", sessionId: "sess-1" }));
        expect(
          await store.getThread({ teamId: "T1", channelId: "C1", threadTs: "1.000002" }),
        ).toBeUndefined();
        expect(await store.getThreadById(987_654)).toBeUndefined();
        expect(await store.getThreadBySession("sess-unknown")).toBeUndefined();
      });

      it("refuses a second thread for the same Slack thread and keeps the first as it was", async () => {
        const first = await createThread(store, newThread({ threadTs: "1.000001" }));
        const again = await store.createThread(
          newThread({ threadTs: "1.000001", campaignId: "camp-2" }),
          T0 + 5,
        );
        expect(again).toBe("thread_exists");
        expect(await store.getThreadById(first.id)).toStrictEqual(first);
      });

      it("tells threads apart by team, channel and ts", async () => {
        const a = await createThread(
          store,
          newThread({ teamId: "T1", channelId: "C1", threadTs: "1.000001" }),
        );
        const b = await createThread(
          store,
          newThread({ teamId: "T1", channelId: "C2", threadTs: "1.000001" }),
        );
        const c = await createThread(
          store,
          newThread({ teamId: "T2", channelId: "C1", threadTs: "1.000001" }),
        );
        expect(new Set([a.id, b.id, c.id]).size).toBe(3);
        expect(await store.getThread({ teamId: "T2", channelId: "C1", threadTs: "1.000001" })).toStrictEqual(
          c,
        );
      });

      it("gives increasing ids and never reuses the id of a deleted thread", async () => {
        const a = await createThread(store);
        const b = await createThread(store);
        expect(b.id).toBeGreaterThan(a.id);
        await store.deleteThread(b.id);
        const c = await createThread(store);
        expect(c.id).toBeGreaterThan(b.id);
      });

      it("updates only the fields in the patch", async () => {
        const created = await createThread(store);
        await store.updateThread(created.id, { draftHash: "hash-1", turnCount: 2 });
        expect(await store.getThreadById(created.id)).toStrictEqual({
          ...created,
          draftHash: "hash-1",
          turnCount: 2,
        });
      });

      it("updates every patchable field, and sets nullable ones back to null", async () => {
        const created = await createThread(store);
        const everything = {
          sessionId: "sess-9",
          draftHash: "hash-abc",
          savedAt: T0 + 5,
          draftVersion: 3,
          turnCount: 3,
          messageCount: 7,
          campaignId: "camp-2",
          nodeId: "node-2",
        };
        await store.updateThread(created.id, everything);
        expect(await store.getThreadById(created.id)).toStrictEqual({ ...created, ...everything });
        await store.updateThread(created.id, { sessionId: null, draftHash: null });
        expect(await store.getThreadById(created.id)).toStrictEqual({
          ...created,
          ...everything,
          sessionId: null,
          draftHash: null,
        });
      });

      it("treats an empty patch, or undefined values, as no change", async () => {
        const created = await createThread(store, newThread({ sessionId: "sess-1" }));
        await store.updateThread(created.id, {});
        await store.updateThread(created.id, { sessionId: undefined, draftHash: undefined });
        expect(await store.getThreadById(created.id)).toStrictEqual(created);
      });

      it("maps a session to at most one thread", async () => {
        const holder = await createThread(store, newThread({ sessionId: "sess-1" }));
        await expect(store.createThread(newThread({ sessionId: "sess-1" }), T0)).rejects.toThrow(/sess-1/);
        const other = await createThread(store);
        await expect(store.updateThread(other.id, { sessionId: "sess-1", turnCount: 1 })).rejects.toThrow(
          /sess-1/,
        );
        expect(await store.getThreadById(other.id)).toStrictEqual(other);
        expect(await store.getThreadBySession("sess-1")).toStrictEqual(holder);

        await store.updateThread(holder.id, { sessionId: "sess-1" });
        await store.updateThread(holder.id, { sessionId: null });
        await store.updateThread(other.id, { sessionId: "sess-1" });
        expect((await store.getThreadBySession("sess-1"))?.id).toBe(other.id);
      });

      it("lets many threads wait for a session at once", async () => {
        const a = await createThread(store, newThread({ sessionId: null }));
        const b = await createThread(store, newThread());
        const c = await createThread(store, newThread({ sessionId: "sess-1" }));
        await store.updateThread(c.id, { sessionId: null });
        expect([a, b, await store.getThreadById(c.id)].map((thread) => thread?.sessionId)).toEqual([
          null,
          null,
          null,
        ]);
      });

      it("deletes a thread with its turns and leaves other threads alone", async () => {
        const doomed = await createThread(store, newThread({ threadTs: "1.000001", sessionId: "sess-1" }));
        const kept = await createThread(store);
        const doomedTurn = await addTurn(store, chatTurn(doomed.id));
        const keptTurn = await addTurn(store, chatTurn(kept.id));

        await store.deleteThread(doomed.id);

        expect(await store.getThreadById(doomed.id)).toBeUndefined();
        expect(await store.getThreadBySession("sess-1")).toBeUndefined();
        expect(await store.getTurn(doomedTurn.id)).toBeUndefined();
        expect(await store.listTurns(doomed.id)).toEqual([]);
        expect(await store.listTurns(kept.id)).toStrictEqual([keptTurn]);
        // The Slack thread and the session are free for a new start.
        await createThread(store, newThread({ threadTs: "1.000001", sessionId: "sess-1" }));
      });

      it("ignores updates and deletes of a thread that does not exist", async () => {
        const created = await createThread(store);
        await store.updateThread(987_654, { turnCount: 5 });
        await store.deleteThread(987_654);
        expect(await store.getThreadById(created.id)).toStrictEqual(created);
        expect(await store.getThreadById(987_654)).toBeUndefined();
      });
    });

    describe("createThreadWithTurn", () => {
      const turn = { kind: "chat" as const, text: "intro email for VPs of Sales", authorId: "U1" };

      it("creates the thread and its pending first turn, claiming the keys", async () => {
        const thread = newThread();
        const result = await store.createThreadWithTurn(thread, turn, { dedupeKeys: ["event:Ev1"], now: T0 });
        if (result === "duplicate" || result === "thread_exists") throw new Error(`unexpected ${result}`);

        expect(result.thread).toStrictEqual(await store.getThread(thread));
        expect(result.thread.createdAt).toBe(T0);
        expect(result.turn).toStrictEqual(await store.getTurn(result.turn.id));
        expect(result.turn).toMatchObject({
          threadId: result.thread.id,
          state: "pending",
          attempts: 0,
          createdAt: T0,
        });
        expect(await store.listTurns(result.thread.id)).toStrictEqual([result.turn]);
        expect(await store.claimDeliveries(["event:Ev1"], T0 + 1)).toBe(false);
      });

      it("works without dedupe keys", async () => {
        const result = await store.createThreadWithTurn(newThread({ sessionId: "sess-1" }), turn, {
          now: T0,
        });
        expect(result).toMatchObject({ thread: { sessionId: "sess-1" }, turn: { text: turn.text } });
      });

      it("answers duplicate and changes nothing when a key was seen", async () => {
        await store.claimDeliveries(["event:Ev1"], T0);
        const thread = newThread();
        const result = await store.createThreadWithTurn(thread, turn, {
          dedupeKeys: ["message:C1:1", "event:Ev1"],
          now: T0 + 1,
        });
        expect(result).toBe("duplicate");
        expect(await store.getThread(thread)).toBeUndefined();
        expect(await store.claimDeliveries(["message:C1:1"], T0 + 2)).toBe(true);
      });

      it("answers thread_exists without claiming the keys or adding a turn", async () => {
        const existing = await createThread(store);
        const result = await store.createThreadWithTurn(existing, turn, {
          dedupeKeys: ["event:Ev1"],
          now: T0 + 1,
        });
        expect(result).toBe("thread_exists");
        expect(await store.getThreadById(existing.id)).toStrictEqual(existing);
        expect(await store.listTurns(existing.id)).toEqual([]);
        expect(await store.claimDeliveries(["event:Ev1"], T0 + 2)).toBe(true);
      });

      it("answers duplicate to a retried delivery of the event that created the thread", async () => {
        const thread = newThread();
        const options = { dedupeKeys: ["event:Ev1"], now: T0 };
        await store.createThreadWithTurn(thread, turn, options);
        expect(await store.createThreadWithTurn(thread, turn, { ...options, now: T0 + 1 })).toBe("duplicate");
      });

      it("changes nothing when the session already belongs to another thread", async () => {
        await createThread(store, newThread({ sessionId: "sess-1" }));
        const thread = newThread({ sessionId: "sess-1" });
        await expect(
          store.createThreadWithTurn(thread, turn, { dedupeKeys: ["event:Ev1"], now: T0 }),
        ).rejects.toThrow(/sess-1/);
        expect(await store.getThread(thread)).toBeUndefined();
        expect(await store.claimDeliveries(["event:Ev1"], T0 + 1)).toBe(true);
      });
    });

    describe("saved choices", () => {
      it("remembers a channel's choice, who set it and when, and overwrites it", async () => {
        expect(await store.getChannelChoice("T1", "C1")).toBeUndefined();
        await store.setChannelChoice("T1", "C1", { campaignId: "camp-1", nodeId: "node-1" }, "U1", T0);
        expect(await store.getChannelChoice("T1", "C1")).toStrictEqual({
          campaignId: "camp-1",
          nodeId: "node-1",
          setBy: "U1",
          updatedAt: T0,
        });
        await store.setChannelChoice("T1", "C1", { campaignId: "camp-2", nodeId: "node-2" }, "U2", T0 + 1);
        expect(await store.getChannelChoice("T1", "C1")).toStrictEqual({
          campaignId: "camp-2",
          nodeId: "node-2",
          setBy: "U2",
          updatedAt: T0 + 1,
        });
      });

      it("keeps channel choices apart per team and channel", async () => {
        await store.setChannelChoice("T1", "C1", { campaignId: "camp-1", nodeId: "node-1" }, "U1", T0);
        expect(await store.getChannelChoice("T1", "C2")).toBeUndefined();
        expect(await store.getChannelChoice("T2", "C1")).toBeUndefined();
      });

      it("remembers a user's own choice per team, set by that user, and overwrites it", async () => {
        expect(await store.getUserChoice("T1", "U1")).toBeUndefined();
        await store.setUserChoice("T1", "U1", { campaignId: "camp-1", nodeId: "node-1" }, T0);
        await store.setUserChoice("T1", "U1", { campaignId: "camp-2", nodeId: "node-2" }, T0 + 1);
        expect(await store.getUserChoice("T1", "U1")).toStrictEqual({
          campaignId: "camp-2",
          nodeId: "node-2",
          setBy: "U1",
          updatedAt: T0 + 1,
        });
        expect(await store.getUserChoice("T2", "U1")).toBeUndefined();
        expect(await store.getUserChoice("T1", "U2")).toBeUndefined();
      });

      it("keeps channel and user choices apart even when their ids look alike", async () => {
        await store.setChannelChoice("T1", "X1", { campaignId: "camp-channel", nodeId: "node-1" }, "U1", T0);
        await store.setUserChoice("T1", "X1", { campaignId: "camp-user", nodeId: "node-1" }, T0);
        expect((await store.getChannelChoice("T1", "X1"))?.campaignId).toBe("camp-channel");
        expect((await store.getUserChoice("T1", "X1"))?.campaignId).toBe("camp-user");
      });
    });

    describe("turns", () => {
      it("records a pending turn with nothing run yet", async () => {
        const thread = await createThread(store);
        const full = await addTurn(
          store,
          {
            threadId: thread.id,
            kind: "examples",
            text: "Generate examples for 5 leads",
            authorId: "U2",
            authorName: "Dana",
            slackTs: "1760000003.000003",
            leadCount: 5,
          },
          T0 + 7,
        );
        expect(full).toStrictEqual({
          id: expect.any(Number),
          threadId: thread.id,
          kind: "examples",
          state: "pending",
          text: "Generate examples for 5 leads",
          authorId: "U2",
          authorName: "Dana",
          slackTs: "1760000003.000003",
          batchId: null,
          sentText: null,
          runId: null,
          runToken: null,
          messageCountAtDispatch: null,
          attempts: 0,
          failureCode: null,
          failureDetail: null,
          timedOutAt: null,
          deadlineAt: null,
          leadCount: 5,
          createdAt: T0 + 7,
          dispatchedAt: null,
          finishedAt: null,
        });
        expect(await store.getTurn(full.id)).toStrictEqual(full);

        const bare = await addTurn(store, chatTurn(thread.id));
        expect(bare).toMatchObject({ kind: "chat", authorName: null, slackTs: null, leadCount: null });
      });

      it("claims the dedupe keys, and a duplicate records nothing", async () => {
        const thread = await createThread(store);
        const keys = ["event:Ev2", "message:C1:1760000003.000003"];
        const first = await store.addTurn(chatTurn(thread.id), { dedupeKeys: keys, now: T0 });
        expect(first).not.toBe("duplicate");
        const again = await store.addTurn(chatTurn(thread.id), {
          dedupeKeys: ["event:Ev3", "message:C1:1760000003.000003"],
          now: T0 + 1,
        });
        expect(again).toBe("duplicate");
        expect(await store.listTurns(thread.id)).toHaveLength(1);
        // The refused claim took none of its keys.
        expect(await store.claimDeliveries(["event:Ev3"], T0 + 2)).toBe(true);
      });

      it("refuses a turn for a thread that does not exist, claiming nothing", async () => {
        await expect(
          store.addTurn(chatTurn(987_654), { dedupeKeys: ["event:Ev1"], now: T0 }),
        ).rejects.toThrow();
        expect(await store.claimDeliveries(["event:Ev1"], T0 + 1)).toBe(true);
      });

      it("gives ids in insertion order, across threads", async () => {
        const a = await createThread(store);
        const b = await createThread(store);
        const first = await addTurn(store, chatTurn(b.id));
        const second = await addTurn(store, chatTurn(a.id));
        const third = await addTurn(store, chatTurn(b.id));
        expect(second.id).toBeGreaterThan(first.id);
        expect(third.id).toBeGreaterThan(second.id);
        expect(await store.getTurn(third.id + 1000)).toBeUndefined();
      });

      it("lists a thread's turns in creation order, optionally only in some states", async () => {
        const thread = await createThread(store);
        const other = await createThread(store);
        const [t1, t2, t3] = [
          await addTurn(store, chatTurn(thread.id, "one")),
          await addTurn(store, chatTurn(thread.id, "two")),
          await addTurn(store, chatTurn(thread.id, "three")),
        ];
        await addTurn(store, chatTurn(other.id, "elsewhere"));
        await store.updateTurns([t1.id], { state: "done" });
        await store.updateTurns([t3.id], { state: "dispatched" });

        expect(ids(await store.listTurns(thread.id))).toEqual([t1.id, t2.id, t3.id]);
        expect(ids(await store.listTurns(thread.id, ["dispatched", "pending"]))).toEqual([t2.id, t3.id]);
        expect(ids(await store.listTurns(thread.id, ["failed"]))).toEqual([]);
        expect(await store.listTurns(thread.id, [])).toEqual([]);
        expect(await store.listTurns(987_654)).toEqual([]);
      });

      it("updates only the patched fields of the given turns", async () => {
        const thread = await createThread(store);
        const [t1, t2, t3] = [
          await addTurn(store, chatTurn(thread.id)),
          await addTurn(store, chatTurn(thread.id)),
          await addTurn(store, chatTurn(thread.id)),
        ];
        await store.updateTurns([t1.id, t2.id], { state: "sending", attempts: 1, batchId: t1.id });
        const sending = { state: "sending" as TurnState, attempts: 1, batchId: t1.id };
        expect(await store.getTurn(t1.id)).toStrictEqual({ ...t1, ...sending });
        expect(await store.getTurn(t2.id)).toStrictEqual({ ...t2, ...sending });
        expect(await store.getTurn(t3.id)).toStrictEqual(t3);
      });

      it("updates every patchable field, and sets nullable ones back to null", async () => {
        const thread = await createThread(store);
        const turn = await addTurn(store, chatTurn(thread.id));
        const everything = {
          state: "failed" as TurnState,
          batchId: turn.id,
          sentText: "Dana: make it shorter",
          runId: "run_123",
          runToken: "tok_abc",
          messageCountAtDispatch: 4,
          attempts: 3,
          failureCode: "server_error",
          failureDetail: "500 from Puffle",
          timedOutAt: T0 + 300_000,
          dispatchedAt: T0 + 10,
          finishedAt: T0 + 20,
          deadlineAt: T0 + 600_000,
        };
        await store.updateTurns([turn.id], everything);
        expect(await store.getTurn(turn.id)).toStrictEqual({ ...turn, ...everything });

        const cleared = {
          batchId: null,
          sentText: null,
          runId: null,
          runToken: null,
          messageCountAtDispatch: null,
          failureCode: null,
          failureDetail: null,
          timedOutAt: null,
          dispatchedAt: null,
          finishedAt: null,
          deadlineAt: null,
        };
        await store.updateTurns([turn.id], cleared);
        expect(await store.getTurn(turn.id)).toStrictEqual({ ...turn, ...everything, ...cleared });
      });

      it("treats an empty id list, an empty patch or undefined values as no change", async () => {
        const thread = await createThread(store);
        const turn = await addTurn(store, chatTurn(thread.id));
        await store.updateTurns([], { state: "done" });
        await store.updateTurns([turn.id], {});
        await store.updateTurns([turn.id], { state: undefined, runId: undefined });
        await store.updateTurns([987_654], { state: "done" });
        expect(await store.getTurn(turn.id)).toStrictEqual(turn);
      });

      it("moves turns to another thread", async () => {
        const from = await createThread(store);
        const to = await createThread(store);
        const existing = await addTurn(store, chatTurn(to.id));
        const [t1, t2, t3] = [
          await addTurn(store, chatTurn(from.id)),
          await addTurn(store, chatTurn(from.id)),
          await addTurn(store, chatTurn(from.id)),
        ];
        await store.moveTurns([t1.id, t3.id], to.id);
        await store.moveTurns([], to.id);
        expect(ids(await store.listTurns(from.id))).toEqual([t2.id]);
        expect(ids(await store.listTurns(to.id))).toEqual([existing.id, t1.id, t3.id]);
        expect(await store.getTurn(t1.id)).toStrictEqual({ ...t1, threadId: to.id });
      });

      it("refuses to move turns to a thread that does not exist, moving none", async () => {
        const from = await createThread(store);
        const [t1, t2] = [await addTurn(store, chatTurn(from.id)), await addTurn(store, chatTurn(from.id))];
        await expect(store.moveTurns([t1.id, t2.id], 987_654)).rejects.toThrow();
        expect(ids(await store.listTurns(from.id))).toEqual([t1.id, t2.id]);
      });
    });

    describe("threads with open turns (what a restart resumes)", () => {
      async function threadWithTurns(...states: { state: TurnState; timedOutAt?: number }[]) {
        const thread = await createThread(store);
        for (const patch of states) {
          const turn = await addTurn(store, chatTurn(thread.id));
          await store.updateTurns([turn.id], patch);
        }
        return thread;
      }

      it("lists each thread with a pending, sending or live dispatched turn once, by id", async () => {
        const pending = await threadWithTurns({ state: "pending" });
        const sending = await threadWithTurns({ state: "sending" });
        const dispatched = await threadWithTurns({ state: "dispatched" });
        await threadWithTurns({ state: "dispatched", timedOutAt: T0 });
        await threadWithTurns({ state: "done" }, { state: "failed" });
        await createThread(store);
        const busy = await threadWithTurns({ state: "done" }, { state: "dispatched" }, { state: "pending" });

        const open = await store.listThreadsWithOpenTurns();
        expect(ids(open)).toEqual([pending.id, sending.id, dispatched.id, busy.id]);
        expect(open[3]).toStrictEqual(await store.getThreadById(busy.id));
      });

      it("orders by thread id, not by when the open turn was added", async () => {
        const older = await createThread(store);
        const newer = await threadWithTurns({ state: "pending" });
        await addTurn(store, chatTurn(older.id));
        expect(ids(await store.listThreadsWithOpenTurns())).toEqual([older.id, newer.id]);
      });

      it("lists a timed-out turn again once 'check again' clears its timeout", async () => {
        const thread = await threadWithTurns({ state: "dispatched", timedOutAt: T0 });
        expect(await store.listThreadsWithOpenTurns()).toEqual([]);
        const [turn] = await store.listTurns(thread.id);
        await store.updateTurns([turn!.id], { timedOutAt: null });
        expect(ids(await store.listThreadsWithOpenTurns())).toEqual([thread.id]);
      });
    });

    describe("lifecycle", () => {
      it("can be closed twice", async () => {
        await store.close();
        await store.close();
      });

      // Only stores that persist can prove state survives a reopen.
      if (traits.persistent) {
        it("keeps threads, turns, choices and delivery keys across a close and reopen", async () => {
          const reopen = subject.reopen;
          if (!reopen) throw new Error("a persistent store under test must provide reopen()");

          const thread = await createThread(store, newThread({ sessionId: "sess-1" }));
          await store.updateThread(thread.id, {
            draftHash: "hash-abc",
            turnCount: 1,
            messageCount: 2,
          });
          const turn = await store.addTurn(
            { ...chatTurn(thread.id), authorName: "Dana", slackTs: "1760000003.000003", leadCount: 3 },
            { dedupeKeys: ["event:Ev1"], now: T0 },
          );
          if (turn === "duplicate") throw new Error("unexpected duplicate");
          await store.updateTurns([turn.id], {
            state: "dispatched",
            batchId: turn.id,
            sentText: "Dana: make it shorter",
            runId: "run_1",
            runToken: "tok_1",
            messageCountAtDispatch: 2,
            attempts: 1,
            failureCode: "timeout",
            failureDetail: "slow",
            dispatchedAt: T0 + 10,
            finishedAt: T0 + 20,
          });
          await store.setChannelChoice("T1", "C1", { campaignId: "camp-1", nodeId: "node-1" }, "U1", T0);
          await store.setUserChoice("T1", "U1", { campaignId: "camp-2", nodeId: "node-2" }, T0);
          const threadBefore = await store.getThreadById(thread.id);
          const turnBefore = await store.getTurn(turn.id);
          await store.close();

          const reopened = await reopen();
          expect(await reopened.getThreadById(thread.id)).toStrictEqual(threadBefore);
          expect(await reopened.getThreadBySession("sess-1")).toStrictEqual(threadBefore);
          expect(await reopened.getTurn(turn.id)).toStrictEqual(turnBefore);
          expect(await reopened.listThreadsWithOpenTurns()).toStrictEqual([threadBefore]);
          expect(await reopened.getChannelChoice("T1", "C1")).toStrictEqual({
            campaignId: "camp-1",
            nodeId: "node-1",
            setBy: "U1",
            updatedAt: T0,
          });
          expect((await reopened.getUserChoice("T1", "U1"))?.campaignId).toBe("camp-2");
          expect(await reopened.claimDeliveries(["event:Ev1"], T0 + 1)).toBe(false);
          expect(await reopened.createThread(newThread({ threadTs: thread.threadTs }), T0)).toBe(
            "thread_exists",
          );
          const later = await addTurn(reopened, chatTurn(thread.id));
          expect(later.id).toBeGreaterThan(turn.id);
        });
      }
    });
  });
}
