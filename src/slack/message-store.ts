/**
 * What the Slack layer remembers about the messages it posted: every post by a key of ours (so a post
 * whose answer was lost, or a crash between a post and this record, never makes a second copy), which
 * status message shows which turns, and the draft cards of each thread (the live one and the ones to
 * mark superseded). The drafting store knows none of this; implementations live in src/store/, in the
 * same database, so every replica sees what another one posted.
 */

/** Where a keyed post stands. */
export type PostState =
  /** Never tried: post it. */
  | { state: "new" }
  /** Posted, and Slack's ts is known. */
  | { state: "posted"; ts: string }
  /** Tried before without a known outcome (a lost answer, a crash): look in the thread before posting. */
  | { state: "uncertain" };

/** One message of a draft card as posted. */
export interface CardRecord {
  threadId: number;
  /** Our own counter, carried in the card's buttons; grows by one per card. */
  revision: number;
  ts: string;
  /** The message as posted (JSON), to re-render it as superseded. */
  payload: string;
  /** What the card shows (a batch's result, an edit): showing the same thing again reuses the card. */
  source: string;
  supersededAt: number | null;
}

export interface SlackMessageStore {
  /**
   * Marks the post `key` as being attempted and tells how it stands. A key is ours alone (e.g.
   * "reply:42:7"); the thread id lets a thread's records be found again.
   */
  beginPost(key: string, threadId: number, now: number): Promise<PostState>;
  /** Slack answered the post (or it was found in the thread) with `ts`. */
  completePost(key: string, ts: string): Promise<void>;
  /** The ts of a completed post, if any. */
  postedTs(key: string): Promise<string | undefined>;

  /** The key of the status message showing any of these turns, if one was posted or is being posted. */
  statusKeyFor(turnIds: readonly number[]): Promise<string | undefined>;
  /** Shows these turns in the status message `key` (replacing any link they had). */
  linkStatus(turnIds: readonly number[], key: string): Promise<void>;
  /** These turns no longer share a status message (a batch split from the messages queued with it). */
  unlinkStatus(turnIds: readonly number[]): Promise<void>;

  /** The card with the highest revision, if the thread has one. */
  liveCard(threadId: number): Promise<CardRecord | undefined>;
  /** Records a posted card; a revision already recorded is left as it was (answers false). */
  addCard(card: Omit<CardRecord, "supersededAt">): Promise<boolean>;
  /** Cards older than the live one that still show their buttons. */
  cardsToSupersede(threadId: number): Promise<CardRecord[]>;
  markSuperseded(threadId: number, revision: number, now: number): Promise<void>;
}
