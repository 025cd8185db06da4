import type { PuffleErrorCode } from "../puffle/errors.ts";
import type { DraftView } from "./draft-view.ts";
import type { ThreadRecord, TurnKind } from "./store.ts";

/**
 * What the drafting core tells the Slack layer. Plain values: no Block Kit here.
 * Every outcome names the thread and the turns (Slack messages) it is about.
 */
export interface Author {
  id: string;
  name: string | null;
}

/** Why a turn failed: a Puffle error code, or one of ours. */
export type FailureCode =
  | PuffleErrorCode
  /** The task ended without a new assistant message (or without examples). */
  | "no_reply"
  /** Generate examples needs more campaign leads than there are. */
  | "not_enough_leads"
  /** The dispatch could not be confirmed after several tries. */
  | "not_confirmed"
  /** Something unexpected on our side (logged with details). */
  | "internal"
  /** The workspace uninstalled the app: the thread's work ended (nothing is shown: there is no token). */
  | "uninstalled"
  /** The workspace has no Puffle key yet (an admin connects one in the Home tab). */
  | "no_puffle_key";

/**
 * The lease the outcome was produced under. The Slack layer checks it before each write: a replica
 * that lost the thread to another one shows nothing more of it.
 */
export interface Fence {
  readonly held: boolean;
  /** Throws when the lease is lost. */
  assertHeld(): void;
}

interface OutcomeBase {
  thread: ThreadRecord;
  turnIds: number[];
  kind: TurnKind;
  fence: Fence;
}

/** A message waiting to be sent, as the thread's status shows it. */
export interface WaitingTurn {
  id: number;
  author: Author;
}

export type TurnOutcome =
  /** Waiting: behind our own running task, or Puffle answered 409 busy. `waiting`: every message waiting now. */
  | (OutcomeBase & {
      type: "queued";
      reason: "behind_current_task" | "session_busy";
      waiting: WaitingTurn[];
    })
  /** Puffle accepted the turn and the task runs. */
  | (OutcomeBase & {
      type: "dispatched";
      turnNumber: number;
      leadCount: number | null;
      requestedBy: Author[];
      /** Messages that did not fit in this batch and wait for the next one. */
      stillWaiting: WaitingTurn[];
      /** The reply may stream in (realtime is on and the run can be followed). */
      streamable: boolean;
    })
  /** A piece of the reply as Puffle writes it (realtime streams), in order. */
  | (OutcomeBase & { type: "text"; delta: string; recipient: Author })
  /** The realtime feed reported a run status change. */
  | (OutcomeBase & { type: "progress"; runStatus: string; streams: string[] })
  /** The task finished: the assistant's new messages and the draft as it now stands. */
  | (OutcomeBase & {
      type: "result";
      replies: string[];
      draft: DraftView;
      /** True when skeleton, subject or body changed since the last card (or examples arrived). */
      draftChanged: boolean;
      requestedBy: Author[];
    })
  | (OutcomeBase & {
      type: "failed";
      code: FailureCode;
      /** Puffle's own words, when it gave some (never a stack trace or a secret). */
      detail: string | null;
      /** A "Retry" button makes sense (resends the same message). */
      retryable: boolean;
    })
  /** The watch deadline passed; the task may still finish ("Check again"). */
  | (OutcomeBase & { type: "timed_out" })
  /**
   * Puffle returned a session already mapped to another thread: the turns moved there.
   * `thread` is the thread that now holds them; `from` is where the message was written.
   */
  | (OutcomeBase & { type: "moved"; from: ThreadRecord })
  /** The workspace has no Puffle account yet: the messages wait until an admin connects a key. */
  | (OutcomeBase & { type: "needs_key" })
  /** Someone edited the draft by hand (no turn): a new card shows it. */
  | (OutcomeBase & { type: "edited"; draft: DraftView; requestedBy: Author[]; editId: string });

export type OutcomeSink = (outcome: TurnOutcome) => void | Promise<void>;
