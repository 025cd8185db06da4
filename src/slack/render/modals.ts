import { z } from "zod";
import type { Campaign, SequenceNode } from "../../puffle/schemas.ts";
import { COMMAND, INPUTS, REFINES, VIEWS } from "../ids.ts";
import { SLACK_LIMITS as L } from "../limits.ts";
import { truncate, wellFormed } from "../text.ts";
import {
  type Block,
  context,
  type PlainText,
  plainText,
  type SlackMessage,
  section,
  sectionsFor,
} from "./blocks.ts";

/**
 * Modals (picker, custom refine, edit), the help text, and reading back what people submitted.
 * Submitted values and private_metadata are untrusted: everything is read through zod.
 */

interface Option {
  text: PlainText;
  value: string;
}
interface StaticSelect {
  type: "static_select";
  action_id: string;
  placeholder: PlainText;
  options: Option[];
  initial_option?: Option;
}
interface Checkboxes {
  type: "checkboxes";
  action_id: string;
  options: Option[];
  initial_options?: Option[];
}
interface PlainTextInput {
  type: "plain_text_input";
  action_id: string;
  multiline: boolean;
  max_length: number;
  initial_value?: string;
  placeholder?: PlainText;
}
interface InputBlock {
  type: "input";
  block_id: string;
  label: PlainText;
  element: StaticSelect | Checkboxes | PlainTextInput;
  optional?: boolean;
  dispatch_action?: boolean;
  hint?: PlainText;
}
export type ModalBlock = Block | InputBlock;

export interface ModalView {
  type: "modal";
  callback_id: string;
  title: PlainText;
  submit?: PlainText;
  close: PlainText;
  private_metadata: string;
  blocks: ModalBlock[];
}

function modal(input: {
  callbackId: string;
  title: string;
  submit: string | null;
  privateMetadata: string;
  blocks: ModalBlock[];
}): ModalView {
  // Metadata carries ids to act on: cutting it would corrupt it, so an oversized one is a bug.
  if (input.privateMetadata.length > L.privateMetadata) {
    throw new RangeError(`private_metadata for ${input.callbackId} is over ${L.privateMetadata} characters`);
  }
  return {
    type: "modal",
    callback_id: input.callbackId,
    title: plainText(input.title, L.modalTitle),
    ...(input.submit ? { submit: plainText(input.submit, L.modalButton) } : {}),
    close: plainText("Cancel", L.modalButton),
    private_metadata: input.privateMetadata,
    blocks: input.blocks.slice(0, L.modalBlocks),
  };
}

const option = (text: string, value: string): Option => ({ text: plainText(text, L.optionText), value });

// ---------------------------------------------------------------- picker

export interface PickerModalInput {
  campaigns: Campaign[];
  steps: { node: SequenceNode; label: string }[];
  selectedCampaignId?: string;
  selectedNodeId?: string;
  brief?: string;
  askBrief: boolean;
  rememberDefault: boolean;
  privateMetadata: string;
  title?: string;
}

const REMEMBER_VALUE = "remember";

/** Campaign and step choice (and the brief, when the draft has none yet). */
export function pickerModal(input: PickerModalInput): ModalView {
  const hasCampaigns = input.campaigns.length > 0;
  const blocks: ModalBlock[] = hasCampaigns
    ? [
        campaignInput(input.campaigns, input.selectedCampaignId),
        stepInput(input),
        ...(input.askBrief ? [briefInput(input.brief)] : []),
        rememberInput(input.rememberDefault),
      ]
    : [section("Puffle has no campaigns for this workspace yet. Create one in Puffle, then try again.")];
  return modal({
    callbackId: VIEWS.picker,
    title: input.title ?? (input.askBrief ? "Start a draft" : "Campaign and step"),
    submit: hasCampaigns ? (input.askBrief ? "Start drafting" : "Save") : null,
    privateMetadata: input.privateMetadata,
    blocks,
  });
}

