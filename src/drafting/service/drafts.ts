import { CONTRACT } from "../../puffle/contract.ts";
import type { SequenceNode } from "../../puffle/schemas.ts";
import { draftViewOf, stepLabel } from "../campaign-context.ts";
import { type DraftView, draftHashOf } from "../draft-view.ts";
import type { Author } from "../outcomes.ts";
import type { ThreadRecord, ThreadRef } from "../store.ts";
import type { Refused, ServiceContext, SharedHelpers } from "./context.ts";

/** What people do with a draft outside a turn: read it, edit it by hand, save it to the campaign. */
export type DraftActions = ReturnType<typeof createDraftActions>;

export function createDraftActions(ctx: ServiceContext, helpers: SharedHelpers) {
  const { store, clock, logger } = ctx;

  return {
    /** The current draft (fresh from Puffle), e.g. to fill the Edit modal. */
    async currentDraft(ref: ThreadRef): Promise<DraftView | undefined> {
      const thread = await helpers.draftedThread(ref);
      if (!thread) return undefined;
      const account = await helpers.account(thread.teamId);
      return draftViewOf(account.campaigns, thread, await account.puffle.getSession(thread.sessionId));
    },

    /**
     * Saves an edited subject and/or body with PATCH, only while the session is idle (PATCH does not
     * check task_status itself), holding the thread's lease; the new card is shown under it. A null
     * field keeps what Puffle has.
     */
    async editDraft(input: {
      thread: ThreadRef;
      author: Author;
      subject: string | null;
      body: string | null;
    }): Promise<
      { status: "saved"; thread: ThreadRecord } | Refused<"not_mapped" | "busy" | "nothing_changed">
    > {
      const thread = await helpers.draftedThread(input.thread);
      if (!thread) return { status: "refused", reason: "not_mapped" };
      if (input.subject === null && input.body === null)
        return { status: "refused", reason: "nothing_changed" };
      const account = await helpers.account(thread.teamId);
      const edited = await helpers.withLease(thread.id, async (lease) => {
        const session = await helpers.idleSession(thread, account);
        if (!session) return undefined;
        lease.assertHeld();
        const saved = await account.puffle.patchSession(thread.sessionId, {
          ...(input.subject === null ? {} : { draft_subject: input.subject }),
          ...(input.body === null ? {} : { draft_body: input.body }),
        });
        await store.updateThread(
          thread.id,
          { draftHash: draftHashOf(saved), messageCount: saved.messages?.length ?? thread.messageCount },
          lease,
        );
        logger.info(
          { threadId: thread.id, sessionId: thread.sessionId, by: input.author.id },
          "draft.edited",
        );
        await ctx.emit({
          type: "edited",
          thread,
          turnIds: [],
          kind: "chat",
          fence: lease,
          draft: await draftViewOf(account.campaigns, thread, saved),
          requestedBy: [input.author],
          editId: `${thread.id}:${clock.now()}`,
        });
        return thread;
      });
      return edited ? { status: "saved", thread: edited } : { status: "refused", reason: "busy" };
    },

    /** Writes the draft to the campaign step: email steps of draft campaigns only. */
    async saveToCampaign(input: {
      thread: ThreadRef;
      author: Author;
    }): Promise<
      | { status: "saved"; thread: ThreadRecord; node: SequenceNode; campaignName: string; stepLabel: string }
      | Refused<"not_mapped" | "busy" | "no_draft" | "not_email_step" | "campaign_not_draft">
    > {
      const thread = await helpers.draftedThread(input.thread);
      if (!thread) return { status: "refused", reason: "not_mapped" };
      const account = await helpers.account(thread.teamId);
      account.campaigns.invalidate(thread.campaignId);
      const snapshot = await account.campaigns.get(thread.campaignId);
      const node = snapshot.nodes.find((n) => n.id === thread.nodeId);
      if (!node || !(CONTRACT.savableNodeTypes as readonly string[]).includes(node.type)) {
        return { status: "refused", reason: "not_email_step", detail: node?.type };
      }
      if (snapshot.campaign.status !== CONTRACT.savableCampaignStatus) {
        return {
          status: "refused",
          reason: "campaign_not_draft",
          detail: snapshot.campaign.status ?? undefined,
        };
      }
      // The campaign's step is written, not the thread or its session: no lease needed, only an idle session.
      const session = await helpers.idleSession(thread, account);
      if (!session) return { status: "refused", reason: "busy" };
      if (!session.draft_subject && !session.draft_body) return { status: "refused", reason: "no_draft" };
      const saved = await account.puffle.updateNode(thread.campaignId, thread.nodeId, {
        subject: session.draft_subject ?? "",
        body: session.draft_body ?? "",
      });
      account.campaigns.invalidate(thread.campaignId);
      await store.updateThread(thread.id, { savedAt: clock.now() });
      logger.info(
        { threadId: thread.id, campaignId: thread.campaignId, nodeId: thread.nodeId, by: input.author.id },
        "draft.saved_to_campaign",
      );
      return {
        status: "saved",
        thread,
        node: saved,
        campaignName: snapshot.campaign.name,
        stepLabel: stepLabel(snapshot, thread.nodeId),
      };
    },
  };
}
