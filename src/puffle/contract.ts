/**
 * Every choice we made where Puffle's docs are silent or contradict themselves
 * ("[our choice]" in puffle-api.md), in one place so it is easy to change when real
 * traffic disagrees.
 */
export const CONTRACT = {
  /** Hints: how many campaign prospects go into `sampleLeads` on every turn. */
  sampleLeadCount: 5,
  /** Hints: the standard lead fields offered as merge variables, plus every custom_fields key seen. */
  standardVarNames: [
    "first_name",
    "last_name",
    "full_name",
    "company",
    "position",
    "headline",
    "linkedin_url",
  ],
  /** Node types that count as sequence steps for `sequenceContext.total_nodes` and `prior_nodes`. */
  sendableNodeTypes: ["email", "ai", "message", "connection_request"],
  /** Node types a chat session drafts: the picker offers these. */
  draftableNodeTypes: ["email", "ai"],
  /** "Save to campaign" writes `{ subject, body }` to email nodes of draft campaigns only. */
  savableNodeTypes: ["email"],
  savableCampaignStatus: "draft",
  /** Generate examples sends this many campaign leads (Puffle takes 3 to 10). */
  examplesLeads: { min: 3, max: 5 },
  /** Hints are cached per campaign this long; a failed fetch is not retried for `hintsFailureTtlMs`. */
  hintsTtlMs: 10 * 60 * 1000,
  hintsFailureTtlMs: 30 * 1000,
  /**
   * A task that clears task_status without a new assistant message failed (Puffle does not
   * document a failure shape).
   */
  failedTaskHasNoAssistantMessage: true,
  /**
   * A second create for the same step may return an existing session: we never share a session
   * between two threads silently (see drafting-service).
   */
  neverShareSessions: true,
  /**
   * Polling cadence. The docs ask for one GET per session every 2 to 5 s at most; SPEC section 6
   * (the later word) asks that polling alone find a finished task in at most 0.6 x the time of a
   * plain 2-second poller, which no schedule can do at >= 2 s spacing when task durations vary
   * by more than 2 s. So: 2 s backing off to 5 s while durations are unknown or realtime follows
   * the run, and one read every `pollIntervalMs / 4` only inside the window where tasks of that
   * kind usually end (see drafting/poll-schedule.ts). A 429 from Puffle is still honoured.
   */
  pollFastFraction: 0.25,
  /** Realtime subscriptions at once per process (each costs about 100 KB in the SDK); the rest poll. */
  realtimeMaxConcurrent: 100,
} as const;
