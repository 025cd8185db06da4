import { describe, expect, it } from "vitest";
import {
  authorsOf,
  batchOf,
  MAX_BATCH,
  mergeMessages,
  repliesFor,
  takeBatch,
  waitingOf,
  wasReceived,
} from "../../src/drafting/batches.ts";
import type { TurnRecord } from "../../src/drafting/store.ts";
import { type Session, SessionSchema } from "../../src/puffle/schemas.ts";

let nextId = 1;
function turn(overrides: Partial<TurnRecord> = {}): TurnRecord {
  const id = nextId++;
  return {
    id,
    threadId: 1,
    kind: "chat",
    state: "pending",
    text: `message ${id}`,
    authorId: "U0DANA",
    authorName: "Dana",
    slackTs: null,
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
    leadCount: null,
    createdAt: 0,
    dispatchedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

const dana = { authorId: "U0DANA", authorName: "Dana" };
const lee = { authorId: "U0LEE", authorName: "Lee" };

/** A session as Puffle answers it, read through the app's own schema. */
function session(
  messages: { role: string; content: string }[],
  extra: Record<string, unknown> = {},
): Session {
  return SessionSchema.parse({ id: "s1", task_status: null, messages, ...extra });
}

describe("takeBatch", () => {
  it("takes every consecutive chat message, up to MAX_BATCH, in order", () => {
    const pending = Array.from({ length: 25 }, () => turn());
    expect(MAX_BATCH).toBe(20);
    const first = takeBatch(pending);
    expect(first).toEqual(pending.slice(0, 20));
    expect(takeBatch(pending.slice(first.length))).toEqual(pending.slice(20));
  });

  it("stops at an examples request, which always goes alone", () => {
    const chat = [turn(), turn()];
    const examples = turn({ kind: "examples", text: "Generate examples" });
    const later = turn();
    expect(takeBatch([...chat, examples, later])).toEqual(chat);
    expect(takeBatch([examples, later])).toEqual([examples]);
  });

  it("takes nothing from nothing", () => {
    expect(takeBatch([])).toEqual([]);
  });
});

describe("mergeMessages", () => {
  it("sends one message as written", () => {
    expect(mergeMessages([turn({ text: "make it shorter" })])).toBe("make it shorter");
  });

  it("joins one person's messages with a blank line, without names", () => {
    const batch = [turn({ ...lee, text: "shorter" }), turn({ ...lee, text: "and warmer" })];
    expect(mergeMessages(batch)).toBe("shorter\n\nand warmer");
  });

  it("attributes each line when several people wrote, falling back to the id without a name", () => {
    const batch = [
      turn({ ...dana, text: "make it shorter" }),
      turn({ ...lee, text: "mention the Q3 webinar" }),
      turn({ authorId: "U0SAM", authorName: null, text: "softer ask" }),
    ];
    expect(mergeMessages(batch)).toBe(
      "Dana: make it shorter\nLee: mention the Q3 webinar\nU0SAM: softer ask",
    );
  });

  it("does not name an author twice when the message is already in their name (feedback on a card)", () => {
    const batch = [
      turn({ ...dana, text: "Dana: shorter, less salesy" }),
      turn({ ...lee, text: "Dana: said it first" }),
    ];
    expect(mergeMessages(batch)).toBe("Dana: shorter, less salesy\nLee: Dana: said it first");
  });
});

describe("batchOf", () => {
  it("is the turns sharing the first turn's batch id", () => {
    const head = turn({ state: "dispatched" });
    const a = { ...head, batchId: head.id };
    const b = turn({ state: "dispatched", batchId: head.id });
    const other = turn({ state: "dispatched", batchId: 999 });
    expect(batchOf([a, other, b])).toEqual([a, b]);
  });

  it("a turn never batched is a batch of its own", () => {
    const alone = turn();
    expect(batchOf([alone, turn()])).toEqual([alone]);
    expect(batchOf([])).toEqual([]);
  });
});

describe("authorsOf and waitingOf", () => {
  it("names each author once, in the order they first wrote", () => {
    const turns = [turn(dana), turn(lee), turn(dana)];
    expect(authorsOf(turns)).toEqual([
      { id: "U0DANA", name: "Dana" },
      { id: "U0LEE", name: "Lee" },
    ]);
    expect(waitingOf(turns).map((w) => [w.id, w.author.id])).toEqual(turns.map((t) => [t.id, t.authorId]));
  });
});

describe("wasReceived", () => {
  const before = [
    { role: "user", content: "Intro email for VPs of Sales" },
    { role: "assistant", content: "Three questions first." },
  ];

  it("is true when the user message sent appears after the count recorded at dispatch", () => {
    const sent = turn({ sentText: "make it shorter ", messageCountAtDispatch: 2 });
    expect(wasReceived(session([...before, { role: "user", content: " make it shorter" }]), sent)).toBe(true);
  });

  it("is false when it is not there, or only before the dispatch", () => {
    const sent = turn({ sentText: "Intro email for VPs of Sales", messageCountAtDispatch: 2 });
    expect(wasReceived(session(before), sent)).toBe(false);
    expect(wasReceived(session([...before, { role: "assistant", content: "hello" }]), sent)).toBe(false);
  });

  it("an examples request counts as received by a new assistant message or by examples", () => {
    const examples = turn({ kind: "examples", messageCountAtDispatch: 2 });
    expect(wasReceived(session(before), examples)).toBe(false);
    expect(
      wasReceived(session([...before, { role: "assistant", content: "Generated 3 examples." }]), examples),
    ).toBe(true);
    const withExamples = session(before, {
      generated_examples: [{ lead_id: "1", subject: "Hi", body: "Hello" }],
    });
    expect(wasReceived(withExamples, examples)).toBe(true);
  });
});

describe("repliesFor", () => {
  const before = [
    { role: "user", content: "brief" },
    { role: "assistant", content: "old answer" },
  ];

  it("is the assistant messages after our user message, up to the next user message", () => {
    const sent = turn({ sentText: "shorter", messageCountAtDispatch: 2 });
    const after = session([
      ...before,
      { role: "user", content: "shorter" },
      { role: "assistant", content: "Done: shorter." },
      { role: "assistant", content: "  " },
      { role: "assistant", content: "Anything else?" },
      { role: "user", content: "from the web app" },
      { role: "assistant", content: "not ours" },
    ]);
    expect(repliesFor(after, sent)).toEqual(["Done: shorter.", "Anything else?"]);
  });

  it("is empty when Puffle has not answered", () => {
    const sent = turn({ sentText: "shorter", messageCountAtDispatch: 2 });
    expect(repliesFor(session([...before, { role: "user", content: "shorter" }]), sent)).toEqual([]);
    expect(repliesFor(session(before), sent)).toEqual([]);
  });

  it("for examples, every assistant message since the dispatch", () => {
    const examples = turn({ kind: "examples", messageCountAtDispatch: 2 });
    const after = session([...before, { role: "assistant", content: "Generated 3 examples." }]);
    expect(repliesFor(after, examples)).toEqual(["Generated 3 examples."]);
  });
});
