import type { Clock, TimerHandle } from "../clock.ts";
import type { DraftView } from "../drafting/draft-view.ts";
import type { Author, Fence, TurnOutcome } from "../drafting/outcomes.ts";
import type { ThreadRecord } from "../drafting/store.ts";
import type { Logger } from "../logger.ts";
import { createIndicators } from "./indicator.ts";
import { createMessageEditor } from "./message-editor.ts";
import type { SlackMessageStore } from "./message-store.ts";
import type { Poster, PostTarget, SlackClients } from "./poster.ts";
import type { SlackMessage } from "./render/blocks.ts";
import { renderDraftCard, renderExamplesCard, renderSupersededCard } from "./render/draft-card.ts";
import {
  renderAnsweredBelow,
  renderFailure,
  renderMoved,
  renderNeedsKey,
  renderReply,
  renderStatusMessage,
  renderTimedOut,
  type StatusState,
} from "./render/status.ts";
import { classifySlackError, slackErrorCode } from "./slack-errors.ts";
import { createStreamWriter } from "./stream-writer.ts";
import type { UserNames } from "./user-names.ts";

/**
 * The one module that writes a thread's status and results to Slack. Outcomes of one thread are applied
 * in order (a queue per thread); different threads never wait for each other.
 *
 * Per batch of turns: a status message is posted when it is queued or dispatched and edited in place as
 * its state changes (coalesced: at most one edit per message per 2 s); the result replaces it with
 * Puffle's reply, and a changed draft is posted as a new card while older cards are marked superseded.
 * Every post has a key (`status:`, `reply:`, `card:`...), so an outcome shown again (after a crash, or
 * by the replica that took the thread over) adopts what is already in the thread. Before every write the
 * outcome's lease is checked: a replica that lost the thread shows nothing more of it.
 */
export interface ThreadPresenter {
  /** The drafting core's outcome sink. Results resolve once shown; status changes resolve at once. */
  handle(outcome: TurnOutcome): Promise<void>;
  /** Applies waiting edits and stops indicator refreshes (shutdown). */
  close(): Promise<void>;
  /** Resolves when nothing is being shown (tests). */
  idle(): Promise<void>;
}

export interface ThreadPresenterOptions {
  clients: SlackClients;
  poster: Poster;
  messages: SlackMessageStore;
  logger: Logger;
  clock: Clock;
  /** At most one chat.update per message per this interval (2 s). */
  minEditIntervalMs?: number;
  /** The indicator expires after 2 minutes without a post; refresh it before that. */
  indicatorRefreshMs?: number;
  turnTimeoutMs: number;
  /** Fills names that were not known when a turn was recorded (shown as "asked by Dana"). */
  names?: UserNames;
  /** How long a turn that may stream waits before posting its status message (a stream shows progress itself). */
  statusDeferMs?: number;
  /** A stream that failed and fell back to the status message (for the metrics). */
  onStreamFallback?: (reason: string) => void;
  /**
   * Something a person sees of the thread changed (a turn started, finished or failed, a new card):
   * e.g. the App Home of whoever started it shows it differently now. Called after it was shown.
   */
  onThreadChanged?: (thread: ThreadRecord) => void;
}

/** The message a batch's reply streams into. */
const streamKey = (thread: ThreadRecord, turnIds: readonly number[]) =>
  `stream:${thread.id}:${Math.min(...turnIds)}`;

/** A turn that may stream posts its status message only after this, if no stream started. */
const STATUS_DEFER_MS = 2000;

const targetOf = (thread: ThreadRecord): PostTarget => ({
  teamId: thread.teamId,
  threadId: thread.id,
  channel: thread.channelId,
  threadTs: thread.threadTs,
});