function campaignInput(campaigns: Campaign[], selectedId: string | undefined): InputBlock {
  // Drafts first (the only campaigns a draft can be saved to), otherwise in the order given.
  const ordered = [
    ...campaigns.filter((campaign) => campaign.status === "draft"),
    ...campaigns.filter((campaign) => campaign.status !== "draft"),
  ];
  const options = ordered
    .filter((campaign) => campaign.id.length <= L.optionValue)
    .map((campaign) =>
      option(campaign.status ? `${campaign.name} (${campaign.status})` : campaign.name, campaign.id),
    );
  return {
    type: "input",
    block_id: INPUTS.campaign.block,
    // Choosing a campaign fires an action, so the step list can follow it.
    dispatch_action: true,
    label: plainText("Campaign", L.inputLabel),
    element: select(INPUTS.campaign.action, "Choose a campaign", options, selectedId),
  };
}

/**
 * The step block's id changes with the campaign: Slack keeps an input's state across views.update while
 * its block_id stays the same, which would keep a step of the previous campaign selected.
 */
const stepBlockId = (campaignId: string | undefined) => `${INPUTS.step.block}:${campaignId ?? "none"}`;

function stepInput(input: PickerModalInput): ModalBlock {
  if (input.steps.length === 0) {
    return context(
      input.selectedCampaignId
        ? "This campaign has no email or AI steps to draft. Choose another campaign."
        : "Choose a campaign to see its steps.",
    );
  }
  const options = input.steps
    .filter((step) => step.node.id.length <= L.optionValue)
    .map((step) => option(step.label, step.node.id));
  return {
    type: "input",
    block_id: truncate(stepBlockId(input.selectedCampaignId), L.blockId),
    label: plainText("Step", L.inputLabel),
    element: select(INPUTS.step.action, "Choose a step", options, input.selectedNodeId),
  };
}

function select(
  actionId: string,
  placeholder: string,
  options: Option[],
  selectedValue?: string,
): StaticSelect {
  const selected = options.find((candidate) => candidate.value === selectedValue);
  let shown = options.slice(0, L.selectOptions);
  // The current choice stays choosable even when it falls past Slack's option limit.
  if (selected && !shown.includes(selected)) shown = [...shown.slice(0, L.selectOptions - 1), selected];
  return {
    type: "static_select",
    action_id: actionId,
    placeholder: plainText(placeholder, L.placeholder),
    options: shown,
    ...(selected ? { initial_option: selected } : {}),
  };
}

function briefInput(brief: string | undefined): InputBlock {
  const initial = brief?.trim() ? truncate(brief.trim(), L.plainTextInput) : undefined;
  return {
    type: "input",
    block_id: INPUTS.brief.block,
    label: plainText("Brief", L.inputLabel),
    element: {
      type: "plain_text_input",
      action_id: INPUTS.brief.action,
      multiline: true,
      max_length: L.plainTextInput,
      placeholder: plainText("e.g. Intro email for VPs of Sales, time-to-ROI angle", L.placeholder),
      ...(initial ? { initial_value: initial } : {}),
    },
  };
}

function rememberInput(checked: boolean): InputBlock {
  const remember = option("Remember for this channel", REMEMBER_VALUE);
  return {
    type: "input",
    block_id: INPUTS.remember.block,
    optional: true,
    label: plainText("Channel default", L.inputLabel),
    element: {
      type: "checkboxes",
      action_id: INPUTS.remember.action,
      options: [remember],
      ...(checked ? { initial_options: [remember] } : {}),
    },
  };
}

// ---------------------------------------------------------------- custom refine and edit

export function customRefineModal(input: { privateMetadata: string }): ModalView {
  return modal({
    callbackId: VIEWS.custom,
    title: "Custom change",
    submit: "Send",
    privateMetadata: input.privateMetadata,
    blocks: [
      {
        type: "input",
        block_id: INPUTS.instruction.block,
        label: plainText("What should change?", L.inputLabel),
        element: {
          type: "plain_text_input",
          action_id: INPUTS.instruction.action,
          multiline: true,
          max_length: L.plainTextInput,
          placeholder: plainText("e.g. Mention our SOC 2 report in the second paragraph", L.placeholder),
        },
      },
      context("Puffle gets this as the next turn in the thread, from you."),
    ],
  });
}

const SUBJECT_MAX = 1000;

