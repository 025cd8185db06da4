import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/clock.ts";
import type { DraftView } from "../../src/drafting/draft-view.ts";
import type { TurnOutcome } from "../../src/drafting/outcomes.ts";
import type { ThreadRecord } from "../../src/drafting/store.ts";
import { createSilentLogger } from "../../src/logger.ts";
import { createPoster, POST_METADATA_TYPE } from "../../src/slack/poster.ts";
import { createThreadPresenter, type ThreadPresenter } from "../../src/slack/thread-presenter.ts";
import type { Store } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { ManualClock } from "../support/manual-clock.ts";

const thread = (threadTs: string, id = 1): ThreadRecord => ({
  id,
  teamId: "T0TEAM",
  channelId: "C0P",
  threadTs,
  sessionId: "s-1",
  campaignId: "c-1",
  nodeId: "n-1",
  startedBy: "U0DANA",
  createdAt: 0,
  draftHash: null,
  turnCount: 1,
  messageCount: 0,
  endedAt: null,
  endedReason: null,
  savedAt: null,
  draftVersion: null,
});

/** A lease that stays held, or one the test can take away. */
function fence(held = true) {
  const state = { held };
  return {
    state,
    fence: {
      get held() {
        return state.held;
      },
      assertHeld() {
        if (!state.held) throw Object.assign(new Error("lease lost"), { name: "LeaseLostError" });
      },
    },
  };
}
const held = fence().fence;

const view: DraftView = {
  sessionId: "s-1",
  campaignId: "c-1",
  nodeId: "n-1",
  campaignName: "Q1",
  stepLabel: "Step 1 · Email",
  frameworkVersion: 1,
  subject: "Hello %first_name%",
  body: "Hi %first_name%,\n\nShort body.",
  skeleton: null,
  examples: [],
  previewLead: null,
  leadNames: {},
  variables: ["first_name"],
  wordCount: 4,
};

const dispatched = (t: ThreadRecord, turnIds: number[], extra: Partial<TurnOutcome> = {}): TurnOutcome =>
  ({
    type: "dispatched",
    thread: t,
    turnIds,
    kind: "chat",
    turnNumber: 1,
    leadCount: null,
    requestedBy: [],
    stillWaiting: [],
    fence: held,
    ...extra,
  }) as TurnOutcome;

const result = (t: ThreadRecord, turnIds: number[], extra: Partial<TurnOutcome> = {}): TurnOutcome =>
  ({
    type: "result",
    thread: t,
    turnIds,
    kind: "chat",
    replies: ["Answer."],
    draft: view,
    draftChanged: false,
    requestedBy: [],
    fence: held,
    ...extra,
  }) as TurnOutcome;

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(() => slack.close());

