import type { Author, FailureCode } from "../../drafting/outcomes.ts";
import { ACTIONS, COMMAND, turnButtonValue } from "../ids.ts";
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

type TurnKind = "chat" | "examples";

interface FailureWords {
  /** What happened, per kind of turn when the two differ. */
  problem: string | Record<TurnKind, string>;
  /** What the reader can do about it, when there is something. */
  fix?: string;
}

const FAILURE_WORDS: Record<FailureCode, FailureWords> = {
  uninstalled: { problem: "Puffle Drafter was removed from this workspace, so this draft stopped." },
  no_puffle_key: {
    problem: "This workspace has not connected a Puffle account yet.",
    fix: "An admin can connect one in the app's Home tab; your message is kept and sent as soon as they do",
  },
  session_busy: {
    problem: "Puffle is still busy with this draft (another turn or examples are running).",
    fix: "Wait for it to finish",
  },
  out_of_credits: { problem: "Your Puffle workspace is out of credits.", fix: "Add credits in Puffle" },
  unauthorized: {
    problem: "Puffle did not accept our API key.",
    fix: "An admin needs to check PUFFLE_API_KEY",
  },
  forbidden: {
    problem: "Puffle refused access to this campaign.",
    fix: "An admin needs to check that the API key belongs to the campaign's workspace",
  },
  not_found: {
    problem: "This draft's Puffle session no longer exists (it may have been deleted in Puffle).",
    fix: `Start a new draft with ${COMMAND}`,
  },
  no_framework: {
    problem: "Puffle needs a draft before it can generate examples.",
    fix: "Reply in the thread first",
  },
  rate_limited: { problem: "Puffle is getting too many requests right now.", fix: "Wait a minute" },
  server_error: { problem: "Puffle ran into a server error." },
  connection: { problem: "We could not reach Puffle." },
  timeout: { problem: "Puffle did not answer in time." },
  bad_response: { problem: "Puffle sent an answer we could not read (the details are in the bot's log)." },
  no_reply: {
    problem: {
      chat: "Puffle finished without a reply, so this turn did not go through.",
      examples: "Puffle finished without generating any examples.",
    },
  },
  not_enough_leads: {
    problem: "Generating examples needs at least 3 leads, and this campaign has fewer.",
    fix: "Add leads to the campaign in Puffle",
  },
  not_confirmed: {
    problem: {
      chat: "We could not confirm that Puffle received this message.",
      examples: "We could not confirm that Puffle started generating examples.",
    },
  },
  internal: { problem: "Something went wrong on our side (the details are in the bot's log)." },
  bad_request: {
    problem: {
      chat: "Puffle did not accept this message.",
      examples: "Puffle did not accept the request for examples.",
    },
  },
};

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
  const words = FAILURE_WORDS[input.code];
  const problem = typeof words.problem === "string" ? words.problem : words.problem[input.kind];
  const text = `${problem} ${nextStep(words.fix, input.retryable)}`.trim();
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

function nextStep(fix: string | undefined, retryable: boolean): string {
  if (fix) return retryable ? `${fix}, then press Retry.` : `${fix}.`;
  return retryable ? "Press Retry to try again." : "";
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
