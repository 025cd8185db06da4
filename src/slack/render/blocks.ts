import { SLACK_LIMITS as L } from "../limits.ts";
import { splitMrkdwn, truncate } from "../text.ts";

/**
 * Typed Block Kit builders that enforce Slack's limits by splitting or truncating, so no caller can
 * exceed one by accident. Builders taking `mrkdwn` expect text that is already safe (escaped or
 * converted by text.ts); plain_text and rich_text `text` elements are never parsed by Slack.
 * The types are a structural subset of @slack/types, so messages go straight to chat.postMessage.
 */

export interface PlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}
export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
}
export type TextObject = PlainText | Mrkdwn;

export interface ConfirmDialog {
  title: PlainText;
  text: PlainText;
  confirm: PlainText;
  deny: PlainText;
}

export interface Button {
  type: "button";
  action_id: string;
  text: PlainText;
  value: string;
  style?: "primary" | "danger";
  confirm?: ConfirmDialog;
}

export interface HeaderBlock {
  type: "header";
  block_id?: string;
  text: PlainText;
}
export interface SectionBlock {
  type: "section";
  block_id?: string;
  text: TextObject;
}
export interface ContextBlock {
  type: "context";
  block_id?: string;
  elements: TextObject[];
}
export interface DividerBlock {
  type: "divider";
  block_id?: string;
}
export interface ActionsBlock {
  type: "actions";
  block_id?: string;
  elements: Button[];
}
/** Thumbs up and down (Block Kit for AI apps): a click sends the clicked button's value. */
export interface FeedbackButtons {
  type: "feedback_buttons";
  action_id: string;
  positive_button: FeedbackButton;
  negative_button: FeedbackButton;
}
export interface FeedbackButton {
  text: PlainText;
  value: string;
  accessibility_label?: string;
}
/** Message-only; holds feedback buttons (and icon buttons, which we do not use). */
export interface ContextActionsBlock {
  type: "context_actions";
  block_id?: string;
  elements: FeedbackButtons[];
}
/** The looks a rich_text `text` element can take. */
export interface RichTextStyle {
  bold?: true;
  italic?: true;
  strike?: true;
  code?: true;
}
/** Slack shows a `text` element's characters as they are: no mrkdwn, no entities, no emoji shortcodes. */
export interface RichTextText {
  type: "text";
  text: string;
  style?: RichTextStyle;
}
export interface RichTextSection {
  type: "rich_text_section";
  elements: RichTextText[];
}
export interface RichTextBlock {
  type: "rich_text";
  block_id?: string;
  elements: RichTextSection[];
}
export type Block =
  | HeaderBlock
  | SectionBlock
  | ContextBlock
  | DividerBlock
  | ActionsBlock
  | ContextActionsBlock
  | RichTextBlock;

/** What chat.postMessage / chat.update take: `text` is the notification fallback (mrkdwn-safe). */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** Slack refuses empty text objects. */
const nonBlank = (text: string) => (text.trim() ? text : "—");

export function plainText(text: string, maxChars: number): PlainText {
  return { type: "plain_text", text: truncate(nonBlank(text), maxChars), emoji: true };
}

function mrkdwn(text: string, maxChars: number): Mrkdwn {
  return { type: "mrkdwn", text: truncate(nonBlank(text), maxChars) };
}

export function header(text: string): HeaderBlock {
  return { type: "header", text: plainText(text, L.headerText) };
}

/** One section; text beyond Slack's limit is cut. Use `sectionsFor` for content that must all show. */
export function section(mrkdwnText: string): SectionBlock {
  return { type: "section", text: mrkdwn(mrkdwnText, L.sectionText) };
}

/** As many sections as the text needs, split at paragraphs, lines or sentences; nothing is lost. */
export function sectionsFor(mrkdwnText: string): SectionBlock[] {
  return splitMrkdwn(mrkdwnText, L.sectionText)
    .filter((chunk) => chunk.trim())
    .map((chunk) => ({ type: "section", text: { type: "mrkdwn", text: chunk } }));
}

/**
 * One rich_text block holding one section of `text` elements (line breaks are "\n" inside them). Empty
 * elements are dropped (Slack refuses them) and text beyond `L.richTextBlockText` is cut: use
 * `richTextBlocks` (rich-text.ts) for content that must all show.
 */
