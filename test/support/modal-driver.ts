import type { FakeSlack, StoredView } from "./fake-slack.ts";
import type { E2E } from "./harness.ts";
import type { SlackHttpResponse } from "./slack-requests.ts";

/** Modals as a person drives them in the e2e tests: opening, reading inputs, choosing, submitting. */

/**
 * Runs `open` (a command, a click...) and waits for a modal opened by it, not one from before, to show
 * `callbackId` (e.g. after the loading modal was replaced by views.update).
 */
export async function opensModal(
  slack: FakeSlack,
  callbackId: string,
  open: () => Promise<unknown>,
): Promise<StoredView> {
  const before = new Set(slack.views().map((view) => view.id));
  await open();
  return slack.waitFor(
    () => slack.views().find((view) => !before.has(view.id) && view.view.callback_id === callbackId),
    { message: `a new modal ${callbackId}` },
  );
}

/** The current version of a stored modal. */
export function currentView(slack: FakeSlack, id: string): StoredView | undefined {
  return slack.views().find((view) => view.id === id);
}

interface InputBlockShape {
  type?: string;
  block_id?: string;
  element?: {
    type?: string;
    action_id?: string;
    initial_value?: string;
    initial_option?: unknown;
    initial_options?: unknown[];
    options?: { value: string }[];
  };
}

/** The input blocks of a modal. */
export function inputsOf(view: StoredView): InputBlockShape[] {
  return ((view.view.blocks ?? []) as InputBlockShape[]).filter((block) => block.type === "input");
}

/**
 * `view.state.values` as Slack submits it: every input block, keyed by block_id then action_id, holding
 * what the person chose (by action_id) or else the input's initial value. Selects and checkboxes take
 * option values; `null` clears a choice.
 */
export function submittedState(
  view: StoredView,
  chosen: Record<string, string | string[] | null> = {},
): { values: Record<string, Record<string, unknown>> } {
  const values: Record<string, Record<string, unknown>> = {};
  for (const block of inputsOf(view)) {
    const element = block.element;
    if (!block.block_id || !element?.action_id) continue;
    const actionId = element.action_id;
    const has = Object.hasOwn(chosen, actionId);
    const pick = chosen[actionId];
    const option = (value: string) => {
      const found = element.options?.find((candidate) => candidate.value === value);
      if (!found) throw new Error(`no option ${value} in ${actionId}`);
      return found;
    };
    let state: Record<string, unknown>;
    switch (element.type) {
      case "static_select":
        state = {
          selected_option: has
            ? typeof pick === "string"
              ? option(pick)
              : null
            : (element.initial_option ?? null),
        };
        break;
      case "checkboxes":
        state = {
          selected_options: has
            ? (Array.isArray(pick) ? pick : typeof pick === "string" ? [pick] : []).map(option)
            : (element.initial_options ?? []),
        };
        break;
      default:
        state = { value: has ? (typeof pick === "string" ? pick : null) : (element.initial_value ?? null) };
    }
    values[block.block_id] = { [actionId]: { type: element.type, ...state } };
  }
  return { values };
}

/** Submits a modal as Slack does, with `chosen` filled into its inputs. */
export function submitModal(
  e2e: E2E,
  user: string,
  view: StoredView,
  chosen: Record<string, string | string[] | null> = {},
): Promise<SlackHttpResponse> {
  return e2e.requester.viewSubmission({
    user,
    view: {
      ...view.view,
      callback_id: String(view.view.callback_id),
      state: submittedState(view, chosen),
    },
  });
}

/** The parsed body of an interactivity answer; `{}` for a plain ack. */
export function ackBody(response: SlackHttpResponse): Record<string, unknown> {
  return response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {};
}

/** Block ids of the picker (see src/slack/ids.ts INPUTS; the step block's id carries the campaign). */
const PICKER = {
  campaignAction: "picker.campaign_select",
  stepAction: "picker.step_select",
  briefAction: "picker.brief_input",
  rememberAction: "picker.remember_input",
};

/**
 * In an open picker, the person chooses a campaign: the select fires a block action inside the modal,
 * and the bot answers with views.update listing that campaign's steps. Returns the updated picker.
 */
export async function chooseCampaign(
  e2e: E2E,
  user: string,
  picker: StoredView,
  campaignId: string,
): Promise<StoredView> {
  const option = inputsOf(picker)
    .find((block) => block.element?.action_id === PICKER.campaignAction)
    ?.element?.options?.find((candidate) => candidate.value === campaignId);
  if (!option) throw new Error(`campaign ${campaignId} is not in the picker`);
  const response = await e2e.requester.blockAction({
    user,
    view: {
      id: picker.id,
      hash: picker.view.hash,
      callback_id: picker.view.callback_id,
      private_metadata: picker.view.private_metadata,
      blocks: picker.view.blocks,
      state: submittedState(picker, { [PICKER.campaignAction]: campaignId }),
    },
    actions: [{ action_id: PICKER.campaignAction, selected_option: option }],
  });
  if (response.status !== 200) throw new Error(`picker campaign action answered ${response.status}`);
  return e2e.slack.waitFor(
    () => {
      const view = currentView(e2e.slack, picker.id);
      const steps = view && inputsOf(view).find((block) => block.element?.action_id === PICKER.stepAction);
      return steps?.block_id?.endsWith(campaignId) ? view : undefined;
    },
    { message: `the picker listing the steps of ${campaignId}` },
  );
}

/** Submits a picker: campaign and step (null: none chosen), brief and "remember" when given. */
export function submitPicker(
  e2e: E2E,
  user: string,
  picker: StoredView,
  choice: { campaignId: string; nodeId: string | null; brief?: string; remember?: boolean },
): Promise<SlackHttpResponse> {
  return submitModal(e2e, user, picker, {
    [PICKER.campaignAction]: choice.campaignId,
    [PICKER.stepAction]: choice.nodeId,
    ...(choice.brief === undefined ? {} : { [PICKER.briefAction]: choice.brief }),
    ...(choice.remember === undefined
      ? {}
      : { [PICKER.rememberAction]: choice.remember ? ["remember"] : [] }),
  });
}