export function editModal(input: {
  subject: string | null;
  body: string | null;
  privateMetadata: string;
}): ModalView {
  return modal({
    callbackId: VIEWS.edit,
    title: "Edit draft",
    submit: "Save",
    privateMetadata: input.privateMetadata,
    blocks: [
      ...editableField({
        ids: INPUTS.subject,
        label: "Subject",
        // A single-line input cannot hold a line break.
        value: input.subject?.replace(/\s*\n\s*/g, " ") ?? null,
        maxLength: SUBJECT_MAX,
        multiline: false,
      }),
      ...editableField({
        ids: INPUTS.body,
        label: "Body",
        value: input.body,
        maxLength: L.plainTextInput,
        multiline: true,
      }),
      context("Merge fields like `%first_name%` and AI passages in `&amp;&amp;...&amp;&amp;` keep working."),
    ],
  });
}

/**
 * An input holding the current value. A value longer than Slack lets an input hold cannot be shown
 * (initial_value may not exceed max_length): the input starts empty and is optional, and empty means
 * "keep the current one".
 */
function editableField(field: {
  ids: { block: string; action: string };
  label: string;
  value: string | null;
  maxLength: number;
  multiline: boolean;
}): ModalBlock[] {
  const { value, maxLength } = field;
  const what = field.label.toLowerCase();
  const fits = !value || value.length <= maxLength;
  const element: PlainTextInput = {
    type: "plain_text_input",
    action_id: field.ids.action,
    multiline: field.multiline,
    max_length: maxLength,
    ...(value && fits ? { initial_value: value } : {}),
  };
  const input: InputBlock = {
    type: "input",
    block_id: field.ids.block,
    label: plainText(field.label, L.inputLabel),
    element,
  };
  if (fits) return [input];
  return [
    context(
      `The current ${what} is ${value.length.toLocaleString("en-US")} characters, too long to edit here ` +
        `(the limit is ${maxLength.toLocaleString("en-US")}).`,
    ),
    { ...input, optional: true, hint: plainText(`Leave empty to keep the current ${what}.`, L.inputLabel) },
  ];
}

// ---------------------------------------------------------------- help

export function helpMessage(): SlackMessage {
  const refines = Object.values(REFINES)
    .map((refine) => refine.label)
    .join(", ");
  const text = [
    "*Start a draft*",
    "• Mention me in a channel with a brief, e.g. _@Puffle Drafter intro email for VPs of Sales, time-to-ROI angle_. The message becomes a draft thread.",
    `• \`${COMMAND} [brief]\` posts a new draft thread. Without a brief, or before the channel has a campaign and step, it asks for them first.`,
    "• The message shortcut *Draft from this message* starts a draft in that message's thread.",
    "• Send me a direct message to draft privately.",
    "*Work on it together*",
    "• Every reply in a draft thread is the next turn for Puffle. Replies sent while Puffle works are queued and sent together, each with its author.",
    "• Start a reply with `//` to talk to your teammates without Puffle seeing it.",
    `• Buttons on the latest draft: ${refines}, Custom... (your own instruction), Generate examples, Edit, and Save to campaign.`,
    "*Settings*",
    `• \`${COMMAND} settings\` changes this channel's campaign and step. \`${COMMAND} help\` shows this message.`,
  ].join("\n");
  return { text: `How to use ${COMMAND}`, blocks: sectionsFor(text) };
}

// ---------------------------------------------------------------- reading submissions

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

export function readCustomInstruction(view: unknown): FormResult<string> {
  const { block, action } = INPUTS.instruction;
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

// ---------------------------------------------------------------- private_metadata

/** JSON for a view's private_metadata; throws when it would not fit (a bug, not a user error). */
export function encodeMetadata(value: unknown): string {
  const text = JSON.stringify(value);
  if (text.length > L.privateMetadata) {
    throw new RangeError(`private_metadata is ${text.length} characters, over ${L.privateMetadata}`);
  }
  return text;
}

/** The metadata if it parses and matches `schema`, else undefined: never trust it blindly. */
export function decodeMetadata<T>(text: string | null | undefined, schema: z.ZodType<T>): T | undefined {
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
