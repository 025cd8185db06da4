import { ACTIONS, feedbackButtonValue, INPUTS, VIEWS } from "../ids.ts";
import { SLACK_LIMITS as L } from "../limits.ts";
import { type ContextActionsBlock, context, feedbackButtons, plainText } from "./blocks.ts";
import { type ModalView, modal } from "./modals.ts";

/**
 * Thumbs up and down on the latest draft card (SPEC 9), the "What should change?" form a thumbs down
 * opens, and the words a person reads about them.
 */

/** The thumbs of card `revision`; like the other card buttons, the values carry identifiers only. */
export function feedbackBlock(sessionId: string, revision: number): ContextActionsBlock {
  return feedbackButtons({
    actionId: ACTIONS.feedback,
    positive: {
      text: "Good draft",
      value: feedbackButtonValue("up", sessionId, revision),
      accessibilityLabel: "This draft works",
    },
    negative: {
      text: "Needs changes",
      value: feedbackButtonValue("down", sessionId, revision),
      accessibilityLabel: "This draft needs changes: say what",
    },
  });
}

export function feedbackModal(input: { privateMetadata: string }): ModalView {
  return modal({
    callbackId: VIEWS.feedback,
    title: "What should change?",
    submit: "Send",
    privateMetadata: input.privateMetadata,
    blocks: [
      {
        type: "input",
        block_id: INPUTS.feedback.block,
        label: plainText("Your feedback", L.inputLabel),
        element: {
          type: "plain_text_input",
          action_id: INPUTS.feedback.action,
          multiline: true,
          max_length: L.plainTextInput,
          placeholder: plainText("e.g. Shorter, less salesy", L.placeholder),
        },
      },
      context("Puffle gets this as the next turn in the thread, with your name on it."),
    ],
  });
}

export const FEEDBACK_WORDS = {
  thanks: "Thanks for the feedback: glad this draft works.",
  unreadable: "That feedback button could not be read. Use 👍 or 👎 on the latest draft card in the thread.",
} as const;
