import type { WebClient } from "@slack/web-api";
import type { StepChoice } from "../../drafting/store.ts";
import { ACK_BUDGET_MS, settlesWithin } from "../ack-budget.ts";
import { INPUTS } from "../ids.ts";
import type { ListenerDeps } from "../listeners/deps.ts";
import type { PickerMetadata } from "../listeners/picker.ts";
import { noticeModal } from "../render/prompts.ts";
import { slackErrorCode } from "../slack-errors.ts";
import type { ViewAck } from "./answers.ts";
import { KEY_ANSWERS } from "./modals.ts";

/**
 * The picker in `mode: "workspace"` (the Home tab's "Change"): the chosen step becomes the workspace's
 * default, for admins only, once it is checked to be one of the campaign's draftable steps.
 */

/** The Home tab has no channel; the picker's metadata wants one. */
export const HOME_CHANNEL = "home";
export const DEFAULT_STEP_TITLE = "Workspace default";
export const DEFAULT_NOT_ADMIN =
  "Only workspace admins, owners and the person who installed the app can change the workspace's default.";

type Outcome = "saved" | "not_a_step" | "unavailable" | "not_admin" | "role_unknown";

const WORDS: Record<Exclude<Outcome, "not_a_step">, string> = {
  saved: ":white_check_mark: Saved. New drafts without a channel choice use this campaign and step.",
  unavailable:
    "Puffle could not confirm the campaign and step just now. Nothing was changed; try again in a minute.",
  not_admin: DEFAULT_NOT_ADMIN,
  role_unknown: KEY_ANSWERS.roleUnknown,
};

export async function submitWorkspaceDefault(
  client: WebClient,
  deps: ListenerDeps,
  input: {
    ack: ViewAck;
    view: { id: string; state: { values: Record<string, unknown> } };
    teamId: string | undefined;
    userId: string;
    metadata: PickerMetadata;
    choice: StepChoice;
  },
): Promise<void> {
  const { ack, view, userId, metadata } = input;
  const teamId = metadata.teamId;
  if (teamId !== input.teamId) {
    await ack();
    deps.logger.warn({ user: userId }, "picker.bad_metadata");
    return;
  }
  const work = save(client, deps, { teamId, userId, choice: input.choice }).catch((error: unknown) => {
    deps.logger.error(
      { teamId, err: error instanceof Error ? error.message : String(error) },
      "home.default_failed",
    );
    return "unavailable" as const;
  });
  const early = await settlesWithin(work, ACK_BUDGET_MS);
  if (early.settled) {
    if (early.value === "saved") await ack();
    else if (early.value === "not_a_step") {
      const stepBlock =
        Object.keys(view.state.values).find((id) => id.startsWith(INPUTS.step.block)) ??
        INPUTS.campaign.block;
      await ack({
        response_action: "errors",
        errors: { [stepBlock]: "Choose one of this campaign's steps." },
      });
    } else
      await ack({ response_action: "update", view: noticeModal(DEFAULT_STEP_TITLE, WORDS[early.value]) });
    return;
  }
  await ack({
    response_action: "update",
    view: noticeModal(DEFAULT_STEP_TITLE, ":hourglass_flowing_sand: Saving..."),
  });
  const outcome = await work;
  const text =
    outcome === "not_a_step" ? "That step is not one of the campaign's email or AI steps." : WORDS[outcome];
  try {
    await client.views.update({ view_id: view.id, view: noticeModal(DEFAULT_STEP_TITLE, text) });
  } catch (error) {
    deps.logger.warn({ err: slackErrorCode(error) }, "home.default_answer_failed");
  }
}

async function save(
  client: WebClient,
  deps: ListenerDeps,
  input: { teamId: string; userId: string; choice: StepChoice },
): Promise<Outcome> {
  const { teamId, userId, choice } = input;
  try {
    if (!(await deps.home.isAdmin(client, teamId, userId, { fresh: true }))) return "not_admin";
  } catch (error) {
    deps.logger.warn({ teamId, err: slackErrorCode(error) }, "home.role_unknown");
    return "role_unknown";
  }
  // The form is untrusted: the step must really be one of the campaign's draftable steps.
  const steps = await deps.drafting.listSteps(teamId, choice.campaignId).catch(() => undefined);
  if (!steps) return "unavailable";
  if (!steps.some((step) => step.node.id === choice.nodeId)) return "not_a_step";
  await deps.drafting.setWorkspaceDefault({ teamId, step: choice, by: userId });
  deps.home.refresh(teamId, userId, { now: true });
  return "saved";
}
