import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  botReplies,
  CHANNEL,
  draftCards,
  type E2E,
  humanMention,
  humanMessage,
  startE2E,
  visibleText,
  waitForQuestion,
} from "../support/harness.ts";

/**
 * A Slack that sometimes stores a chat.postMessage and then answers 500 or drops the connection (real
 * Slack does this under load). Every post must be found and adopted, never posted twice, and no status
 * message may stay at "Drafting..." or "Queued...".
 */
let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E({ emulator: { taskDelayMs: 120 } });
});
afterAll(() => e2e.close());

const THREADS = 6;

describe("Slack answers lost after it stored the post", () => {
  it("drafting goes on in every thread: one card per version, every reply once, no status left unresolved", async () => {
    e2e.slack.failAfterStore("chat.postMessage", { mode: "http_500", rate: 0.25, seed: 11 });
    e2e.slack.failAfterStore("chat.update", { mode: "drop_connection", rate: 0.1, seed: 12 });
    const roots = [];
    for (let i = 0; i < THREADS; i++)
      roots.push(await humanMention(e2e, { channel: CHANNEL, text: `intro email ${i}` }));
    for (const root of roots) await waitForQuestion(e2e, CHANNEL, root.ts);
    for (const root of roots)
      await humanMessage(e2e, { channel: CHANNEL, threadTs: root.ts, text: "Mid-market SaaS, CRO sends it" });
    for (const root of roots)
      await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts).length >= 1, {
        timeoutMs: 15_000,
      });
    for (const root of roots)
      await humanMessage(e2e, { channel: CHANNEL, threadTs: root.ts, text: "make it shorter" });
    for (const root of roots)
      await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts).length >= 2, {
        timeoutMs: 15_000,
      });
    await e2e.bot.idle();

    expect(e2e.slack.failedAfterStore("chat.postMessage").length).toBeGreaterThan(2);
    for (const root of roots) {
      const cards = draftCards(e2e.slack, CHANNEL, root.ts);
      expect(cards.map((card) => /Draft v(\d+)/.exec(visibleText(card))?.[1])).toEqual(["1", "2"]);
      const texts = botReplies(e2e.slack, CHANNEL, root.ts).map(visibleText);
      expect(texts.filter((text) => /Drafting\.\.\.|Queued behind/.test(text))).toEqual([]);
      expect(texts.filter((text) => /quick questions/i.test(text))).toHaveLength(1);
      // Three turns: three replies, each in its own status message turned answer.
      expect(botReplies(e2e.slack, CHANNEL, root.ts).length).toBe(3 + 2);
    }
  }, 60_000);
});
