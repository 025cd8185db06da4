/**
 * The behaviour every SlackMessageStore implementation must have: keyed posts, the status message
 * of each turn, and draft cards. Each store kind's test file calls defineSlackMessagesContract with a
 * factory that opens a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CardRecord, SlackMessageStore } from "../../src/slack/message-store.ts";
import type { OpenedStore } from "./replica-fixtures.ts";

const T0 = 1_760_000_000_000;

function card(threadId: number, revision: number, overrides: Partial<CardRecord> = {}) {
  return {
    threadId,
    revision,
    ts: `1760000000.00000${revision}`,
    payload: JSON.stringify({ text: `Draft v${revision}` }),
    source: `batch:${revision}`,
    ...overrides,
  };
}

export function defineSlackMessagesContract(
  name: string,
  open: () => Promise<OpenedStore<SlackMessageStore>>,
): void {
  describe(`SlackMessageStore contract: ${name}`, () => {
    let subject: OpenedStore<SlackMessageStore>;
    let store: SlackMessageStore;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe("keyed posts", () => {
      it("tells a new post, then an attempted one, then a posted one with its ts", async () => {
        expect(await store.postedTs("reply:1:7")).toBeUndefined();
        expect(await store.beginPost("reply:1:7", 1, T0)).toEqual({ state: "new" });
        expect(await store.beginPost("reply:1:7", 1, T0 + 1)).toEqual({ state: "uncertain" });
        expect(await store.postedTs("reply:1:7")).toBeUndefined();
        await store.completePost("reply:1:7", "1760000000.000100");
        expect(await store.beginPost("reply:1:7", 1, T0 + 2)).toEqual({
          state: "posted",
          ts: "1760000000.000100",
        });
        expect(await store.postedTs("reply:1:7")).toBe("1760000000.000100");
      });

      it("keeps keys apart, and records a post completed without a begin", async () => {
        await store.beginPost("reply:1:7", 1, T0);
        expect(await store.beginPost("reply:1:8", 1, T0)).toEqual({ state: "new" });
        await store.completePost("status:2:9", "1760000000.000200");
        expect(await store.postedTs("status:2:9")).toBe("1760000000.000200");
        expect(await store.beginPost("status:2:9", 2, T0)).toEqual({
          state: "posted",
          ts: "1760000000.000200",
        });
      });

      it("takes the ts found later over the one recorded first", async () => {
        await store.beginPost("card:1:1", 1, T0);
        await store.completePost("card:1:1", "1.000001");
        await store.completePost("card:1:1", "1.000002");
        expect(await store.postedTs("card:1:1")).toBe("1.000002");
      });
    });

    describe("status messages", () => {
      it("finds the status message of any of several turns, and moves turns between messages", async () => {
        expect(await store.statusKeyFor([1, 2])).toBeUndefined();
        await store.linkStatus([1, 2, 3], "status:a");
        expect(await store.statusKeyFor([2])).toBe("status:a");
        expect(await store.statusKeyFor([9, 3])).toBe("status:a");
        expect(await store.statusKeyFor([9])).toBeUndefined();
        expect(await store.statusKeyFor([])).toBeUndefined();

        // A later message shows turns 2 and 3 (replacing their link); turn 1 keeps its own.
        await store.linkStatus([2, 3], "status:b");
        expect(await store.statusKeyFor([3])).toBe("status:b");
        expect(await store.statusKeyFor([1])).toBe("status:a");
        // Several turns with different messages: the one of the earliest turn.
        expect(await store.statusKeyFor([3, 1])).toBe("status:a");
      });

      it("unlinks turns split from their batch, leaving the others", async () => {
        await store.linkStatus([4, 5, 6], "status:c");
        await store.unlinkStatus([5, 6]);
        await store.unlinkStatus([]);
        await store.linkStatus([], "status:none");
        expect(await store.statusKeyFor([5])).toBeUndefined();
        expect(await store.statusKeyFor([6, 5])).toBeUndefined();
        expect(await store.statusKeyFor([4, 5])).toBe("status:c");
      });
    });

    describe("draft cards", () => {
      it("answers the card with the highest revision as the live one, with its source", async () => {
        expect(await store.liveCard(1)).toBeUndefined();
        expect(await store.addCard(card(1, 1))).toBe(true);
        expect(await store.addCard(card(1, 2, { source: "edit:U1" }))).toBe(true);
        expect(await store.addCard(card(2, 5))).toBe(true);
        expect(await store.liveCard(1)).toStrictEqual({
          ...card(1, 2, { source: "edit:U1" }),
          supersededAt: null,
        });
        expect((await store.liveCard(2))?.revision).toBe(5);
      });

      it("records a revision once: a second add of it changes nothing and answers false", async () => {
        await store.addCard(card(1, 1));
        expect(await store.addCard(card(1, 1, { ts: "9.999999", payload: "{}", source: "other" }))).toBe(
          false,
        );
        expect(await store.liveCard(1)).toStrictEqual({ ...card(1, 1), supersededAt: null });
      });

      it("lists the older cards still showing buttons until each is marked superseded", async () => {
        for (const revision of [1, 2, 3]) await store.addCard(card(1, revision));
        await store.addCard(card(2, 1));
        expect(await store.cardsToSupersede(1)).toStrictEqual([
          { ...card(1, 1), supersededAt: null },
          { ...card(1, 2), supersededAt: null },
        ]);
        expect(await store.cardsToSupersede(2)).toEqual([]);
        expect(await store.cardsToSupersede(3)).toEqual([]);

        await store.markSuperseded(1, 1, T0);
        expect((await store.cardsToSupersede(1)).map((c) => c.revision)).toEqual([2]);
        // A new live card makes the previous one due.
        await store.addCard(card(1, 4));
        expect((await store.cardsToSupersede(1)).map((c) => c.revision)).toEqual([2, 3]);
        expect((await store.liveCard(1))?.supersededAt).toBeNull();
      });

      it("keeps the time a card was superseded", async () => {
        await store.addCard(card(1, 1));
        await store.markSuperseded(1, 1, T0 + 5);
        expect(await store.liveCard(1)).toStrictEqual({ ...card(1, 1), supersededAt: T0 + 5 });
      });
    });
  });
}
