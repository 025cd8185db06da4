import { INPUTS, VIEWS } from "../ids.ts";
import { SLACK_LIMITS as L } from "../limits.ts";
import { type Block, context, type PlainText, plainText } from "./blocks.ts";

/**
 * A modal view within Slack's limits, and two of them: the custom refine and the edit form. The
 * campaign and step picker is in picker-modal.ts. What people submit is read back in modal-forms.ts;
 * private_metadata is written and read in modal-metadata.ts.
 */

export interface Option {
  text: PlainText;
  value: string;
}
export interface StaticSelect {
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
export interface InputBlock {
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

export const option = (text: string, value: string): Option => ({
  text: plainText(text, L.optionText),
  value,
});

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
