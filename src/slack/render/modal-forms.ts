import { z } from "zod";
import { INPUTS } from "../ids.ts";
import { SLACK_LIMITS as L } from "../limits.ts";
import { wellFormed } from "../text.ts";
import { SUBJECT_MAX } from "./modals.ts";
import { REMEMBER_VALUE } from "./picker-modal.ts";

/**
 * Reading back what people submitted in the modals. Submitted values are untrusted: everything is
 * read through zod, and a problem becomes a field error the modal shows.
 */

/** Field errors keyed by block_id, as `response_action: "errors"` takes them. */
export type FormResult<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

const ActionStateSchema = z.looseObject({
  value: z.string().max(L.plainTextInput).nullish(),
  selected_option: z.looseObject({ value: z.string().max(L.optionValue) }).nullish(),
  selected_options: z.array(z.looseObject({ value: z.string().max(L.optionValue) })).nullish(),
});
type ActionState = z.infer<typeof ActionStateSchema>;
type StateValues = Record<string, Record<string, ActionState>>;

const SubmittedViewSchema = z.looseObject({
  state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), ActionStateSchema)) }),
});

/** Reads `view.state.values`; a view that does not parse puts one error on `fallbackBlockId`. */
function readState<T>(
  view: unknown,
  fallbackBlockId: string,
  read: (values: StateValues, errors: Record<string, string>) => T,
): FormResult<T> {
  const parsed = SubmittedViewSchema.safeParse(view);
  if (!parsed.success) {
    return {
      ok: false,
      errors: { [fallbackBlockId]: "This form could not be read. Close it and try again." },
    };
  }
  const errors: Record<string, string> = {};
  const value = read(parsed.data.state.values, errors);
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, value };
}

/** The trimmed text of an input, or null when nothing was written. */
const textOf = (state: ActionState | undefined) =>
  (state?.value ? wellFormed(state.value).trim() : "") || null;

/** Only spaces or line breaks: neither "keep it" (empty) nor a real value. */
const isBlank = (state: ActionState | undefined) => Boolean(state?.value) && !state?.value?.trim();

export interface PickerValues {
  campaignId: string;
  nodeId: string;
  /** Null when the modal did not ask for one. */
  brief: string | null;
  remember: boolean;
}

export function readPickerValues(view: unknown): FormResult<PickerValues> {
  return readState(view, INPUTS.campaign.block, (values, errors) => {
    const campaignId = values[INPUTS.campaign.block]?.[INPUTS.campaign.action]?.selected_option?.value ?? "";
    const step = stepState(values);
    const nodeId = step?.state.selected_option?.value ?? "";
    if (!campaignId) errors[INPUTS.campaign.block] = "Choose a campaign.";
    else if (!step) {
      errors[INPUTS.campaign.block] =
        "This campaign has no email or AI steps to draft. Choose another campaign.";
    }
    if (step && !nodeId) errors[step.blockId] = "Choose a step.";
    const briefState = values[INPUTS.brief.block]?.[INPUTS.brief.action];
    const brief = textOf(briefState);
    if (briefState && !brief) errors[INPUTS.brief.block] = "Write a brief.";
    const remembered = values[INPUTS.remember.block]?.[INPUTS.remember.action]?.selected_options ?? [];
    return {
      campaignId,
      nodeId,
      brief,
      remember: remembered.some((choice) => choice.value === REMEMBER_VALUE),
    };
  });
}

function stepState(values: StateValues): { blockId: string; state: ActionState } | undefined {
  for (const [blockId, actions] of Object.entries(values)) {
    const state = actions[INPUTS.step.action];
    if (blockId.startsWith(INPUTS.step.block) && state) return { blockId, state };
  }
  return undefined;
}

/** The text of the Custom... form, or of the "What should change?" form after a thumbs down. */
export function readCustomInstruction(
  view: unknown,
  input: "instruction" | "feedback" = "instruction",
): FormResult<string> {
  const { block, action } = INPUTS[input];
  return readState(view, block, (values, errors) => {
    const instruction = textOf(values[block]?.[action]);
    if (!instruction) errors[block] = "Write what should change.";
    return instruction ?? "";
  });
}

export interface EditValues {
  /** Null keeps the current subject (the field was left empty). */
  subject: string | null;
  /** Null keeps the current body (left empty, e.g. because the body was too long to edit here). */
  body: string | null;
}

export function readEditValues(view: unknown): FormResult<EditValues> {
  return readState(view, INPUTS.subject.block, (values, errors) => {
    const subject = values[INPUTS.subject.block]?.[INPUTS.subject.action];
    const body = values[INPUTS.body.block]?.[INPUTS.body.action];
    if (isBlank(subject)) errors[INPUTS.subject.block] = "The subject cannot be blank.";
    if ((subject?.value?.length ?? 0) > SUBJECT_MAX) {
      errors[INPUTS.subject.block] =
        `Keep the subject under ${SUBJECT_MAX.toLocaleString("en-US")} characters.`;
    }
    if (isBlank(body)) errors[INPUTS.body.block] = "The body cannot be blank.";
    return { subject: textOf(subject), body: textOf(body) };
  });
}
