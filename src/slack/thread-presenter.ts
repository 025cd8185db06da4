import type { Clock } from "../clock.ts";
import type { TurnOutcome } from "../drafting/outcomes.ts";
import type { ThreadRecord } from "../drafting/store.ts";
import type { Logger } from "../logger.ts";
import { createCardPoster } from "./card-poster.ts";
import { createDeferredStatus } from "./deferred-status.ts";
import { createIndicators } from "./indicator.ts";
import type { SlackMessageStore } from "./message-store.ts";
import type { Poster, SlackClients } from "./poster.ts";
import { renderExamplesCard } from "./render/draft-card.ts";
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
import { createNamer, uniqueAuthors } from "./shown-names.ts";
import { slackErrorCode } from "./slack-errors.ts";
import { createStatusMessages, newStatusKey, targetOf } from "./status-messages.ts";
import { createStreamWriter } from "./stream-writer.ts";
import { createThreadQueues } from "./thread-queues.ts";
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

export function createThreadPresenter(options: ThreadPresenterOptions): ThreadPresenter {
  const { poster, messages, clock } = options;
  const log = options.logger;
  const queues = createThreadQueues(log);
  const enqueue = queues.enqueue;
  const deferred = createDeferredStatus(clock);
  const status = createStatusMessages({
    poster,
    messages,
    clock,
    logger: log,
    minEditIntervalMs: options.minEditIntervalMs ?? 2000,
  });
  const writer = createStreamWriter({
    clients: options.clients,
    poster,
    messages,
    clock,
    logger: log,
    run: enqueue,
    ...(options.onStreamFallback ? { onFallback: options.onStreamFallback } : {}),
  });
  const indicators = createIndicators({
    clients: options.clients,
    clock,
    logger: log,
    refreshMs: options.indicatorRefreshMs ?? 90_000,
    run: enqueue,
  });
  const named = createNamer(options.names);
  const postCard = createCardPoster({ poster, messages, status, clock, logger: log, named });

  // ---- outcomes

  async function onQueued(outcome: Extract<TurnOutcome, { type: "queued" }>) {
    const { thread, waiting, fence } = outcome;
    if (waiting.length === 0) return;
    const authors = await named(thread.teamId, uniqueAuthors(waiting.map((w) => w.author)));
    const message = renderStatusMessage({ kind: "queued", count: waiting.length, authors });
    await status.showForBatch(
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
    const key = existing ?? newStatusKey(thread, outcome.turnIds);
    // The message now belongs to this batch alone: messages still waiting get a status of their own.
    if (outcome.stillWaiting.length > 0) await messages.unlinkStatus(outcome.stillWaiting.map((w) => w.id));
    await messages.linkStatus(outcome.turnIds, key);
    if (outcome.streamable && !existing && !(await messages.postedTs(key))) {
      // A reply that streams shows progress itself: post the status message only if no stream starts soon.
      const batch = streamKey(thread, outcome.turnIds);
      deferred.defer(batch, options.statusDeferMs ?? STATUS_DEFER_MS, () => {
        void enqueue(thread.id, "status.deferred", async () => {
          if (await writer.active(batch)) return;
          await status.show(thread, fence, key, renderStatusMessage(state));
        });
      });
    } else {
      const shownAs = await status.show(thread, fence, key, renderStatusMessage(state));
      if (shownAs !== key) await messages.linkStatus(outcome.turnIds, shownAs);
    }
    await indicators.start(thread, fence);
    if (outcome.stillWaiting.length > 0) {
      const authors = await named(thread.teamId, uniqueAuthors(outcome.stillWaiting.map((w) => w.author)));
      await status.showForBatch(
        thread,
        fence,
        outcome.stillWaiting.map((w) => w.id),
        renderStatusMessage({ kind: "queued", count: outcome.stillWaiting.length, authors }),
      );
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
      deferred.cancel(batch);
      if (await writer.finish(thread, batch, outcome.replies, fence)) {
        // The reply is in the streamed message; a status message shown meanwhile points to it.
        posted = true;
        const key = await messages.statusKeyFor(outcome.turnIds);
        if (key && (await messages.postedTs(key)))
          await status.show(thread, fence, key, renderAnsweredBelow());
        return;
      }
      const [reply, ...rest] = renderReply(outcome.replies);
      if (reply) {
        await status.showForBatch(thread, fence, outcome.turnIds, reply);
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

  async function onFailed(outcome: Extract<TurnOutcome, { type: "failed" }>) {
    const { thread, fence } = outcome;
    deferred.cancel(streamKey(thread, outcome.turnIds));
    const message = renderFailure({
      code: outcome.code,
      detail: outcome.detail,
      retryable: outcome.retryable,
      turnId: outcome.turnIds[0] ?? 0,
      kind: outcome.kind,
    });
    try {
      await status.showForBatch(thread, fence, outcome.turnIds, message);
    } finally {
      await indicators.stop(thread, false, fence);
    }
  }

  async function onTimedOut(outcome: Extract<TurnOutcome, { type: "timed_out" }>) {
    const { thread, fence } = outcome;
    deferred.cancel(streamKey(thread, outcome.turnIds));
    const minutes = Math.round((options.turnTimeoutMs * (outcome.kind === "examples" ? 2 : 1)) / 60_000);
    const message = renderTimedOut({ turnId: outcome.turnIds[0] ?? 0, minutes: Math.max(1, minutes) });
    try {
      await status.showForBatch(thread, fence, outcome.turnIds, message);
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
        if (outcome.runStatus !== "QUEUED" && outcome.streams.length === 0)
          deferred.postNow(streamKey(outcome.thread, outcome.turnIds));
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
      deferred.close();
      await queues.settled();
      await status.flush();
    },
    /** Resolves when nothing is queued to show and no status post waits for its deferral to end. */
    async idle() {
      for (;;) {
        if (queues.busy()) await queues.settled();
        else if (deferred.pending()) await deferred.idle();
        else return;
      }
    },
  };
}
