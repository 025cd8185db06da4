/**
 * Every Slack identifier the app registers, in one place. manifest.yml must agree with these
 * (a test checks it).
 */
export const COMMAND = "/draft";

/** Message shortcut "Draft from this message". */
export const SHORTCUT_DRAFT_FROM_MESSAGE = "draft_from_message";

/** Refine buttons: each sends a turn with a clear instruction. */
export const REFINES = {
  shorter: {
    label: "Shorter",
    instruction: "Make the email shorter: keep the core message and the ask, cut everything else.",
  },
  warmer: {
    label: "Warmer",
    instruction: "Make the tone warmer and more personal, without flattery or filler.",
  },
  direct: {
    label: "More direct",
    instruction: "Make it more direct: lead with the point, remove hedging, and ask plainly.",
  },
  subjects: {
    label: "New subject lines",
    instruction: "Suggest three new subject lines and use the strongest one as the subject.",
  },
  cta: {
    label: "Stronger CTA",
    instruction: "Make the call to action stronger and more specific, with one clear next step.",
  },
} as const;
export type RefineKind = keyof typeof REFINES;

export const ACTIONS = {
  /** `draft.refine:<kind>`: one action id per refine button (ids are unique within a block). */
  refinePrefix: "draft.refine:",
  custom: "draft.custom",
  examples: "draft.examples",
  edit: "draft.edit",
  save: "draft.save",
  /** Thumbs up and down on the latest card (one `feedback_buttons` element; the value says which). */
  feedback: "draft.feedback",
  retry: "turn.retry",
  checkAgain: "turn.check_again",
  openPicker: "picker.open",
  /** Picker modal: choosing a campaign reloads its steps. */
  pickerCampaign: "picker.campaign_select",
  pickerStep: "picker.step_select",
  /** Home tab: connect (or change) the workspace's Puffle key, disconnect it, change the default step. */
  homeConnect: "home.connect",
  homeDisconnect: "home.disconnect",
  homeChangeDefault: "home.change_default",
} as const;

export const VIEWS = {
  picker: "picker.submit",
  custom: "refine.custom_submit",
  edit: "draft.edit_submit",
  /** "What should change?" after a thumbs down. */
  feedback: "feedback.submit",
  /** The "Connect Puffle" modal (one input: the workspace's Puffle API key). */
  puffleKey: "home.key_submit",
} as const;

/** Block and action ids of modal inputs, read back from `view.state.values`. */
export const INPUTS = {
  campaign: { block: "picker.campaign", action: ACTIONS.pickerCampaign },
  step: { block: "picker.step", action: ACTIONS.pickerStep },
  brief: { block: "picker.brief", action: "picker.brief_input" },
  remember: { block: "picker.remember", action: "picker.remember_input" },
  instruction: { block: "refine.instruction", action: "refine.instruction_input" },
  feedback: { block: "feedback.answer", action: "feedback.answer_input" },
  subject: { block: "edit.subject", action: "edit.subject_input" },
  body: { block: "edit.body", action: "edit.body_input" },
  puffleKey: { block: "home.key", action: "home.key_input" },
} as const;

export const refineActionId = (kind: RefineKind) => `${ACTIONS.refinePrefix}${kind}`;

/**
 * Button values carry identifiers only; on click they are checked against the store.
 * Card buttons: "<sessionId>:<cardRevision>". Turn buttons: "turn:<turnId>".
 */
export function cardButtonValue(sessionId: string, revision: number): string {
  return `${sessionId}:${revision}`;
}

export function parseCardButtonValue(value: unknown): { sessionId: string; revision: number } | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^([A-Za-z0-9-]{1,64}):(\d{1,9})$/.exec(value);
  if (!match?.[1] || !match[2]) return undefined;
  return { sessionId: match[1], revision: Number(match[2]) };
}

export type FeedbackRating = "up" | "down";

/** Feedback buttons: "<rating>:<sessionId>:<cardRevision>" (the clicked button's value is all Slack sends). */
export function feedbackButtonValue(rating: FeedbackRating, sessionId: string, revision: number): string {
  return `${rating}:${cardButtonValue(sessionId, revision)}`;
}

export function parseFeedbackButtonValue(
  value: unknown,
): { rating: FeedbackRating; sessionId: string; revision: number } | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(up|down):(.*)$/.exec(value);
  const card = match ? parseCardButtonValue(match[2]) : undefined;
  return match && card ? { rating: match[1] as FeedbackRating, ...card } : undefined;
}

export function turnButtonValue(turnId: number): string {
  return `turn:${turnId}`;
}

export function parseTurnButtonValue(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^turn:(\d{1,12})$/.exec(value);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** The picker button on a thread waiting for a step: "thread:<threadId>". */
export function threadButtonValue(threadId: number): string {
  return `thread:${threadId}`;
}

export function parseThreadButtonValue(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^thread:(\d{1,12})$/.exec(value);
  return match?.[1] ? Number(match[1]) : undefined;
}
