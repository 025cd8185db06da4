import type { Session } from "../puffle/schemas.ts";
import type { Author, WaitingTurn } from "./outcomes.ts";
import type { TurnRecord } from "./store.ts";

/**
 * Pure rules about batches of turns: which waiting messages go together, the text Puffle gets for
 * them, and what the session's transcript says about a batch (did Puffle get it, what did it answer).
 */

/** Messages merged into one turn at most (the rest go in the next turn). */
export const MAX_BATCH = 20;

/** The turns of the first batch in the list. */
export function batchOf(turns: readonly TurnRecord[]): TurnRecord[] {
  const first = turns[0];
  if (!first) return [];
  return turns.filter((t) => (t.batchId ?? t.id) === (first.batchId ?? first.id));
}

/** Consecutive pending chat messages (merged into one turn, at most MAX_BATCH), or a single examples request. */
export function takeBatch(pending: readonly TurnRecord[]): TurnRecord[] {
  const first = pending[0];
  if (!first || first.kind === "examples") return first ? [first] : [];
  const batch: TurnRecord[] = [];
  for (const turn of pending) {
    if (turn.kind !== "chat" || batch.length >= MAX_BATCH) break;
    batch.push(turn);
  }
  return batch;
}

/**
 * The text sent to Puffle: one message as written; one author's several joined; several people's
 * attributed (a message already in its author's name, like a card's feedback, is not named twice).
 */
export function mergeMessages(batch: readonly TurnRecord[]): string {
  if (batch.length === 1) return batch[0]?.text ?? "";
  const authors = new Set(batch.map((t) => t.authorId));
  if (authors.size === 1) return batch.map((t) => t.text).join("\n\n");
  return batch
    .map((t) => {
      const name = `${t.authorName ?? t.authorId}: `;
      return t.text.startsWith(name) ? t.text : `${name}${t.text}`;
    })
    .join("\n");
}

/** Each author once, in the order they first wrote. */
export function authorsOf(turns: readonly TurnRecord[]): Author[] {
  const seen = new Map<string, Author>();
  for (const turn of turns)
    if (!seen.has(turn.authorId)) seen.set(turn.authorId, { id: turn.authorId, name: turn.authorName });
  return [...seen.values()];
}

export function waitingOf(turns: readonly TurnRecord[]): WaitingTurn[] {
  return turns.map((t) => ({ id: t.id, author: { id: t.authorId, name: t.authorName } }));
}

/** Did the session get this batch? Its user message appears after the count recorded at dispatch. */
export function wasReceived(session: Session, first: TurnRecord): boolean {
  const after = (session.messages ?? []).slice(first.messageCountAtDispatch ?? 0);
  if (first.kind === "examples")
    return after.some((m) => m.role === "assistant") || Boolean(session.generated_examples?.length);
  const sent = (first.sentText ?? "").trim();
  return after.some((m) => m.role === "user" && m.content.trim() === sent);
}

/** The assistant messages that answer this batch. */
export function repliesFor(session: Session, first: TurnRecord): string[] {
  const after = (session.messages ?? []).slice(first.messageCountAtDispatch ?? 0);
  const sent = (first.sentText ?? "").trim();
  const userIndex =
    first.kind === "chat" ? after.findIndex((m) => m.role === "user" && m.content.trim() === sent) : -1;
  const replies: string[] = [];
  for (const message of after.slice(userIndex + 1)) {
    if (message.role === "user" && userIndex >= 0) break;
    if (message.role === "assistant" && message.content.trim()) replies.push(message.content);
  }
  return replies;
}