/** A presenter as a replica builds it: the real client (no retries of its own), poster and message store. */
function setup(options: { store?: Store; realTime?: boolean } = {}) {
  // Real time where the poster backs off between attempts; a manual clock for the indicator's timers.
  const clock: Clock & { advance?: (ms: number) => Promise<void> } = options.realTime
    ? systemClock
    : new ManualClock();
  const store = options.store ?? createSqliteStore({ url: "sqlite::memory:" });
  const client = new WebClient(slack.token, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const clients = { forTeam: async () => client };
  const logger = createSilentLogger();
  const poster = createPoster({ clients, messages: store, clock, logger });
  const presenter = createThreadPresenter({
    clients,
    poster,
    messages: store,
    logger,
    clock,
    turnTimeoutMs: 300_000,
    indicatorRefreshMs: 90_000,
  });
  return { clock, store, presenter };
}

async function settle(presenter: ThreadPresenter, outcome: TurnOutcome) {
  await presenter.handle(outcome);
  await presenter.idle();
}

describe("thread presenter", () => {
  it("sets the native status, refreshes it before Slack's 2-minute expiry, and stops at the end", async () => {
    const { clock: anyClock, presenter } = setup();
    const clock = anyClock as ManualClock;
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    await settle(presenter, dispatched(t, [1], { requestedBy: [{ id: "U0DANA", name: "Dana" }] } as never));
    expect(slack.currentStatus("C0P", root.ts)).toBe("is drafting...");
    const statusMessage = slack
      .thread("C0P", root.ts)
      .find((m) => /Drafting\.\.\. turn 1 for Dana/.test(m.text));
    expect(statusMessage).toBeTruthy();

    for (let i = 0; i < 3; i++) {
      await clock.advance(90_000);
      await presenter.idle();
    }
    const sets = slack.statuses("C0P", root.ts).filter((s) => s.status !== "");
    expect(sets.length).toBe(4);

    await settle(presenter, result(t, [1], { replies: ["A question?"] } as never));
    // No post happened, so the status is cleared explicitly.
    expect(slack.currentStatus("C0P", root.ts)).toBe("");
    expect(slack.message("C0P", statusMessage?.ts ?? "")?.text).toContain("A question?");
    await clock.advance(200_000);
    await presenter.idle();
    expect(slack.statuses("C0P", root.ts).filter((s) => s.status !== "")).toHaveLength(4);
    await presenter.close();
  });

  it("an ordinary turn costs 4 chat.* calls and one native status call", async () => {
    const { presenter } = setup();
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    // A first card, as an earlier turn would have left it.
    await settle(presenter, dispatched(t, [1]));
    await settle(presenter, result(t, [1], { replies: ["v1"], draftChanged: true } as never));

    slack.resetCalls();
    await settle(presenter, dispatched(t, [2], { turnNumber: 3 } as never));
    await settle(
      presenter,
      result(t, [2], {
        replies: ["Shorter now."],
        draft: { ...view, frameworkVersion: 2, body: "Hi." },
        draftChanged: true,
      } as never),
    );
    const methods = slack.calls.map((c) => c.method);
    // status post, card post, status -> reply, previous card -> superseded
    expect(methods.filter((m) => m.startsWith("chat.")).sort()).toEqual(
      ["chat.postMessage", "chat.postMessage", "chat.update", "chat.update"].sort(),
    );
    // Set once; Slack clears it when the card is posted, so no explicit clear.
    expect(methods.filter((m) => m === "assistant.threads.setStatus")).toHaveLength(1);
    await presenter.close();
  });

  it("a native status failure never fails the turn", async () => {
    const { presenter } = setup();
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    slack.failNext("assistant.threads.setStatus", "not_allowed_token_type", 5);
    await settle(presenter, dispatched(t, [1]));
    await settle(presenter, result(t, [1]));
    expect(slack.thread("C0P", root.ts).some((m) => m.text.includes("Answer."))).toBe(true);
    await presenter.close();
  });

  it("a card Slack refuses still leaves the reply in the thread and the indicator cleared", async () => {
    const { presenter } = setup();
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    await settle(presenter, dispatched(t, [1], { turnNumber: 2 } as never));
    slack.failNext("chat.postMessage", "invalid_blocks");
    await settle(presenter, result(t, [1], { replies: ["Here you go."], draftChanged: true } as never));
    expect(slack.thread("C0P", root.ts).some((m) => m.text.includes("Here you go."))).toBe(true);
    expect(slack.currentStatus("C0P", root.ts)).toBe("");
    await presenter.close();
  });
});

describe("posts whose answer is lost", () => {
  it("a card Slack stored before answering 500 is adopted, not posted again; the status is resolved", async () => {
    const { presenter } = setup({ realTime: true });
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    await settle(presenter, dispatched(t, [1]));
    slack.failAfterStore("chat.postMessage", { mode: "http_500", times: 1 });
    await settle(presenter, result(t, [1], { replies: ["Here it is."], draftChanged: true } as never));
    const cards = slack
      .thread("C0P", root.ts)
      .filter((m) => m.text.startsWith("Draft v1") || /Draft v1/.test(JSON.stringify(m.blocks)));
    expect(cards).toHaveLength(1);
    const texts = slack.thread("C0P", root.ts).map((m) => m.text);
    expect(texts.filter((text) => /Drafting\.\.\./.test(text))).toEqual([]);
    expect(texts.some((text) => text.includes("Here it is."))).toBe(true);
    expect(slack.callsTo("conversations.replies").length).toBeGreaterThan(0);
    await presenter.close();
  });

  it("a status post whose connection dropped after Slack stored it is found and edited, never left 'Drafting...'", async () => {
    const { presenter } = setup({ realTime: true });
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    slack.failAfterStore("chat.postMessage", { mode: "drop_connection", times: 1 });
    await settle(presenter, dispatched(t, [1], { turnNumber: 4 } as never));
    await settle(presenter, result(t, [1], { replies: ["Done."] } as never));
    const bot = slack.thread("C0P", root.ts).filter((m) => m.bot_id);
    expect(bot.map((m) => m.text)).toEqual([expect.stringContaining("Done.")]);
    await presenter.close();
  });

  it("another replica showing the same result after a crash adopts every post: nothing doubled", async () => {
    const store = createSqliteStore({ url: "sqlite::memory:" });
    const first = setup({ store, realTime: true });
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts, 7);
    await settle(first.presenter, dispatched(t, [1]));
    const shown = result(t, [1], { replies: ["Result once."], draftChanged: true } as never);
    await settle(first.presenter, shown);
    // The turn was not marked done before the crash: the next driver shows the same result again.
    const second = setup({ store, realTime: true });
    await settle(second.presenter, shown);
    const bot = slack.thread("C0P", root.ts).filter((m) => m.bot_id);
    expect(bot.filter((m) => m.text.includes("Result once."))).toHaveLength(1);
    expect(bot.filter((m) => /Draft v1/.test(m.text))).toHaveLength(1);
    await first.presenter.close();
    await second.presenter.close();
  });

  it("a crash between a post and its record: the next driver finds the message by its key and adopts it", async () => {
    const store = createSqliteStore({ url: "sqlite::memory:" });
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts, 9);
    // The previous process marked the post as begun, Slack stored it, and the process died.
    expect(await store.beginPost("status:9:1", 9, 0)).toEqual({ state: "new" });
    const client = new WebClient(slack.token, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
    await client.chat.postMessage({
      channel: "C0P",
      thread_ts: root.ts,
      text: "Drafting... turn 1",
      metadata: { event_type: POST_METADATA_TYPE, event_payload: { key: "status:9:1" } },
    });
    const { presenter } = setup({ store, realTime: true });
    await settle(presenter, dispatched(t, [1]));
    await settle(presenter, result(t, [1], { replies: ["Adopted."] } as never));
    const bot = slack.thread("C0P", root.ts).filter((m) => m.bot_id);
    expect(bot.map((m) => m.text)).toEqual([expect.stringContaining("Adopted.")]);
    await presenter.close();
  });

  it("writes nothing more for a thread whose lease was lost", async () => {
    const { presenter } = setup({ realTime: true });
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    const lease = fence();
    await settle(presenter, dispatched(t, [1], { fence: lease.fence } as never));
    const before = slack.calls.length;
    lease.state.held = false;
    await settle(
      presenter,
      result(t, [1], { replies: ["Too late."], draftChanged: true, fence: lease.fence } as never),
    );
    expect(slack.calls.slice(before).filter((c) => c.method.startsWith("chat."))).toEqual([]);
    expect(slack.thread("C0P", root.ts).some((m) => m.text.includes("Too late."))).toBe(false);
    await presenter.close();
  });
});
