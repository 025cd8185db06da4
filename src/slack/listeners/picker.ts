import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import { failureLog, failureOf } from "../../drafting/failures.ts";
import { INPUTS } from "../ids.ts";
import { failureSentence } from "../render/failure-words.ts";
import { decodeMetadata, encodeMetadata } from "../render/modal-metadata.ts";
import type { ModalView } from "../render/modals.ts";
import { pickerModal } from "../render/picker-modal.ts";
import { loadingModal, noticeModal } from "../render/prompts.ts";
import type { ListenerDeps } from "./deps.ts";

/**
 * The campaign/step picker, opened from /draft, /draft settings, the message shortcut and the
 * "Choose campaign and step" button. A trigger_id lives 3 s, so a loading modal opens first
 * and the campaigns (a Puffle call) arrive with views.update.
 */
export const PickerMetadataSchema = z.object({
  /**
   * command: /draft (posts a root message); thread: a waiting thread; settings: the channel default;
   * workspace: the workspace default, from the Home tab (which has no channel: see home/default-step.ts).
   */
  mode: z.enum(["command", "thread", "settings", "workspace"]),
  teamId: z.string().min(1).max(32),
  channelId: z.string().min(1).max(32),
  threadId: z.number().int().positive().optional(),
  /** The "Choose campaign and step" message, updated once a step is chosen. */
  promptTs: z.string().max(32).optional(),
});
export type PickerMetadata = z.infer<typeof PickerMetadataSchema>;

export function readPickerMetadata(text: string | undefined): PickerMetadata | undefined {
  return decodeMetadata(text, PickerMetadataSchema);
}

const TITLES = {
  command: "Start a draft",
  thread: "Campaign and step",
  settings: "Channel settings",
  workspace: "Workspace default",
} as const;

export async function openPicker(
  client: WebClient,
  deps: ListenerDeps,
  input: {
    triggerId: string;
    metadata: PickerMetadata;
    brief?: string;
    selectedCampaignId?: string;
    /** Slow work that must wait until the modal is open (the trigger_id expires in 3 s). */
    afterOpen?: () => Promise<Partial<PickerMetadata>>;
  },
): Promise<void> {
  const title = TITLES[input.metadata.mode];
  const opened = await client.views.open({ trigger_id: input.triggerId, view: loadingModal(title) });
  const viewId = opened.view?.id;
  if (!viewId) return;
  const extra = (await input.afterOpen?.()) ?? {};
  const view = await pickerView(deps, {
    metadata: { ...input.metadata, ...extra },
    brief: input.brief,
    selectedCampaignId: input.selectedCampaignId,
  });
  await client.views.update({ view_id: viewId, view: view });
}

/** The picker for the given selection; a Puffle failure becomes a notice instead of a form. */
export async function pickerView(
  deps: ListenerDeps,
  input: {
    metadata: PickerMetadata;
    brief?: string | undefined;
    selectedCampaignId?: string | undefined;
    selectedNodeId?: string | undefined;
  },
): Promise<ModalView> {
  const title = TITLES[input.metadata.mode];
  try {
    const campaigns = await deps.drafting.listCampaigns(input.metadata.teamId);
    const current =
      input.metadata.mode === "settings" && !input.selectedCampaignId
        ? await deps.drafting.channelChoice(input.metadata.teamId, input.metadata.channelId)
        : input.metadata.mode === "workspace" && !input.selectedCampaignId
          ? ((await deps.drafting.workspaceStatus(input.metadata.teamId)).defaultStep ?? undefined)
          : undefined;
    const selectedCampaignId =
      input.selectedCampaignId ??
      current?.campaignId ??
      (campaigns.length === 1 ? campaigns[0]?.id : undefined);
    const steps = selectedCampaignId
      ? await deps.drafting.listSteps(input.metadata.teamId, selectedCampaignId)
      : [];
    const view = pickerModal({
      campaigns,
      steps,
      selectedCampaignId,
      selectedNodeId:
        input.selectedNodeId ?? current?.nodeId ?? (steps.length === 1 ? steps[0]?.node.id : undefined),
      brief: input.brief,
      askBrief: input.metadata.mode === "command",
      rememberDefault: input.metadata.mode !== "thread",
      privateMetadata: encodeMetadata(input.metadata),
      title,
    });
    // The workspace default is nobody's channel: no "Remember for this channel" there.
    if (input.metadata.mode !== "workspace") return view;
    return {
      ...view,
      blocks: view.blocks.filter((b) => !("block_id" in b && b.block_id === INPUTS.remember.block)),
    };
  } catch (error) {
    deps.logger.warn({ err: failureLog(error) }, "picker.campaigns_unavailable");
    const code = failureOf(error);
    // Puffle's own trouble: the list could not be fetched; otherwise the failure's own words.
    const why =
      code === "no_puffle_key" || code === "unauthorized" || code === "forbidden" || code === "out_of_credits"
        ? failureSentence(code)
        : "Puffle could not list the campaigns just now. Close this and try again in a minute.";
    return noticeModal(title, why);
  }
}
