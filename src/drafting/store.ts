/**
 * The drafting store port: threads, turns, delivery keys, saved choices, and what several replicas
 * need to share them (leases, fenced writes, wake-ups). Implementations live in src/store/ (SQLite,
 * PostgreSQL) and pass the shared contract suite in test/contract/.
 *
 * Everything is async so that a networked database fits the same shape.
 */

/** Where a conversation lives in Slack. */
export interface ThreadRef {
  teamId: string;
  channelId: string;
  threadTs: string;
}

/** A campaign + sequence step: what a Puffle session drafts. */
export interface StepChoice {
  campaignId: string;
  nodeId: string;
}

export interface ThreadRecord extends ThreadRef {
  id: number;
  /** Null until Puffle created the session (the first turn is recorded before that call). */
  sessionId: string | null;
  /** Null while the thread waits for someone to pick a campaign and step. */
  campaignId: string | null;
  nodeId: string | null;
  startedBy: string;
  createdAt: number;
  /** Fingerprint of the skeleton + subject + body last shown, to tell whether the draft changed. */
  draftHash: string | null;
  /** Chat turns dispatched so far in this thread ("turn 3"). */
  turnCount: number;
  /** The session's `messages` length at the last read, where the next turn's answer will start. */
  messageCount: number;
  /** Set when the thread's work stopped for good (its workspace uninstalled the app). */
  endedAt: number | null;
  endedReason: string | null;
  /** When the draft was last saved to its campaign step. */
  savedAt: number | null;
  /** The framework version of the draft last shown. */
  draftVersion: number | null;
}

export type ThreadPatch = Partial<
  Pick<
    ThreadRecord,
    | "sessionId"
    | "draftHash"
    | "turnCount"
    | "messageCount"
    | "campaignId"
    | "nodeId"
    | "savedAt"
    | "draftVersion"
  >
>;

export interface NewThread extends ThreadRef {
  /** Absent when the thread must wait for a campaign and step to be picked. */
  campaignId?: string | null;
  nodeId?: string | null;
  startedBy: string;
  sessionId?: string | null;
}

/**
 * Lifecycle of one human input:
 * pending -> sending (a /turn call may be in flight) -> dispatched (Puffle accepted it) -> done | failed.
 * "sending" is what lets a restart tell "maybe sent" from "surely not sent".
 */
export type TurnState = "pending" | "sending" | "dispatched" | "done" | "failed";
export type TurnKind = "chat" | "examples";

export interface TurnRecord {
  id: number;
  threadId: number;
  kind: TurnKind;
  state: TurnState;
  /** What the person wrote (chat) or a short description (examples). */
  text: string;
  authorId: string;
  authorName: string | null;
  /** Slack ts of the human message (or of the click's message) that made this turn. */
  slackTs: string | null;
  /** Turns sent together share the batch id (the id of the first turn of the batch). */
  batchId: number | null;
  /** The exact message sent to Puffle for the batch (merged and attributed). */
  sentText: string | null;
  runId: string | null;
  /** Trigger.dev public access token of the run; kept to resume realtime after a restart. */
  runToken: string | null;
  /** The session's message count recorded at dispatch: the answer is what comes after it. */
  messageCountAtDispatch: number | null;
  attempts: number;
  failureCode: string | null;
  failureDetail: string | null;
  /** Set when the watch deadline passed: still dispatched, resumable by "check again". */
  timedOutAt: number | null;
  /** When the watch gives up; null means dispatch time plus the usual timeout ("check again" sets it). */
  deadlineAt: number | null;
  /** For examples: how many leads were sent. */
  leadCount: number | null;
  createdAt: number;
  dispatchedAt: number | null;
  finishedAt: number | null;
}

export interface NewTurn {
  threadId: number;
  kind: TurnKind;
  text: string;
  authorId: string;
  authorName?: string | null;
  slackTs?: string | null;
  leadCount?: number | null;
}

export type TurnPatch = Partial<
  Pick<
    TurnRecord,
    | "state"
    | "batchId"
    | "sentText"
    | "runId"
    | "runToken"
    | "messageCountAtDispatch"
    | "attempts"
    | "failureCode"
    | "failureDetail"
    | "timedOutAt"
    | "deadlineAt"
    | "dispatchedAt"
    | "finishedAt"
    | "authorName"
  >
>;

export interface SavedChoice extends StepChoice {
  setBy: string;
  updatedAt: number;
}

/** Deduplication keys are remembered this long (Slack retries for about 5 minutes; 24 h is generous). */
export const DELIVERY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The right to drive one thread (send its turns, watch its task, show its results), held by one
 * replica at a time. `token` grows with every new holder: a write fenced by an older token is refused.
 */
export interface LeaseRef {
  threadId: number;
  owner: string;
  token: number;
}

export interface Lease extends LeaseRef {
  /** Clock time the lease lapses unless renewed. */
  expiresAt: number;
  /** The replica whose lapsed lease this one replaces (a takeover after a crash), else null. */
  takenFrom: string | null;
}

/** A fenced write found that its lease is no longer the thread's: another replica drives it now. */
export class LeaseLostError extends Error {
  constructor(readonly threadId: number) {
    super(`the lease on thread ${threadId} is held by another replica now`);
    this.name = "LeaseLostError";
  }
}

