import { CONTRACT } from "../../puffle/contract.ts";
import { isPuffleError } from "../../puffle/errors.ts";
import type { Campaign, SequenceNode } from "../../puffle/schemas.ts";

/** Campaigns and their steps as the catalog lists them (Puffle's shapes, checked by its schemas). */
export type { Campaign, SequenceNode };

import { stepLabel } from "../campaign-context.ts";
import type { StepChoice } from "../store.ts";
import type { ServiceContext, SharedHelpers } from "./context.ts";

export type StepSource = "channel" | "user" | "workspace" | "default";

export interface StepOption {
  node: SequenceNode;
  label: string;
}

/** Which campaign and step a draft is for, and the choices the picker offers (of the workspace's account). */
export type StepCatalog = ReturnType<typeof createStepCatalog>;

export function createStepCatalog(ctx: ServiceContext, helpers: SharedHelpers) {
  const { store, clock, logger } = ctx;

  return {
    /**
     * The step for a new draft: the channel's choice (or, in a DM, the user's), else the workspace's
     * default (set in the Home tab), else the deployment's (PUFFLE_CAMPAIGN_ID + PUFFLE_NODE_ID).
     */
    async resolveStep(input: {
      teamId: string;
      channelId: string;
      userId: string;
      isDirect: boolean;
    }): Promise<(StepChoice & { source: StepSource }) | undefined> {
      const saved = input.isDirect
        ? await store.getUserChoice(input.teamId, input.userId)
        : await store.getChannelChoice(input.teamId, input.channelId);
      if (saved)
        return {
          campaignId: saved.campaignId,
          nodeId: saved.nodeId,
          source: input.isDirect ? "user" : "channel",
        };
      const workspace = (await store.getWorkspace(input.teamId))?.defaultStep;
      if (workspace) return { ...workspace, source: "workspace" };
      return ctx.defaultStep ? { ...ctx.defaultStep, source: "default" } : undefined;
    },

    async rememberStep(input: {
      teamId: string;
      channelId: string;
      userId: string;
      step: StepChoice;
      forChannel: boolean;
    }): Promise<void> {
      const now = clock.now();
      await store.setUserChoice(input.teamId, input.userId, input.step, now);
      if (input.forChannel)
        await store.setChannelChoice(input.teamId, input.channelId, input.step, input.userId, now);
    },

    channelChoice(teamId: string, channelId: string) {
      return store.getChannelChoice(teamId, channelId);
    },

    /** The workspace's campaigns for the picker: draft campaigns first, then by name. */
    async listCampaigns(teamId: string): Promise<Campaign[]> {
      const list = await (await helpers.account(teamId)).puffle.listCampaigns();
      const rank = (c: Campaign) => (c.status === "draft" ? 0 : 1);
      return [...list].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    },

    /** The steps a session can draft (email and AI steps), labelled. */
    async listSteps(teamId: string, campaignId: string): Promise<StepOption[]> {
      const snapshot = await (await helpers.account(teamId)).campaigns.get(campaignId);
      return snapshot.nodes
        .filter((n) => (CONTRACT.draftableNodeTypes as readonly string[]).includes(n.type))
        .sort((a, b) => a.position - b.position)
        .map((node) => ({ node, label: stepLabel(snapshot, node.id) }));
    },

    /** Campaign and step names for display, when Puffle can tell us. */
    async describeStep(
      teamId: string,
      step: StepChoice,
    ): Promise<{ campaignName: string; stepLabel: string; campaignStatus: string | null } | undefined> {
      try {
        const snapshot = await (await helpers.account(teamId)).campaigns.get(step.campaignId);
        return {
          campaignName: snapshot.campaign.name,
          stepLabel: stepLabel(snapshot, step.nodeId),
          campaignStatus: snapshot.campaign.status ?? null,
        };
      } catch (error) {
        logger.warn(
          { ...step, err: isPuffleError(error) ? error.toLog() : String(error) },
          "campaign.unavailable",
        );
        return undefined;
      }
    },
  };
}