export function richText(elements: readonly RichTextText[]): RichTextBlock {
  const shown: RichTextText[] = [];
  let room = L.richTextBlockText;
  for (const element of elements) {
    if (element.text.length === 0) continue;
    if (element.text.length > room) {
      if (room > 1) shown.push({ ...element, text: truncate(element.text, room) });
      break;
    }
    shown.push(element);
    room -= element.text.length;
  }
  return {
    type: "rich_text",
    elements: [
      { type: "rich_text_section", elements: shown.length > 0 ? shown : [{ type: "text", text: "—" }] },
    ],
  };
}

export function context(...mrkdwnTexts: string[]): ContextBlock {
  return {
    type: "context",
    elements: mrkdwnTexts.slice(0, L.contextElements).map((text) => mrkdwn(text, L.sectionText)),
  };
}

export function divider(): DividerBlock {
  return { type: "divider" };
}

export function actions(blockId: string, buttons: Button[]): ActionsBlock {
  return { type: "actions", block_id: blockId, elements: buttons.slice(0, L.actionsElements) };
}

export function button(input: {
  actionId: string;
  text: string;
  value: string;
  style?: "primary" | "danger";
  confirm?: ConfirmDialog;
}): Button {
  // A value carries identifiers: cutting one would point the click at something else.
  if (input.value.length > L.buttonValue) {
    throw new RangeError(`button value for ${input.actionId} is over ${L.buttonValue} characters`);
  }
  return {
    type: "button",
    action_id: input.actionId,
    text: plainText(input.text, L.buttonText),
    value: input.value,
    ...(input.style ? { style: input.style } : {}),
    ...(input.confirm ? { confirm: input.confirm } : {}),
  };
}

interface FeedbackButtonInput {
  text: string;
  value: string;
  accessibilityLabel: string;
}

/** A context_actions block holding one pair of thumbs. */
export function feedbackButtons(input: {
  actionId: string;
  positive: FeedbackButtonInput;
  negative: FeedbackButtonInput;
}): ContextActionsBlock {
  const side = (button: FeedbackButtonInput): FeedbackButton => {
    if (button.value.length > L.buttonValue) {
      throw new RangeError(`feedback value for ${input.actionId} is over ${L.buttonValue} characters`);
    }
    return {
      text: plainText(button.text, L.buttonText),
      value: button.value,
      accessibility_label: truncate(button.accessibilityLabel, L.accessibilityLabel),
    };
  };
  return {
    type: "context_actions",
    elements: [
      {
        type: "feedback_buttons",
        action_id: input.actionId,
        positive_button: side(input.positive),
        negative_button: side(input.negative),
      },
    ],
  };
}

export function confirmDialog(input: {
  title: string;
  text: string;
  confirm: string;
  deny: string;
}): ConfirmDialog {
  return {
    title: plainText(input.title, L.confirmTitle),
    text: plainText(input.text, L.confirmText),
    confirm: plainText(input.confirm, L.confirmButton),
    deny: plainText(input.deny, L.confirmButton),
  };
}

/** What Slack counts towards `msg_blocks_too_long`: every `text` string, at any depth. */
export function textLength(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((sum: number, item) => sum + textLength(item), 0);
  if (typeof node !== "object" || node === null) return 0;
  let sum = 0;
  for (const [key, value] of Object.entries(node)) {
    sum += key === "text" && typeof value === "string" ? value.length : textLength(value);
  }
  return sum;
}

/**
 * Packs blocks, in order, into as many messages as the block-count and text limits need: the first
 * message gets the first blocks (a header), the last gets the last ones (the buttons).
 * `fallbackText(part, parts)` gives each message's notification text (0-based part).
 */
export function packMessages(
  blocks: readonly Block[],
  fallbackText: (part: number, parts: number) => string,
): SlackMessage[] {
  const groups: Block[][] = [];
  let current: Block[] = [];
  let currentText = 0;
  for (const block of blocks) {
    const length = textLength(block);
    if (
      current.length === L.messageBlocks ||
      (current.length > 0 && currentText + length > L.messageBlocksText)
    ) {
      groups.push(current);
      current = [];
      currentText = 0;
    }
    // A divider at the top of a continuation message separates nothing.
    if (current.length === 0 && groups.length > 0 && block.type === "divider") continue;
    current.push(block);
    currentText += length;
  }
  if (current.length > 0) groups.push(current);
  return groups.map((group, part) => ({
    text: truncate(fallbackText(part, groups.length), L.messageText),
    blocks: group,
  }));
}
