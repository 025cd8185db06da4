import type { ThreadPatch, ThreadRecord, TurnPatch, TurnRecord } from "../drafting/store.ts";
import type { WorkspaceRecord } from "../drafting/workspaces.ts";

/**
 * Record field -> column, shared by every store kind. Typed as complete records so a field added to
 * the port cannot be forgotten here.
 */
export const THREAD_COLUMNS: Record<keyof ThreadRecord, string> = {
  id: "id",
  teamId: "team_id",
  channelId: "channel_id",
  threadTs: "thread_ts",
  sessionId: "session_id",
  campaignId: "campaign_id",
  nodeId: "node_id",
  startedBy: "started_by",
  createdAt: "created_at",
  draftHash: "draft_hash",
  turnCount: "turn_count",
  messageCount: "message_count",
  endedAt: "ended_at",
  endedReason: "ended_reason",
  savedAt: "saved_at",
  draftVersion: "draft_version",
};

export const TURN_COLUMNS: Record<keyof TurnRecord, string> = {
  id: "id",
  threadId: "thread_id",
  kind: "kind",
  state: "state",
  text: "text",
  authorId: "author_id",
  authorName: "author_name",
  slackTs: "slack_ts",
  batchId: "batch_id",
  sentText: "sent_text",
  runId: "run_id",
  runToken: "run_token",
  messageCountAtDispatch: "message_count_at_dispatch",
  attempts: "attempts",
  failureCode: "failure_code",
  failureDetail: "failure_detail",
  timedOutAt: "timed_out_at",
  deadlineAt: "deadline_at",
  leadCount: "lead_count",
  createdAt: "created_at",
  dispatchedAt: "dispatched_at",
  finishedAt: "finished_at",
};

export const THREAD_PATCH_FIELDS = Object.keys({
  sessionId: true,
  draftHash: true,
  turnCount: true,
  messageCount: true,
  campaignId: true,
  nodeId: true,
  savedAt: true,
  draftVersion: true,
} satisfies Record<keyof ThreadPatch, true>) as (keyof ThreadPatch)[];

export const TURN_PATCH_FIELDS = Object.keys({
  state: true,
  batchId: true,
  sentText: true,
  runId: true,
  runToken: true,
  messageCountAtDispatch: true,
  attempts: true,
  failureCode: true,
  failureDetail: true,
  timedOutAt: true,
  deadlineAt: true,
  dispatchedAt: true,
  finishedAt: true,
  authorName: true,
} satisfies Record<keyof TurnPatch, true>) as (keyof TurnPatch)[];

/** `column AS "field"` for every field: each row is the record itself, with no mapping code. */
export function selectList(columns: Record<string, string>, quote = false): string {
  return Object.entries(columns)
    .map(([field, column]) => `${column} AS ${quote ? `"${field}"` : field}`)
    .join(", ");
}

/**
 * Turns a thread still has work for: waiting, maybe sent, or sent and watched. Spelled once, because
 * the stores' partial indexes must match the queries' wording exactly to be used.
 */
export const OPEN_TURN = "state IN ('pending', 'sending') OR (state = 'dispatched' AND timed_out_at IS NULL)";

/** The fields of a patch that are set (undefined means "leave as it is"). */
export function setFields<K extends string>(
  fields: readonly K[],
  patch: Readonly<Partial<Record<K, unknown>>>,
): K[] {
  return fields.filter((field) => patch[field] !== undefined);
}

/** A workspace row as both stores select it (columns aliased to these names). */
export interface WorkspaceRow {
  teamId: string;
  puffleKeyEncrypted: string | null;
  puffleKeyLast4: string | null;
  puffleKeySetBy: string | null;
  puffleKeySetAt: number | null;
  defaultCampaignId: string | null;
  defaultNodeId: string | null;
  defaultSetBy: string | null;
}

/** A workspace row as the port's record: the default step is a pair or nothing. */
export function workspaceRecordOf(row: WorkspaceRow): WorkspaceRecord {
  return {
    teamId: row.teamId,
    puffleKeyEncrypted: row.puffleKeyEncrypted,
    puffleKeyLast4: row.puffleKeyLast4,
    puffleKeySetBy: row.puffleKeySetBy,
    puffleKeySetAt: row.puffleKeySetAt,
    defaultStep:
      row.defaultCampaignId && row.defaultNodeId
        ? { campaignId: row.defaultCampaignId, nodeId: row.defaultNodeId }
        : null,
    defaultSetBy: row.defaultSetBy,
  };
}
