import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DraftView } from "../../src/drafting/draft-view.ts";
import type { DraftingService } from "../../src/drafting/drafting-service.ts";
import type { TurnOutcome } from "../../src/drafting/outcomes.ts";
import type { ThreadRecord, TurnRecord } from "../../src/drafting/store.ts";
import { createSilentLogger } from "../../src/logger.ts";
import { createThreadPresenter } from "../../src/slack/thread-presenter.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { flush, ManualClock } from "../support/manual-clock.ts";

/** The few drafting calls the presenter makes, kept in memory. */
function draftingStub() {
  const turns = new Map<number, TurnRecord>();
  let card: { ts: string | null; payload: string | null; revision: number } = {
    ts: null,
    payload: null,
    revision: 0,
  };
  const stub = {
    async turnsOf(threadId: number, states?: readonly string[]) {
      return [...turns.values()].filter(
        (t) => t.threadId === threadId && (!states || states.includes(t.state)),
      );
    },
    async noteStatusMessage(ids: readonly number[], ts: string | null) {
      for (const id of ids) {
        const turn = turns.get(id);
        if (turn) turns.set(id, { ...turn, statusMessageTs: ts });
      }
    },
    async nextCardRevision() {
      return card.revision + 1;
    },
    async noteCard(_threadId: number, next: { ts: string; revision: number; payload: string }) {
      const previous = {
        previousTs: card.ts,
        previousPayload: card.payload,
        previousRevision: card.revision,
      };
      card = { ts: next.ts, payload: next.payload, revision: next.revision };
      return previous;
    },
  };
  return { stub: stub as unknown as DraftingService, turns };
}

const thread = (threadTs: string): ThreadRecord => ({
  id: 1,
  teamId: "T0TEAM",
  channelId: "C0P",
  threadTs,
  sessionId: "s-1",
  campaignId: "c-1",
  nodeId: "n-1",
  startedBy: "U0DANA",
  createdAt: 0,
  statusMessageTs: null,
  cardMessageTs: null,
  cardRevision: 0,
  cardPayload: null,
  draftHash: null,
  turnCount: 1,
  messageCount: 0,
});

const turn = (id: number): TurnRecord =>
  ({
    id,
    threadId: 1,
    kind: "chat",
    state: "dispatched",
    text: "hi",
    authorId: "U0DANA",
    authorName: "Dana",
    statusMessageTs: null,
  }) as TurnRecord;

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

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(() => slack.close());

function setup() {
  const clock = new ManualClock();
  const { stub, turns } = draftingStub();
  const client = new WebClient(slack.token, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  const presenter = createThreadPresenter({
    client,
    drafting: stub,
    logger: createSilentLogger(),
    clock,
    turnTimeoutMs: 300_000,
    indicatorRefreshMs: 90_000,
  });
  return { clock, turns, presenter };
}

async function settle(presenter: { handle: (o: TurnOutcome) => Promise<void> }, outcome: TurnOutcome) {
  await presenter.handle(outcome);
  await flush();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("thread presenter", () => {
  it("sets the native status, refreshes it before Slack's 2-minute expiry, and stops at the end", async () => {
    const { clock, turns, presenter } = setup();
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    turns.set(1, turn(1));
    await settle(presenter, {
      type: "dispatched",
      thread: t,
      turnIds: [1],
      kind: "chat",
      turnNumber: 1,
      leadCount: null,
      requestedBy: [{ id: "U0DANA", name: "Dana" }],
    });
    expect(slack.currentStatus("C0P", root.ts)).toBe("is drafting...");
    const statusMessage = slack
      .thread("C0P", root.ts)
      .find((m) => /Drafting\.\.\. turn 1 for Dana/.test(m.text));
    expect(statusMessage).toBeTruthy();

    for (let i = 0; i < 3; i++) {
      await clock.advance(90_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sets = slack.statuses("C0P", root.ts).filter((s) => s.status !== "");
    expect(sets.length).toBe(4);

    await settle(presenter, {
      type: "result",
      thread: t,
      turnIds: [1],
      kind: "chat",
      replies: ["A question?"],
      draft: view,
      draftChanged: false,
      requestedBy: [],
    });
    // No post happened, so the status is cleared explicitly.
    expect(slack.currentStatus("C0P", root.ts)).toBe("");
    expect(slack.message("C0P", statusMessage?.ts ?? "")?.text).toContain("A question?");
    await clock.advance(200_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(slack.statuses("C0P", root.ts).filter((s) => s.status !== "")).toHaveLength(4);
    await presenter.close();
  });

  it("an ordinary turn costs 4 chat.* calls and one native status call", async () => {
    const { turns, presenter } = setup();
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    // A first card, as an earlier turn would have left it.
    turns.set(1, turn(1));
    await settle(presenter, {
      type: "dispatched",
      thread: t,
      turnIds: [1],
      kind: "chat",
      turnNumber: 2,
      leadCount: null,
      requestedBy: [],
    });
    await settle(presenter, {
      type: "result",
      thread: t,
      turnIds: [1],
      kind: "chat",
      replies: ["v1"],
      draft: view,
      draftChanged: true,
      requestedBy: [],
    });

    slack.resetCalls();
    turns.set(2, turn(2));
    await settle(presenter, {
      type: "dispatched",
      thread: t,
      turnIds: [2],
      kind: "chat",
      turnNumber: 3,
      leadCount: null,
      requestedBy: [],
    });
    await settle(presenter, {
      type: "result",
      thread: t,
      turnIds: [2],
      kind: "chat",
      replies: ["Shorter now."],
      draft: { ...view, frameworkVersion: 2, body: "Hi." },
      draftChanged: true,
      requestedBy: [],
    });
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
    const { turns, presenter } = setup();
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    turns.set(1, turn(1));
    slack.failNext("assistant.threads.setStatus", "not_allowed_token_type", 5);
    await settle(presenter, {
      type: "dispatched",
      thread: t,
      turnIds: [1],
      kind: "chat",
      turnNumber: 1,
      leadCount: null,
      requestedBy: [],
    });
    await settle(presenter, {
      type: "result",
      thread: t,
      turnIds: [1],
      kind: "chat",
      replies: ["Answer."],
      draft: view,
      draftChanged: false,
      requestedBy: [],
    });
    expect(slack.thread("C0P", root.ts).some((m) => m.text.includes("Answer."))).toBe(true);
    await presenter.close();
  });

  it("a card Slack refuses still leaves the reply in the thread and the indicator cleared", async () => {
    const { turns, presenter } = setup();
    const root = slack.addHumanMessage({ channel: "C0P", user: "U0DANA", text: "brief" });
    const t = thread(root.ts);
    turns.set(1, turn(1));
    await settle(presenter, {
      type: "dispatched",
      thread: t,
      turnIds: [1],
      kind: "chat",
      turnNumber: 2,
      leadCount: null,
      requestedBy: [],
    });
    slack.failNext("chat.postMessage", "invalid_blocks");
    await settle(presenter, {
      type: "result",
      thread: t,
      turnIds: [1],
      kind: "chat",
      replies: ["Here you go."],
      draft: view,
      draftChanged: true,
      requestedBy: [],
    });
    expect(slack.thread("C0P", root.ts).some((m) => m.text.includes("Here you go."))).toBe(true);
    expect(slack.currentStatus("C0P", root.ts)).toBe("");
    await presenter.close();
  });
});