export interface DraftStore {
  /**
   * Claims every key at once. Returns false (and claims nothing) when any of them was seen
   * before and has not expired.
   */
  claimDeliveries(keys: readonly string[], now: number): Promise<boolean>;
  /** Deletes expired delivery keys; returns how many. */
  pruneDeliveries(now: number): Promise<number>;

  /** Creates the thread and its first turn in one transaction, claiming the delivery keys. */
  createThreadWithTurn(
    thread: NewThread,
    turn: Omit<NewTurn, "threadId">,
    options: { dedupeKeys?: readonly string[]; now: number },
  ): Promise<{ thread: ThreadRecord; turn: TurnRecord } | "duplicate" | "thread_exists">;
  createThread(thread: NewThread, now: number): Promise<ThreadRecord | "thread_exists">;
  getThread(ref: ThreadRef): Promise<ThreadRecord | undefined>;
  getThreadById(id: number): Promise<ThreadRecord | undefined>;
  getThreadBySession(sessionId: string): Promise<ThreadRecord | undefined>;
  /** With `fence`, applies only while that lease is the thread's current one, else LeaseLostError. */
  updateThread(id: number, patch: ThreadPatch, fence?: LeaseRef): Promise<void>;
  /** Deletes the thread and its turns (fenced like updateThread). */
  deleteThread(id: number, fence?: LeaseRef): Promise<void>;

  getChannelChoice(teamId: string, channelId: string): Promise<SavedChoice | undefined>;
  setChannelChoice(
    teamId: string,
    channelId: string,
    choice: StepChoice,
    setBy: string,
    now: number,
  ): Promise<void>;
  getUserChoice(teamId: string, userId: string): Promise<SavedChoice | undefined>;
  setUserChoice(teamId: string, userId: string, choice: StepChoice, now: number): Promise<void>;

  /** Records a turn as pending, claiming the delivery keys in the same transaction. */
  addTurn(
    turn: NewTurn,
    options: { dedupeKeys?: readonly string[]; now: number },
  ): Promise<TurnRecord | "duplicate">;
  getTurn(id: number): Promise<TurnRecord | undefined>;
  /** Turns of a thread in creation order, optionally only in the given states. */
  listTurns(threadId: number, states?: readonly TurnState[]): Promise<TurnRecord[]>;
  /**
   * Patches turns. With `fence` (the lease of the turns' thread), applies only while that lease is
   * current, else throws LeaseLostError and changes nothing.
   */
  updateTurns(ids: readonly number[], patch: TurnPatch, fence?: LeaseRef): Promise<void>;
  /** Moves turns to another thread (a session already mapped elsewhere); fenced by the source thread's lease. */
  moveTurns(ids: readonly number[], threadId: number, fence?: LeaseRef): Promise<void>;
  /** Threads with pending, sending, or dispatched-and-not-timed-out turns: the work a restart resumes. */
  listThreadsWithOpenTurns(): Promise<ThreadRecord[]>;
  /** A team's threads with open turns (woken when the workspace connects a Puffle key). */
  threadsWithOpenTurnsOfTeam(teamId: string): Promise<number[]>;
  /** The threads `userId` started in `teamId`, newest first (the App Home's recent drafts). */
  threadsStartedBy(teamId: string, userId: string, limit: number): Promise<ThreadRecord[]>;
  /**
   * Ends every thread of a team for good (the app was uninstalled): open turns fail with `reason`,
   * leases are voided (a driver's next fenced write fails), nothing is left to retry. Answers the ids.
   */
  endThreadsOfTeam(teamId: string, reason: string, now: number): Promise<number[]>;

  // ---- several replicas (SPEC 7)

  /**
   * Takes the thread's lease for `owner` when it is free, lapsed, or already `owner`'s (then it is
   * renewed, same token). Answers undefined while another owner holds it.
   */
  acquireLease(threadId: number, owner: string, now: number, ttlMs: number): Promise<Lease | undefined>;
  /** Extends the given leases of `owner`; answers the thread ids still held (the others were lost). */
  renewLeases(leases: readonly LeaseRef[], now: number, ttlMs: number): Promise<number[]>;
  /** Gives leases up at once (a graceful stop, or a loop with nothing left to do). */
  releaseLeases(leases: readonly LeaseRef[]): Promise<void>;
  /** Threads with open turns whose lease is free or lapsed: work no replica drives. */
  threadsWithoutDriver(now: number, limit: number): Promise<number[]>;
  /** Messages waiting to be sent, across all threads (the metrics' queued turns). */
  countPendingTurns(): Promise<number>;
  /** Tells every replica (this one too) that a thread has new work. */
  wake(threadId: number): Promise<void>;
  /** Calls `listener` for every wake-up, from any replica; returns a function that stops listening. */
  onWake(listener: (threadId: number) => void): () => void;

  close(): Promise<void>;
}

/** A thread whose campaign and step are known: the only kind the engine can draft for. */
export type ReadyThread = ThreadRecord & StepChoice;

export function hasStep(thread: ThreadRecord): thread is ReadyThread {
  return thread.campaignId !== null && thread.nodeId !== null;
}
