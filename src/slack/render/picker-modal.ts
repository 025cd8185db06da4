import type { Campaign, SequenceNode } from "../../drafting/service/steps.ts";
import { INPUTS, VIEWS } from "../ids.ts";
import { SLACK_LIMITS as L } from "../limits.ts";
import { truncate } from "../text.ts";
import { context, plainText, section } from "./blocks.ts";
import {
  type InputBlock,
  type ModalBlock,
  type ModalView,
  modal,
  type Option,
  option,
  type StaticSelect,
} from "./modals.ts";

/**
 * The campaign and step picker: a campaign select that dispatches an action (so the steps follow it),
 * the campaign's steps, the brief when the draft has none yet, and "Remember for this channel".
 */

export interface PickerModalInput {
  campaigns: Campaign[];
  steps: { node: SequenceNode; label: string }[];
  selectedCampaignId?: string;
  selectedNodeId?: string;
  brief?: string;
  askBrief: boolean;
  rememberDefault: boolean;
  privateMetadata: string;
  title?: string;
}

/** The value of the "Remember for this channel" checkbox. */
export const REMEMBER_VALUE = "remember";

/** Campaign and step choice (and the brief, when the draft has none yet). */
export function pickerModal(input: PickerModalInput): ModalView {
  const hasCampaigns = input.campaigns.length > 0;
  const blocks: ModalBlock[] = hasCampaigns
    ? [
        campaignInput(input.campaigns, input.selectedCampaignId),
        stepInput(input),
        ...(input.askBrief ? [briefInput(input.brief)] : []),
        rememberInput(input.rememberDefault),
      ]
    : [section("Puffle has no campaigns for this workspace yet. Create one in Puffle, then try again.")];
  return modal({
    callbackId: VIEWS.picker,
    title: input.title ?? (input.askBrief ? "Start a draft" : "Campaign and step"),
    submit: hasCampaigns ? (input.askBrief ? "Start drafting" : "Save") : null,
    privateMetadata: input.privateMetadata,
    blocks,
  });
}

function campaignInput(campaigns: Campaign[], selectedId: string | undefined): InputBlock {
  // Drafts first (the only campaigns a draft can be saved to), otherwise in the order given.
  const ordered = [
    ...campaigns.filter((campaign) => campaign.status === "draft"),
    ...campaigns.filter((campaign) => campaign.status !== "draft"),
  ];
  const options = ordered
    .filter((campaign) => campaign.id.length <= L.optionValue)
    .map((campaign) =>
      option(campaign.status ? `${campaign.name} (${campaign.status})` : campaign.name, campaign.id),
    );
  return {
    type: "input",
    block_id: INPUTS.campaign.block,
    // Choosing a campaign fires an action, so the step list can follow it.
    dispatch_action: true,
    label: plainText("Campaign", L.inputLabel),
    element: select(INPUTS.campaign.action, "Choose a campaign", options, selectedId),
  };
}

/**
 * The step block's id changes with the campaign: Slack keeps an input's state across views.update while
 * its block_id stays the same, which would keep a step of the previous campaign selected.
 */
const stepBlockId = (campaignId: string | undefined) => `${INPUTS.step.block}:${campaignId ?? "none"}`;

function stepInput(input: PickerModalInput): ModalBlock {
  if (input.steps.length === 0) {
    return context(
      input.selectedCampaignId
        ? "This campaign has no email or AI steps to draft. Choose another campaign."
        : "Choose a campaign to see its steps.",
    );
  }
  const options = input.steps
    .filter((step) => step.node.id.length <= L.optionValue)
    .map((step) => option(step.label, step.node.id));
  return {
    type: "input",
    block_id: truncate(stepBlockId(input.selectedCampaignId), L.blockId),
    label: plainText("Step", L.inputLabel),
    element: select(INPUTS.step.action, "Choose a step", options, input.selectedNodeId),
  };
}

function select(
  actionId: string,
  placeholder: string,
  options: Option[],
  selectedValue?: string,
): StaticSelect {
  const selected = options.find((candidate) => candidate.value === selectedValue);
  let shown = options.slice(0, L.selectOptions);
  // The current choice stays choosable even when it falls past Slack's option limit.
  if (selected && !shown.includes(selected)) shown = [...shown.slice(0, L.selectOptions - 1), selected];
  return {
    type: "static_select",
    action_id: actionId,
    placeholder: plainText(placeholder, L.placeholder),
    options: shown,
    ...(selected ? { initial_option: selected } : {}),
  };
}

function briefInput(brief: string | undefined): InputBlock {
  const initial = brief?.trim() ? truncate(brief.trim(), L.plainTextInput) : undefined;
  return {
    type: "input",
    block_id: INPUTS.brief.block,
    label: plainText("Brief", L.inputLabel),
    element: {
      type: "plain_text_input",
      action_id: INPUTS.brief.action,
      multiline: true,
      max_length: L.plainTextInput,
      placeholder: plainText("e.g. Intro email for VPs of Sales, time-to-ROI angle", L.placeholder),
      ...(initial ? { initial_value: initial } : {}),
    },
  };
}

function rememberInput(checked: boolean): InputBlock {
  const remember = option("Remember for this channel", REMEMBER_VALUE);
  return {
    type: "input",
    block_id: INPUTS.remember.block,
    optional: true,
    label: plainText("Channel default", L.inputLabel),
    element: {
      type: "checkboxes",
      action_id: INPUTS.remember.action,
      options: [remember],
      ...(checked ? { initial_options: [remember] } : {}),
    },
  };
}
