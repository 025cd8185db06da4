import type { WebClient } from "@slack/web-api";
import type { Clock, TimerHandle } from "../clock.ts";
import type { DraftView } from "../drafting/draft-view.ts";
import type { DraftingService } from "../drafting/drafting-service.ts";
import type { Author, TurnOutcome } from "../drafting/outcomes.ts";
import type { ThreadRecord, TurnRecord } from "../drafting/store.ts";
import type { Logger } from "../logger.ts";
import { createMessageEditor } from "./message-editor.ts";
import type { SlackMessage } from "./render/blocks.ts";
import { renderDraftCard, renderExamplesCard, renderSupersededCard } from "./render/draft-card.ts";
import {
  renderFailure,
  renderMoved,
  renderReply,
  renderStatusMessage,
  renderTimedOut,
  type StatusState,
} from "./render/status.ts";
import type { UserNames } from "./user-names.ts";

/**
 * The one module that writes a thread's status and results to Slack. Outcomes of one thread
 * are applied in order (a queue per thread); different threads never wait for each other.
 *
 * Per turn: a status message is posted when the turn is queued or dispatched and edited in
 * place as its state changes (coalesced: at most one edit per message per 2 s); the result
 * replaces it with Puffle's reply, and a changed draft is posted as a new card while the
 * previous card is marked superseded. The native thread status indicator is set as a best
 * effort, refreshed before Slack's 2-minute expiry, and cleared at the end.
 */
export interface ThreadPresenter {
  /** The drafting core's outcome sink. Results resolve once shown; status changes resolve at once. */
  handle(outcome: TurnOutcome): Promise<void>;
  /** Posts a new card for a draft changed outside a turn (the Edit modal). */
  showDraft(thread: ThreadRecord, draft: DraftView, requestedBy: Author[]): Promise<void>;
  /** Applies waiting edits and stops indicator refreshes (shutdown). */
  close(): Promise<void>;
}

export interface ThreadPresenterOptions {
  client: WebClient;
  drafting: DraftingService;
  logger: Logger;
  clock: Clock;
  /** At most one chat.update per message per this interval (2 s). */
  minEditIntervalMs?: number;
  /** The indicator expires after 2 minutes without a post; refresh it before that. */
  indicatorRefreshMs?: number;
  turnTimeoutMs: number;
  /** Fills names that were not known when a turn was recorded (shown as "asked by Dana"). */
  names?: UserNames;
}

const INDICATOR_TEXT = "is drafting...";
const LOADING_MESSAGES = ["Reading the thread...", "Drafting with Puffle...", "Polishing the wording..."];

