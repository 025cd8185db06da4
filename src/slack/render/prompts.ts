import { ACTIONS, COMMAND, threadButtonValue } from "../ids.ts";
import { SLACK_LIMITS } from "../limits.ts";
import { escapeMrkdwn, truncate } from "../text.ts";
import { actions, button, context, plainText, type SlackMessage, sectionsFor } from "./blocks.ts";
import type { ModalView } from "./modals.ts";

/** Short messages around starting a draft (the turn's own states live in status.ts). */

export function renderStepPrompt(input: { threadId: number }): SlackMessage {
  const text =
    "Which campaign and step should this draft be for? Your message is saved and goes to Puffle once you pick.";
  return {
    text,
    blocks: [
      ...sectionsFor(text),
      actions("picker.prompt", [
        button({
          actionId: ACTIONS.openPicker,
          text: "Choose campaign and step",
          value: threadButtonValue(input.threadId),
          style: "primary",
        }),
      ]),
    ],
  };
}

export function renderStepChosen(input: {
  campaignName: string;
  stepLabel: string;
  userId: string;
}): SlackMessage {
  const text = `Drafting for *${escapeMrkdwn(input.campaignName)}* · ${escapeMrkdwn(input.stepLabel)} (chosen by <@${input.userId}>).`;
  return { text, blocks: [context(text)] };
}

export function renderNoBrief(): SlackMessage {
  const text = `Tell me what to draft: mention me with a brief, for example _intro email for VPs of Sales, time-to-ROI angle_. \`${COMMAND} help\` shows more.`;
  return { text, blocks: sectionsFor(text) };
}

/** The root message `/draft <brief>` posts; the draft runs in its thread. */
export function renderDraftStarted(input: { userId: string; brief: string }): SlackMessage {
  const brief = truncate(escapeMrkdwn(input.brief), 2500);
  const text = `<@${input.userId}> started a draft: ${brief}`;
  return { text, blocks: sectionsFor(text) };
}

export function renderSavedToCampaign(input: {
  campaignName: string;
  stepLabel: string | null;
  userId: string;
}): SlackMessage {
  const where = input.stepLabel ? ` · ${escapeMrkdwn(input.stepLabel)}` : "";
  const text = `:white_check_mark: Saved the subject and body to *${escapeMrkdwn(input.campaignName)}*${where} (by <@${input.userId}>).`;
  return { text, blocks: sectionsFor(text) };
}

/**
 * A modal opened at once (a trigger_id lives 3 s) while the slow part loads; views.update
 * then replaces it with the real form.
 */
export function loadingModal(title: string): ModalView {
  return noticeModal(title, ":hourglass_flowing_sand: Loading...");
}

/** A modal that only says something (an error, or why the form cannot be shown). */
export function noticeModal(title: string, text: string): ModalView {
  return {
    type: "modal",
    callback_id: "notice",
    title: plainText(title, SLACK_LIMITS.modalTitle),
    close: plainText("Close", SLACK_LIMITS.modalButton),
    private_metadata: "",
    blocks: sectionsFor(text),
  };
}