export function createThreadPresenter(options: ThreadPresenterOptions): ThreadPresenter {
  const { poster, messages, clock } = options;
  const log = options.logger;
  const editors = new Map<string, ReturnType<typeof createMessageEditor>>();
  const queues = new Map<number, Promise<void>>();
  /** Status messages of turns that may stream, waiting to see whether a stream starts. */
  const deferred = new Map<string, TimerHandle>();
  /** Who waits (idle) for the deferred status posts to be done or cancelled. */
  let deferredWaiters: (() => void)[] = [];
  const dropDeferred = (batch: string) => {
    deferred.delete(batch);
    if (deferred.size > 0) return;
    const waiters = deferredWaiters;
    deferredWaiters = [];
    for (const wake of waiters) wake();
  };
  const postDeferred = new Map<string, () => void>();
  const writer = createStreamWriter({
    clients: options.clients,
    poster,
    messages,
    clock,
    logger: log,
    run: (threadId, what, work) => enqueue(threadId, what, work),
    ...(options.onStreamFallback ? { onFallback: options.onStreamFallback } : {}),
  });
  const indicators = createIndicators({
    clients: options.clients,
    clock,
    logger: log,
    refreshMs: options.indicatorRefreshMs ?? 90_000,
    run: (threadId, what, work) => enqueue(threadId, what, work),
  });

  /** One coalescing editor per workspace (each has its own client). */
  function editorFor(teamId: string) {
    let editor = editors.get(teamId);
    if (!editor) {
      editor = createMessageEditor({
        update: (channel, ts, message) => poster.update(teamId, channel, ts, message),
        clock,
        minIntervalMs: options.minEditIntervalMs ?? 2000,
      });
      editors.set(teamId, editor);
    }
    return editor;
  }

  /** Runs `work` after everything already queued for the thread; the returned promise never rejects. */
  function enqueue(threadId: number, what: string, work: () => Promise<void>): Promise<void> {
    const previous = queues.get(threadId) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => {
      if (error instanceof Error && error.name === "LeaseLostError") {
        log.info({ threadId, what }, "slack.present_skipped_lease_lost");
        return;
      }
      log.error({ threadId, what, err: slackErrorCode(error) }, "slack.present_failed");
    });
    queues.set(threadId, next);
    void next.finally(() => {
      if (queues.get(threadId) === next) queues.delete(threadId);
    });
    return next;
  }

  /**
   * Shows `message` as the status message `key`: edits it in place when it exists, else posts it. A
   * status message that is gone (deleted by someone) is posted again under a new key. Answers the key
   * it is shown under.
   */
  async function showStatus(
    thread: ThreadRecord,
    fence: Fence,
    key: string,
    message: SlackMessage,
  ): Promise<string> {
    fence.assertHeld();
    const ts = await messages.postedTs(key);
    if (!ts) {
      await poster.post(key, targetOf(thread), message);
      return key;
    }
    try {
      await editorFor(thread.teamId).edit(thread.channelId, ts, message, () => fence.assertHeld());
      return key;
    } catch (error) {
      if (classifySlackError(error).kind !== "refused") throw error;
      log.warn({ threadId: thread.id, ts, err: slackErrorCode(error) }, "slack.status_edit_failed");
      const again = `${key}:again`;
      fence.assertHeld();
      await poster.post(again, targetOf(thread), message);
      return again;
    }
  }

  /** The status message key of these turns, or a new one named after the first of them. */
  async function statusKey(thread: ThreadRecord, turnIds: readonly number[]): Promise<string> {
    return (await messages.statusKeyFor(turnIds)) ?? `status:${thread.id}:${Math.min(...turnIds)}`;
  }

  /** Shows a batch's state in its status message, linked to the batch's turns. */
  async function showBatchStatus(
    thread: ThreadRecord,
    fence: Fence,
    turnIds: readonly number[],
    message: SlackMessage,
  ): Promise<void> {
    const key = await statusKey(thread, turnIds);
    await messages.linkStatus(turnIds, key);
    const shownAs = await showStatus(thread, fence, key, message);
    if (shownAs !== key) await messages.linkStatus(turnIds, shownAs);
  }

  // ---- outcomes

  /** People are shown by name; a mention would ping them on every status change. */
  async function named(teamId: string, authors: Author[]): Promise<Author[]> {
    const names = options.names;
    if (!names) return authors;
    return Promise.all(
      authors.map(async (a) => (a.name ? a : { ...a, name: await names.nameOf(teamId, a.id) })),
    );
  }

  async function onQueued(outcome: Extract<TurnOutcome, { type: "queued" }>) {
    const { thread, waiting, fence } = outcome;
    if (waiting.length === 0) return;
    const authors = await named(thread.teamId, uniqueAuthors(waiting.map((w) => w.author)));
    const message = renderStatusMessage({ kind: "queued", count: waiting.length, authors });
    await showBatchStatus(
      thread,
      fence,
      waiting.map((w) => w.id),
      message,
    );
  }

  async function onDispatched(outcome: Extract<TurnOutcome, { type: "dispatched" }>) {
    const { thread, fence } = outcome;
    const state: StatusState =
      outcome.kind === "examples"
        ? { kind: "examples", leadCount: outcome.leadCount ?? 0 }
        : {
            kind: "drafting",
            turnNumber: outcome.turnNumber,
            requestedBy: await named(thread.teamId, outcome.requestedBy),
          };
    const existing = await messages.statusKeyFor(outcome.turnIds);
    const key = existing ?? `status:${thread.id}:${Math.min(...outcome.turnIds)}`;
    // The message now belongs to this batch alone: messages still waiting get a status of their own.
    if (outcome.stillWaiting.length > 0) await messages.unlinkStatus(outcome.stillWaiting.map((w) => w.id));
    await messages.linkStatus(outcome.turnIds, key);
    if (outcome.streamable && !existing && !(await messages.postedTs(key))) {
      // A reply that streams shows progress itself: post the status message only if no stream starts soon.
      const batch = streamKey(thread, outcome.turnIds);
      const post = () => {
        postDeferred.delete(batch);
        void enqueue(thread.id, "status.deferred", async () => {
          if (await writer.active(batch)) return;
          await showStatus(thread, fence, key, renderStatusMessage(state));
        });
      };
      postDeferred.set(batch, post);
      deferred.set(
        batch,
        clock.setTimeout(() => {
          post();
          dropDeferred(batch);
        }, options.statusDeferMs ?? STATUS_DEFER_MS),
      );
    } else {
      const shownAs = await showStatus(thread, fence, key, renderStatusMessage(state));
      if (shownAs !== key) await messages.linkStatus(outcome.turnIds, shownAs);
    }
    await indicators.start(thread, fence);
    if (outcome.stillWaiting.length > 0) {
      const authors = await named(thread.teamId, uniqueAuthors(outcome.stillWaiting.map((w) => w.author)));
      await showBatchStatus(
        thread,
        fence,
        outcome.stillWaiting.map((w) => w.id),
        renderStatusMessage({ kind: "queued", count: outcome.stillWaiting.length, authors }),
      );
    }
  }

  /**
   * Posts a new draft card for `source` (a batch's result, an edit) and marks the older ones
   * superseded. Shown again for the same source (after a crash), the card is the same one.
   */
  async function postCard(
    thread: ThreadRecord,
    fence: Fence,
    source: string,
    draft: DraftView,
    requestedBy: Author[],
  ) {
    const live = await messages.liveCard(thread.id);
    const revision = live?.source === source ? live.revision : (live?.revision ?? 0) + 1;
    const parts = renderDraftCard({
      view: draft,
      revision,
      requestedBy: await named(thread.teamId, requestedBy),
      live: true,
    });
    let lastTs: string | undefined;
    for (const [index, part] of parts.entries()) {
      fence.assertHeld();
      lastTs = await poster.post(`card:${thread.id}:${revision}:${index}`, targetOf(thread), part);
    }
    const last = parts.at(-1);
    if (!last || !lastTs) return;
    await messages.addCard({
      threadId: thread.id,
      revision,
      ts: lastTs,
      payload: JSON.stringify(last),
      source,
    });
    for (const old of await messages.cardsToSupersede(thread.id)) {
      try {
        const previous = JSON.parse(old.payload) as SlackMessage;
        await editorFor(thread.teamId).edit(
          thread.channelId,
          old.ts,
          renderSupersededCard(previous, draft.frameworkVersion ?? revision),
          () => fence.assertHeld(),
        );
        await messages.markSuperseded(thread.id, old.revision, clock.now());
      } catch (error) {
        if (error instanceof Error && error.name === "LeaseLostError") throw error;
        log.warn(
          { threadId: thread.id, revision: old.revision, err: slackErrorCode(error) },
          "slack.supersede_failed",
        );
      }
    }
  }

  async function onResult(outcome: Extract<TurnOutcome, { type: "result" }>) {
    const { thread, draft, fence } = outcome;
    const first = Math.min(...outcome.turnIds);
    let posted = false;
    try {
      // The card first: it is what people wait for. If Slack refuses it, the reply still shows.
      if (outcome.draftChanged) {
        try {
          if (outcome.kind === "examples") {
            const requestedBy = await named(thread.teamId, outcome.requestedBy);
            const parts = renderExamplesCard({ view: draft, requestedBy, leadNames: draft.leadNames });
            for (const [index, part] of parts.entries()) {
              fence.assertHeld();
              await poster.post(`examples:${thread.id}:${first}:${index}`, targetOf(thread), part);
            }
          } else {
            await postCard(thread, fence, `turns:${first}`, draft, outcome.requestedBy);
          }
          posted = true;
        } catch (error) {
          if (error instanceof Error && error.name === "LeaseLostError") throw error;
          log.error({ threadId: thread.id, err: slackErrorCode(error) }, "slack.card_failed");
        }
      }
      const batch = streamKey(thread, outcome.turnIds);
      cancelDeferred(batch);
      if (await writer.finish(thread, batch, outcome.replies, fence)) {
        // The reply is in the streamed message; a status message shown meanwhile points to it.
        posted = true;
        const key = await messages.statusKeyFor(outcome.turnIds);
        if (key && (await messages.postedTs(key)))
          await showStatus(thread, fence, key, renderAnsweredBelow());
        return;
      }
      const [reply, ...rest] = renderReply(outcome.replies);
      if (reply) {
        await showBatchStatus(thread, fence, outcome.turnIds, reply);
        for (const [index, part] of rest.entries()) {
          fence.assertHeld();
          await poster.post(`reply:${thread.id}:${first}:${index + 1}`, targetOf(thread), part);
          posted = true;
        }
      }
    } finally {
      await indicators.stop(thread, posted, fence);
    }
  }

  /** The batch's status is shown some other way now: a deferred "Drafting..." must not follow. */
  function cancelDeferred(batch: string) {
    const timer = deferred.get(batch);
    if (timer !== undefined) clock.clearTimeout(timer);
    postDeferred.delete(batch);
    dropDeferred(batch);
  }

  async function onFailed(outcome: Extract<TurnOutcome, { type: "failed" }>) {
    const { thread, fence } = outcome;
    cancelDeferred(streamKey(thread, outcome.turnIds));
    const message = renderFailure({
      code: outcome.code,
      detail: outcome.detail,
      retryable: outcome.retryable,
      turnId: outcome.turnIds[0] ?? 0,
      kind: outcome.kind,
    });
    try {
      await showBatchStatus(thread, fence, outcome.turnIds, message);
    } finally {
      await indicators.stop(thread, false, fence);
    }
  }

  async function onTimedOut(outcome: Extract<TurnOutcome, { type: "timed_out" }>) {
    const { thread, fence } = outcome;
    cancelDeferred(streamKey(thread, outcome.turnIds));
    const minutes = Math.round((options.turnTimeoutMs * (outcome.kind === "examples" ? 2 : 1)) / 60_000);
    const message = renderTimedOut({ turnId: outcome.turnIds[0] ?? 0, minutes: Math.max(1, minutes) });
    try {
      await showBatchStatus(thread, fence, outcome.turnIds, message);
    } finally {
      await indicators.stop(thread, false, fence);
    }
  }

  async function onMoved(outcome: Extract<TurnOutcome, { type: "moved" }>) {
    const client = await options.clients.forTeam(outcome.thread.teamId);
    const answer = await client.chat.getPermalink({
      channel: outcome.thread.channelId,
      message_ts: outcome.thread.threadTs,
    });
    if (!answer.permalink) throw new Error("chat.getPermalink answered without a permalink");
    outcome.fence.assertHeld();
    await poster.post(
      `moved:${outcome.from.id}`,
      targetOf(outcome.from),
      renderMoved({ permalink: answer.permalink }),
    );
  }

  /** Shows one outcome, in the thread's order. Results resolve once shown; status changes at once. */
  function show(outcome: TurnOutcome): Promise<void> {
    const id = outcome.thread.id;
    switch (outcome.type) {
      case "queued":
        void enqueue(id, "queued", () => onQueued(outcome));
        return Promise.resolve();
      case "dispatched":
        void enqueue(id, "dispatched", () => onDispatched(outcome));
        return Promise.resolve();
      case "progress": {
        // Run status changes are not worth a Slack call each; the indicator already says "drafting".
        // But a run that runs without a stream will not stream: its status message need not wait.
        const batch = streamKey(outcome.thread, outcome.turnIds);
        const timer = deferred.get(batch);
        if (timer !== undefined && outcome.runStatus !== "QUEUED" && outcome.streams.length === 0) {
          clock.clearTimeout(timer);
          postDeferred.get(batch)?.();
          dropDeferred(batch);
        }
        return Promise.resolve();
      }
      case "text":
        void enqueue(id, "text", async () => {
          const key = streamKey(outcome.thread, outcome.turnIds);
          await writer.text(outcome.thread, key, outcome.recipient, outcome.delta, outcome.fence);
          // Slack clears the indicator with the stream's first append: stop refreshing it.
          if (await writer.active(key)) await indicators.stop(outcome.thread, true, outcome.fence);
        });
        return Promise.resolve();
      case "result":
        return enqueue(id, "result", () => onResult(outcome));
      case "failed":
        return enqueue(id, "failed", () => onFailed(outcome));
      case "timed_out":
        return enqueue(id, "timed_out", () => onTimedOut(outcome));
      case "moved":
        return enqueue(outcome.from.id, "moved", () => onMoved(outcome));
      case "needs_key":
        return enqueue(id, "needs_key", async () => {
          outcome.fence.assertHeld();
          // Said once per thread, however many messages wait.
          await poster.post(`needkey:${id}`, targetOf(outcome.thread), renderNeedsKey());
        });
      case "edited":
        return enqueue(id, "edited", () =>
          postCard(
            outcome.thread,
            outcome.fence,
            `edit:${outcome.editId}`,
            outcome.draft,
            outcome.requestedBy,
          ),
        );
    }
  }

  const CHANGES: ReadonlySet<TurnOutcome["type"]> = new Set([
    "dispatched",
    "result",
    "failed",
    "timed_out",
    "edited",
    "needs_key",
  ]);

  return {
    handle(outcome) {
      const shown = show(outcome);
      if (options.onThreadChanged && CHANGES.has(outcome.type)) {
        const changed = options.onThreadChanged;
        void shown.then(() => changed(outcome.thread));
      }
      return shown;
    },
    async close() {
      indicators.close();
      writer.close();
      for (const [batch, timer] of deferred) {
        clock.clearTimeout(timer);
        dropDeferred(batch);
      }
      await Promise.allSettled([...queues.values()]);
      await Promise.allSettled([...editors.values()].map((editor) => editor.flush()));
    },
    /** Resolves when nothing is queued to show and no status post waits for its deferral to end. */
    async idle() {
      for (;;) {
        if (queues.size > 0) await Promise.allSettled([...queues.values()]);
        else if (deferred.size > 0) await new Promise<void>((resolve) => deferredWaiters.push(resolve));
        else return;
      }
    },
  };
}

function uniqueAuthors(authors: readonly Author[]): Author[] {
  const seen = new Map<string, Author>();
  for (const author of authors) if (!seen.has(author.id)) seen.set(author.id, author);
  return [...seen.values()];
}