export function createThreadPresenter(options: ThreadPresenterOptions): ThreadPresenter {
  const { client, drafting, clock } = options;
  const log = options.logger;
  const editor = createMessageEditor({ client, clock, minIntervalMs: options.minEditIntervalMs ?? 2000 });
  const queues = new Map<number, Promise<void>>();
  const indicators = new Map<number, TimerHandle>();
  const refreshMs = options.indicatorRefreshMs ?? 90_000;

  /** Runs `work` after everything already queued for the thread; the returned promise never rejects. */
  function enqueue(threadId: number, what: string, work: () => Promise<void>): Promise<void> {
    const previous = queues.get(threadId) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => {
      log.error({ threadId, what, err: describe(error) }, "slack.present_failed");
    });
    queues.set(threadId, next);
    void next.finally(() => {
      if (queues.get(threadId) === next) queues.delete(threadId);
    });
    return next;
  }

  async function post(thread: ThreadRecord, message: SlackMessage): Promise<string> {
    const answer = await client.chat.postMessage({
      channel: thread.channelId,
      thread_ts: thread.threadTs,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
      unfurl_media: false,
    });
    if (!answer.ts) throw new Error("chat.postMessage answered without a ts");
    return answer.ts;
  }

  async function postAll(thread: ThreadRecord, messages: SlackMessage[]): Promise<string[]> {
    const posted: string[] = [];
    for (const message of messages) posted.push(await post(thread, message));
    return posted;
  }

  /** Edits the status message in place; if it is gone (deleted, not ours), posts a new one. */
  async function replaceStatus(
    thread: ThreadRecord,
    ts: string | null,
    message: SlackMessage,
  ): Promise<string> {
    if (ts) {
      try {
        await editor.edit(thread.channelId, ts, message);
        return ts;
      } catch (error) {
        log.warn({ threadId: thread.id, ts, err: describe(error) }, "slack.status_edit_failed");
      }
    }
    return post(thread, message);
  }

  // ---- the native indicator: best effort, never fails a turn

  async function setIndicator(thread: ThreadRecord, status: string) {
    try {
      await client.assistant.threads.setStatus({
        channel_id: thread.channelId,
        thread_ts: thread.threadTs,
        status,
        ...(status ? { loading_messages: LOADING_MESSAGES } : {}),
      });
    } catch (error) {
      log.debug({ threadId: thread.id, err: describe(error) }, "slack.indicator_failed");
    }
  }

  function startIndicator(thread: ThreadRecord) {
    if (indicators.has(thread.id)) return;
    const refresh = () => {
      indicators.set(
        thread.id,
        clock.setTimeout(() => {
          void enqueue(thread.id, "indicator.refresh", async () => {
            if (!indicators.has(thread.id)) return;
            await setIndicator(thread, INDICATOR_TEXT);
            refresh();
          });
        }, refreshMs),
      );
    };
    void setIndicator(thread, INDICATOR_TEXT);
    refresh();
  }

  /** Stops refreshing; clears explicitly unless a post just did (Slack clears it on our reply). */
  async function stopIndicator(thread: ThreadRecord, clearedByPost: boolean) {
    const timer = indicators.get(thread.id);
    if (timer === undefined) return;
    clock.clearTimeout(timer);
    indicators.delete(thread.id);
    if (!clearedByPost) await setIndicator(thread, "");
  }

  // ---- outcomes

  /** People are shown by name; a mention would ping them on every status change. */
  async function named(authors: Author[]): Promise<Author[]> {
    const names = options.names;
    if (!names) return authors;
    return Promise.all(authors.map(async (a) => (a.name ? a : { ...a, name: await names.nameOf(a.id) })));
  }

  async function turnsOf(threadId: number, ids: readonly number[]): Promise<TurnRecord[]> {
    const wanted = new Set(ids);
    return (await drafting.turnsOf(threadId)).filter((t) => wanted.has(t.id));
  }

  const statusTsOf = (turns: TurnRecord[]) => turns.find((t) => t.statusMessageTs)?.statusMessageTs ?? null;

  async function onQueued(outcome: Extract<TurnOutcome, { type: "queued" }>) {
    const { thread } = outcome;
    const waiting = await drafting.turnsOf(thread.id, ["pending"]);
    if (waiting.length === 0) return;
    const authors = await named(uniqueAuthors(waiting));
    const message = renderStatusMessage({ kind: "queued", count: waiting.length, authors });
    const ts = await replaceStatus(thread, statusTsOf(waiting), message);
    await drafting.noteStatusMessage(
      waiting.map((t) => t.id),
      ts,
    );
  }

  async function onDispatched(outcome: Extract<TurnOutcome, { type: "dispatched" }>) {
    const { thread } = outcome;
    const turns = await turnsOf(thread.id, outcome.turnIds);
    const state: StatusState =
      outcome.kind === "examples"
        ? { kind: "examples", leadCount: outcome.leadCount ?? 0 }
        : { kind: "drafting", turnNumber: outcome.turnNumber, requestedBy: await named(outcome.requestedBy) };
    const ts = await replaceStatus(thread, statusTsOf(turns), renderStatusMessage(state));
    await drafting.noteStatusMessage(outcome.turnIds, ts);
    startIndicator(thread);
  }

  /** Posts a new draft card and marks the one before it superseded. */
  async function postCard(thread: ThreadRecord, draft: DraftView, requestedBy: Author[]) {
    const revision = await drafting.nextCardRevision(thread.id);
    const messages = renderDraftCard({
      view: draft,
      revision,
      requestedBy: await named(requestedBy),
      live: true,
    });
    const posted = await postAll(thread, messages);
    const last = messages.at(-1);
    const lastTs = posted.at(-1);
    if (!last || !lastTs) return;
    const previous = await drafting.noteCard(thread.id, {
      ts: lastTs,
      revision,
      payload: JSON.stringify(last),
    });
    if (previous.previousTs && previous.previousPayload) {
      try {
        const old = JSON.parse(previous.previousPayload) as SlackMessage;
        await editor.edit(
          thread.channelId,
          previous.previousTs,
          renderSupersededCard(old, draft.frameworkVersion ?? revision),
        );
      } catch (error) {
        log.warn({ threadId: thread.id, err: describe(error) }, "slack.supersede_failed");
      }
    }
  }

  async function onResult(outcome: Extract<TurnOutcome, { type: "result" }>) {
    const { thread, draft } = outcome;
    let posted = false;
    try {
      const turns = await turnsOf(thread.id, outcome.turnIds);
      // The card first: it is what people wait for. If Slack refuses it, the reply still shows.
      if (outcome.draftChanged) {
        try {
          if (outcome.kind === "examples") {
            const requestedBy = await named(outcome.requestedBy);
            await postAll(
              thread,
              renderExamplesCard({ view: draft, requestedBy, leadNames: draft.leadNames }),
            );
          } else {
            await postCard(thread, draft, outcome.requestedBy);
          }
          posted = true;
        } catch (error) {
          log.error({ threadId: thread.id, err: describe(error) }, "slack.card_failed");
        }
      }
      const [first, ...rest] = renderReply(outcome.replies);
      if (first) {
        await replaceStatus(thread, statusTsOf(turns), first);
        if (rest.length > 0) {
          await postAll(thread, rest);
          posted = true;
        }
      }
    } finally {
      await stopIndicator(thread, posted);
    }
  }

  async function onFailed(outcome: Extract<TurnOutcome, { type: "failed" }>) {
    const { thread } = outcome;
    const turns = await turnsOf(thread.id, outcome.turnIds);
    const message = renderFailure({
      code: outcome.code,
      detail: outcome.detail,
      retryable: outcome.retryable,
      turnId: outcome.turnIds[0] ?? 0,
      kind: outcome.kind,
    });
    try {
      const ts = await replaceStatus(thread, statusTsOf(turns), message);
      await drafting.noteStatusMessage(outcome.turnIds, ts);
    } finally {
      await stopIndicator(thread, false);
    }
  }

  async function onTimedOut(outcome: Extract<TurnOutcome, { type: "timed_out" }>) {
    const { thread } = outcome;
    const turns = await turnsOf(thread.id, outcome.turnIds);
    const minutes = Math.round((options.turnTimeoutMs * (outcome.kind === "examples" ? 2 : 1)) / 60_000);
    const message = renderTimedOut({ turnId: outcome.turnIds[0] ?? 0, minutes: Math.max(1, minutes) });
    try {
      await replaceStatus(thread, statusTsOf(turns), message);
    } finally {
      await stopIndicator(thread, false);
    }
  }

  async function onMoved(outcome: Extract<TurnOutcome, { type: "moved" }>) {
    const answer = await client.chat.getPermalink({
      channel: outcome.thread.channelId,
      message_ts: outcome.thread.threadTs,
    });
    if (!answer.permalink) throw new Error("chat.getPermalink answered without a permalink");
    await post(outcome.from, renderMoved({ permalink: answer.permalink }));
  }

  return {
    handle(outcome) {
      const id = outcome.thread.id;
      switch (outcome.type) {
        case "queued":
          void enqueue(id, "queued", () => onQueued(outcome));
          return Promise.resolve();
        case "dispatched":
          void enqueue(id, "dispatched", () => onDispatched(outcome));
          return Promise.resolve();
        case "progress":
          // Run status changes are not worth a Slack call each; the indicator already says "drafting".
          return Promise.resolve();
        case "result":
          return enqueue(id, "result", () => onResult(outcome));
        case "failed":
          return enqueue(id, "failed", () => onFailed(outcome));
        case "timed_out":
          return enqueue(id, "timed_out", () => onTimedOut(outcome));
        case "moved":
          return enqueue(outcome.from.id, "moved", () => onMoved(outcome));
      }
    },
    showDraft(thread, draft, requestedBy) {
      return enqueue(thread.id, "edited", () => postCard(thread, draft, requestedBy));
    },
    async close() {
      for (const timer of indicators.values()) clock.clearTimeout(timer);
      indicators.clear();
      await Promise.allSettled([...queues.values()]);
      await editor.flush();
    },
  };
}

function uniqueAuthors(turns: TurnRecord[]): Author[] {
  const seen = new Map<string, Author>();
  for (const t of turns)
    if (!seen.has(t.authorId)) seen.set(t.authorId, { id: t.authorId, name: t.authorName });
  return [...seen.values()];
}

function describe(error: unknown): string {
  if (error && typeof error === "object" && "data" in error) {
    const data = (error as { data?: { error?: string } }).data;
    if (data?.error) return data.error;
  }
  return error instanceof Error ? error.message : String(error);
}
