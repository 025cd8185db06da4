import type { Author, FailureCode } from "../../drafting/outcomes.ts";
import { ACTIONS, turnButtonValue } from "../ids.ts";
import { authorList, escapeMrkdwn, markdownToMrkdwn, truncate } from "../text.ts";
import {
  actions,
  type Block,
  button,
  context,
  packMessages,
  type SlackMessage,
  section,
  sectionsFor,
} from "./blocks.ts";
import { failureSentence, type TurnKind } from "./failure-words.ts";

/** Every word a user reads about a turn's state or failure, in one place. */

export type StatusState =
  | { kind: "drafting"; turnNumber: number; requestedBy: Author[] }
  | { kind: "queued"; count: number; authors: Author[] }
  | { kind: "examples"; leadCount: number }
  | { kind: "creating" };

const plural = (count: number, word: string) => `${count} ${count === 1 ? word : `${word}s`}`;

/** One line about the turn's state, safe as mrkdwn (names escaped). */
export function statusText(state: StatusState): string {
  switch (state.kind) {
    case "drafting": {
      const forWhom = state.requestedBy.length > 0 ? ` for ${authorList(state.requestedBy)}` : "";
      return `Drafting... turn ${state.turnNumber}${forWhom}`;
    }
    case "queued": {
      const who = state.authors.length > 0 ? `: ${authorList(state.authors)}` : "";
      return `Queued behind the current turn (${plural(state.count, "message")}${who})`;
    }
    case "examples":
      return `Generating examples for ${plural(state.leadCount, "lead")}`;
    case "creating":
      return "Starting a Puffle session...";
  }
}

export function renderStatusMessage(state: StatusState): SlackMessage {
  const text = statusText(state);
  return { text, blocks: [context(`:hourglass_flowing_sand: ${text}`)] };
}

/** The assistant's Markdown as mrkdwn, in as many sections and messages as it needs. */
export function renderReply(replies: string[]): SlackMessage[] {
  const text = replies
    .map(markdownToMrkdwn)
    .filter((reply) => reply.trim())
    .join("\n\n");
  return packMessages(sectionsFor(text), (part, parts) =>
    part === 0 ? text : `Puffle's reply (part ${part + 1} of ${parts})`,
  );
}

/** A thread in a workspace with no Puffle account yet: said once; the message waits. */
export function renderNeedsKey(): SlackMessage {
  const text =
    "This workspace has not connected a Puffle account yet, so I cannot draft. " +
    "An admin needs to connect Puffle in the app's Home tab (workspace admins and owners, or whoever installed the app, can). " +
    "Your message is kept and goes to Puffle as soon as they do.";
  return { text, blocks: sectionsFor(`:key: ${text}`) };
}

/** A status message whose turn's reply streamed in below it. */
export function renderAnsweredBelow(): SlackMessage {
  const text = "Puffle's reply is below.";
  return { text, blocks: [context(`:speech_balloon: ${text}`)] };
}

// ---------------------------------------------------------------- failures

const DETAIL_MAX = 500;

export interface FailureInput {
  code: FailureCode;
  /** Puffle's own words, shown escaped and cut short. */
  detail: string | null;
  retryable: boolean;
  turnId: number;
  kind: TurnKind;
}

export function renderFailure(input: FailureInput): SlackMessage {
  const text = failureSentence(input.code, { kind: input.kind, retryable: input.retryable });
  const detail = input.detail?.replace(/\s+/g, " ").trim();
  const blocks: Block[] = [section(`:warning: ${text}`)];
  if (detail) blocks.push(context(`Puffle said: ${escapeMrkdwn(truncate(detail, DETAIL_MAX))}`));
  if (input.retryable) {
    blocks.push(
      actions("turn.failure", [
        button({ actionId: ACTIONS.retry, text: "Retry", value: turnButtonValue(input.turnId) }),
      ]),
    );
  }
  return { text, blocks };
}

export function renderTimedOut(input: { turnId: number; minutes: number }): SlackMessage {
  const text = `Puffle is taking longer than usual (${input.minutes} min). It may still finish: press Check again to look now.`;
  return {
    text,
    blocks: [
      section(`:hourglass: ${text}`),
      actions("turn.timed_out", [
        button({ actionId: ACTIONS.checkAgain, text: "Check again", value: turnButtonValue(input.turnId) }),
      ]),
    ],
  };
}

/** Only a plain http(s) URL becomes a link: nothing that could close the link early or smuggle a mention. */
const SAFE_URL = /^https?:\/\/[^\s<>|]+$/i;

export function renderMoved(input: { permalink: string }): SlackMessage {
  // The permalink comes from Slack (chat.getPermalink), never from model text.
  const where = SAFE_URL.test(input.permalink)
    ? `<${escapeMrkdwn(input.permalink)}|another thread>`
    : "another thread";
  const text = `This campaign step's Puffle session is already being drafted in ${where}; your message was added there.`;
  return { text, blocks: [section(`:link: ${text}`)] };
}
