import type { App, ViewSubmitAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { ACK_BUDGET_MS, settlesWithin } from "../ack-budget.ts";
import { INPUTS, VIEWS } from "../ids.ts";
import type { ListenerDeps } from "../listeners/deps.ts";
import type { ModalView } from "../render/modals.ts";
import { noticeModal } from "../render/prompts.ts";
import { slackErrorCode } from "../slack-errors.ts";
import type { ViewAck, ViewAnswer } from "./answers.ts";
import { checkingModal, connectedModal, KEY_ANSWERS, KEY_TITLE, readKey, readKeyMetadata } from "./modals.ts";

/**
 * The "Connect Puffle" submission. Only an admin's key is checked; Puffle's answer usually comes
 * within the ack budget and shows next to the field; a slow check shows "Checking..." first and its
 * answer afterwards. The key itself is never logged, never echoed in a view, error or log line.
 */
type Outcome =
  | { status: "ok"; last4: string }
  | { status: "refused" | "unreachable" | "error" | "unavailable" | "not_admin" | "role_unknown" };

export function registerKeyForm(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(VIEWS.puffleKey, async ({ ack, body, view, client }) => {
    const answer: ViewAck = ack;
    const metadata = readKeyMetadata(view.private_metadata);
    const teamId = body.team?.id;
    if (!metadata || metadata.teamId !== teamId) {
      await answer();
      deps.logger.warn({ user: body.user.id }, "home.key_bad_metadata");
      return;
    }
    const typed = readKey(view.state.values);
    if (!typed.ok) {
      await answer({ response_action: "errors", errors: { [INPUTS.puffleKey.block]: typed.error } });
      return;
    }
    const work = connect(client, deps, { teamId, userId: body.user.id, key: typed.key });
    const early = await settlesWithin(work, ACK_BUDGET_MS);
    if (early.settled) {
      await answer(quickAnswer(early.value));
      return;
    }
    await answer({ response_action: "update", view: checkingModal() });
    const outcome = await work;
    try {
      await client.views.update({ view_id: view.id, view: lateView(outcome) });
    } catch (error) {
      deps.logger.warn({ err: slackErrorCode(error) }, "home.key_answer_failed");
    }
  });
}

async function connect(
  client: WebClient,
  deps: ListenerDeps,
  input: { teamId: string; userId: string; key: string },
): Promise<Outcome> {
  const { teamId, userId } = input;
  let admin: boolean;
  try {
    admin = await deps.home.isAdmin(client, teamId, userId, { fresh: true });
  } catch (error) {
    deps.logger.warn({ teamId, err: slackErrorCode(error) }, "home.role_unknown");
    return { status: "role_unknown" };
  }
  if (!admin) {
    deps.logger.info({ teamId, user: userId }, "home.key_refused_not_admin");
    return { status: "not_admin" };
  }
  try {
    const checked = await deps.drafting.connectPuffleKey({ teamId, key: input.key, by: userId });
    if (checked.status !== "ok") return { status: checked.status };
    deps.home.refresh(teamId, userId, { now: true });
    return { status: "ok", last4: input.key.slice(-4) };
  } catch (error) {
    // Never the key: only what failed.
    deps.logger.error(
      { teamId, err: error instanceof Error ? error.name : "unknown" },
      "home.key_connect_failed",
    );
    return { status: "error" };
  }
}

/** The answer when the check finished within the ack budget: problems go next to the field. */
function quickAnswer(outcome: Outcome): ViewAnswer {
  switch (outcome.status) {
    case "ok":
      return { response_action: "update", view: connectedModal(outcome.last4) };
    case "not_admin":
      return { response_action: "update", view: noticeModal(KEY_TITLE, KEY_ANSWERS.notAdmin) };
    case "role_unknown":
      return fieldError(KEY_ANSWERS.roleUnknown);
    default:
      return fieldError(KEY_ANSWERS[outcome.status]);
  }
}

/**
 * The view that replaces "Checking..." once a slow check finished. It has no input: a form shown again
 * could come back from Slack with what was typed still in it.
 */
function lateView(outcome: Outcome): ModalView {
  switch (outcome.status) {
    case "ok":
      return connectedModal(outcome.last4);
    case "not_admin":
      return noticeModal(KEY_TITLE, KEY_ANSWERS.notAdmin);
    case "role_unknown":
      return noticeModal(KEY_TITLE, KEY_ANSWERS.roleUnknown);
    default:
      return noticeModal(KEY_TITLE, `${KEY_ANSWERS[outcome.status]} ${AGAIN}`);
  }
}

const AGAIN = "Nothing was saved: use *Connect Puffle* in the Home tab to try again.";

const fieldError = (text: string): ViewAnswer => ({
  response_action: "errors",
  errors: { [INPUTS.puffleKey.block]: text },
});
