// What a finished task writes into its session. A chat turn is planned when its task starts (the task
// reads the session, then the model writes) and applied when it ends, so the reply streamed while the
// task runs is exactly the assistant message saved at the end.
import { type Draft, draftTurn, writeExamples } from "./drafting.ts";
import type { ExamplesRequest, TurnRequest } from "./requests.ts";
import type { ContentFault, ScriptedReply } from "./scenarios.ts";
import type { Session } from "./state.ts";

type Revision = { draft: Draft; skeleton: Record<string, unknown> };

export interface TurnPlan {
  /** The reply the task saves; undefined when it saves none (the no_assistant_message fault). */
  assistant: string | undefined;
  scripted: ScriptedReply | undefined;
  revision: Revision | undefined;
}

/** The fake model's answer to this turn, from the session as it is now. */
export function planTurn(
  session: Session,
  request: TurnRequest,
  content: ContentFault | undefined,
): TurnPlan {
  if (content?.kind === "no_assistant_message") {
    return { assistant: undefined, scripted: undefined, revision: undefined };
  }
  const earlier = session.messages ?? [];
  const userMessages = earlier.filter((message) => message.role === "user");
  const outcome = draftTurn({
    message: request.message,
    brief: userMessages[0]?.content ?? request.message,
    isFirstTurn: session.skeleton === null && userMessages.length === 0,
    currentDraft: currentDraftOf(session),
    nextVersion: (session.framework_version ?? 0) + 1,
    sampleLead: request.sampleLeads?.[0],
  });
  const scripted = content?.kind === "scripted_reply" ? content : undefined;
  return { assistant: scripted?.assistant ?? outcome.assistant, scripted, revision: outcome.revision };
}

/** What the framework-chat-turn task does when it ends: transcript, draft, skeleton, then release. */
export function applyTurn(session: Session, request: TurnRequest, plan: TurnPlan): void {
  const withUserMessage = [...(session.messages ?? []), { role: "user", content: request.message }];
  if (plan.assistant === undefined) {
    session.messages = withUserMessage;
    release(session);
    return;
  }
  applyRevision(session, plan.scripted, plan.revision);
  session.messages = [...withUserMessage, { role: "assistant", content: plan.assistant }];
  release(session);
}

/**
 * What generate-examples does when it ends. Our choice (the docs are silent): it also appends an
 * assistant message "Generated N examples." so the transcript shows that the run happened.
 */
export function applyExamples(
  session: Session,
  request: ExamplesRequest,
  content: ContentFault | undefined,
): void {
  if (content?.kind === "no_assistant_message") {
    release(session);
    return;
  }
  const examples = writeExamples(currentDraftOf(session) ?? { subject: "", body: "" }, request.leads);
  session.generated_examples = request.isFirstBatch
    ? examples
    : [...(session.generated_examples ?? []), ...examples];
  const scripted = content?.kind === "scripted_reply" ? content : undefined;
  applyRevision(session, scripted, undefined);
  const summary = `Generated ${examples.length} example${examples.length === 1 ? "" : "s"}.`;
  session.messages = [
    ...(session.messages ?? []),
    { role: "assistant", content: scripted?.assistant ?? summary },
  ];
  release(session);
}

/** Scripted values win over the fake model's; history keeps what was there before a change. */
function applyRevision(
  session: Session,
  scripted: ScriptedReply | undefined,
  revision: Revision | undefined,
) {
  const skeleton =
    scripted?.skeleton !== undefined ? scripted.skeleton : (revision?.skeleton ?? session.skeleton);
  const subject = scripted?.draft_subject ?? revision?.draft.subject ?? session.draft_subject;
  const body = scripted?.draft_body ?? revision?.draft.body ?? session.draft_body;

  if (JSON.stringify(skeleton) !== JSON.stringify(session.skeleton)) {
    session.skeleton_history = [
      ...(session.skeleton_history ?? []),
      ...(session.skeleton ? [session.skeleton] : []),
    ];
    if (skeleton) session.framework_version = (session.framework_version ?? 0) + 1;
    session.skeleton = skeleton;
  }
  if (subject !== session.draft_subject || body !== session.draft_body) {
    const hadDraft = session.draft_subject !== null || session.draft_body !== null;
    const previous = hadDraft ? [{ subject: session.draft_subject, body: session.draft_body }] : [];
    session.draft_history = [...(session.draft_history ?? []), ...previous];
    session.draft_subject = subject;
    session.draft_body = body;
  }
}

function release(session: Session): void {
  session.task_status = null;
  session.updated_at = nextTimestamp(session.updated_at);
}

/** The draft the next revision starts from: what the user sees (maybe PATCHed), else the skeleton's. */
function currentDraftOf(session: Session): Draft | null {
  if (session.draft_subject !== null && session.draft_body !== null) {
    return { subject: session.draft_subject, body: session.draft_body };
  }
  const { subject, body } = session.skeleton ?? {};
  return typeof subject === "string" && typeof body === "string" ? { subject, body } : null;
}

/** Strictly later than `previous`, so a client comparing updated_at never misses two changes in one ms. */
export function nextTimestamp(previous: string): string {
  return new Date(Math.max(Date.now(), Date.parse(previous) + 1)).toISOString();
}
