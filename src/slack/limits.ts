/**
 * The Slack limits we design for (slack-notes.md, "Text and Block Kit limits"). Where Slack is vague
 * (total block text, top-level text) we stay well under what it has been seen to reject: going over
 * fails the whole post.
 */
export const SLACK_LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  sectionText: 3000,
  /**
   * Text in one rich_text block. Slack documents no cap; we hold it to a section's, and the text still
   * counts towards the message's total like any other.
   */
  richTextBlockText: 3000,
  headerText: 150,
  /** Slack answers `msg_blocks_too_long` around 12,000-13,000 characters across blocks. */
  messageBlocksText: 11_000,
  /** The notification fallback; `msg_too_long` has been seen above 4,000 on update. */
  messageText: 3000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  /** Read by screen readers instead of a button's text. */
  accessibilityLabel: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  /** Submit and close buttons of a modal. */
  modalButton: 24,
  privateMetadata: 3000,
  /** Input labels and hints. */
  inputLabel: 2000,
  plainTextInput: 3000,
  placeholder: 150,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  blockId: 255,
} as const;
