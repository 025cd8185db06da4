import type { FailureCode } from "../../drafting/outcomes.ts";
import { COMMAND } from "../ids.ts";

/**
 * The words a person reads for each failure, in one place: in a thread (a turn that failed), in a
 * note only they see (a button or form that could not be done), or in a modal.
 */

export type TurnKind = "chat" | "examples";

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
    problem: "Puffle did not accept the API key.",
    fix: "An admin needs to check the workspace's Puffle key (the app's Home tab, or PUFFLE_API_KEY)",
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

/**
 * One or two sentences: what happened and what to do. `retryable` adds the Retry button's hint (the
 * caller shows the button).
 */
export function failureSentence(
  code: FailureCode,
  options: { kind?: TurnKind; retryable?: boolean } = {},
): string {
  const words = FAILURE_WORDS[code];
  const problem = typeof words.problem === "string" ? words.problem : words.problem[options.kind ?? "chat"];
  return `${problem} ${nextStep(words.fix, options.retryable ?? false)}`.trim();
}

function nextStep(fix: string | undefined, retryable: boolean): string {
  if (fix) return retryable ? `${fix}, then press Retry.` : `${fix}.`;
  return retryable ? "Press Retry to try again." : "";
}
