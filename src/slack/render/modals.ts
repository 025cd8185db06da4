import type { Campaign, SequenceNode } from "../../drafting/service/steps.ts";
import { INPUTS, VIEWS } from "../ids.ts";
import { SLACK_LIMITS as L } from "../limits.ts";
import { truncate } from "../text.ts";
import { type Block, context, type PlainText, plainText, section } from "./blocks.ts";

/**
 * The modals: the campaign and step picker, the custom refine and the edit form. What people submit
 * is read back in modal-forms.ts; private_metadata is written and read in modal-metadata.ts.
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

export function modal(input: {
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

/** The value of the "Remember for this channel" checkbox. */
export const REMEMBER_VALUE = "remember";

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

/** Longest subject the edit form takes. */
export const SUBJECT_MAX = 1000;

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
