import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { failureLog, failureOf } from "../../drafting/failures.ts";
import {
  ACTIONS,
  INPUTS,
  parseCardButtonValue,
  parseThreadButtonValue,
  parseTurnButtonValue,
  REFINES,
  type RefineKind,
} from "../ids.ts";
import { failureSentence } from "../render/failure-words.ts";
import { customRefineModal, editModal } from "../render/modals.ts";
import { loadingModal, noticeModal, renderSavedToCampaign } from "../render/prompts.ts";
import { isSlackApiError, slackErrorCode } from "../slack-errors.ts";
import {
  type BlockAction,
  BlockActionSchema,
  type Click,
  cardMetadata,
  clickOf,
  currentCard,
  liveCard,
  OUTDATED,
  where,
} from "./cards.ts";
import {
  authorNow,
  authorOf,
  channelAllowed,
  fillAuthorName,
  type ListenerDeps,
  postInThread,
  readPayload,
  tellUser,
} from "./deps.ts";
import { openPicker, pickerView, readPickerMetadata } from "./picker.ts";

export function registerActionListeners(app: App, deps: ListenerDeps): void {
  const onClick = (
    actionId: string | RegExp,
    handle: (client: WebClient, click: Click, body: BlockAction) => Promise<void>,
  ) => {
    app.action(actionId, async ({ ack, body, client }) => {
      await ack();
      const action = readPayload(deps, "action", BlockActionSchema, body);
      if (!action) return;
      const click = clickOf(action);
      if (!click) {
        deps.logger.warn({ actionId: action.actions[0]?.action_id }, "action.without_message");
        return;
      }
      if (!channelAllowed(deps, click.ref.channelId)) return;
      try {
        await handle(client, click, action);
      } catch (error) {
        deps.logger.error({ actionId: action.actions[0]?.action_id, err: describe(error) }, "action.failed");
        await tellUser(client, deps, where(click), failureText(error));
      }
    });
  };

  // Refine buttons: each is one turn with a clear instruction, attributed to whoever clicked. Like a
  // typed message, the turn is recorded before Slack hears back.
  app.action(new RegExp(`^${escapeRegExp(ACTIONS.refinePrefix)}`), async ({ ack, body, client }) => {
    const action = readPayload(deps, "action", BlockActionSchema, body);
    const click = action && clickOf(action);
    const refine =
      action && REFINES[action.actions[0]?.action_id.slice(ACTIONS.refinePrefix.length) as RefineKind];
    if (!click || !refine || !channelAllowed(deps, click.ref.channelId)) {
      await ack();
      return;
    }
    if (!(await currentCard(deps, click))) {
      await ack();
      await tellUser(client, deps, where(click), OUTDATED);
      return;
    }
    const author = authorNow(deps, { teamId: click.ref.teamId, userId: click.userId });
    const sent = await deps.drafting.submitMessage({
      thread: click.ref,
      author,
      text: refine.instruction,
      dedupeKeys: [`action:${click.triggerId}`],
    });
    await ack();
    if (sent.status === "accepted") fillAuthorName(deps, click.ref.teamId, sent.turn.id, author);
  });

  onClick(ACTIONS.custom, async (client, click) => {
    const thread = await liveCard(client, deps, click);
    if (!thread?.sessionId) return;
    await client.views.open({
      trigger_id: click.triggerId,
      view: customRefineModal({ privateMetadata: cardMetadata(click, thread, revisionOf(click)) }),
    });
  });

  onClick(ACTIONS.examples, async (client, click) => {
    const thread = await liveCard(client, deps, click);
    if (!thread) return;
    await deps.drafting.requestExamples({
      thread: click.ref,
      author: await authorOf(deps, { teamId: click.ref.teamId, userId: click.userId }),
    });
  });

  onClick(ACTIONS.edit, async (client, click) => {
    const thread = await liveCard(client, deps, click);
    if (!thread?.sessionId) return;
    const opened = await client.views.open({
      trigger_id: click.triggerId,
      view: loadingModal("Edit draft"),
    });
    const viewId = opened.view?.id;
    if (!viewId) return;
    const draft = await deps.drafting.currentDraft(click.ref).catch((error: unknown) => {
      deps.logger.warn({ err: describe(error) }, "edit.draft_unavailable");
      return undefined;
    });
    const view = draft
      ? editModal({
          subject: draft.subject ?? "",
          body: draft.body ?? "",
          privateMetadata: cardMetadata(click, thread, revisionOf(click)),
        })
      : noticeModal(
          "Edit draft",
          "Puffle could not send the current draft just now. Close this and try again.",
        );
    await client.views.update({ view_id: viewId, view: view });
  });

  onClick(ACTIONS.save, async (client, click) => {
    const thread = await liveCard(client, deps, click);
    if (!thread) return;
    const author = await authorOf(deps, { teamId: click.ref.teamId, userId: click.userId });
    const saved = await deps.drafting.saveToCampaign({ thread: click.ref, author });
    if (saved.status === "saved") {
      const message = renderSavedToCampaign({
        campaignName: saved.campaignName,
        stepLabel: saved.stepLabel,
        userId: click.userId,
      });
      await postInThread(
        deps,
        `saved:${thread.id}:${click.triggerId}`,
        { ...click.ref, threadId: thread.id },
        message,
      );
      return;
    }
    await tellUser(client, deps, where(click), SAVE_REFUSALS[saved.reason](saved.detail));
  });

  onClick(ACTIONS.retry, async (client, click) => {
    const turnId = parseTurnButtonValue(click.value);
    if (turnId === undefined) return;
    const retried = await deps.drafting.retryTurn({
      thread: click.ref,
      turnId,
      author: await authorOf(deps, { teamId: click.ref.teamId, userId: click.userId }),
    });
    if (retried.status === "refused") {
      await tellUser(client, deps, where(click), "That turn is no longer waiting for a retry.");
    }
  });

  onClick(ACTIONS.checkAgain, async (client, click) => {
    const turnId = parseTurnButtonValue(click.value);
    if (turnId === undefined) return;
    const checked = await deps.drafting.checkAgain({ thread: click.ref, turnId });
    if (checked.status === "refused") {
      await tellUser(
        client,
        deps,
        where(click),
        "That turn has already finished: its result is in the thread.",
      );
    }
  });

  onClick(ACTIONS.openPicker, async (client, click) => {
    const threadId = parseThreadButtonValue(click.value);
    const thread = threadId === undefined ? undefined : await deps.drafting.findThreadById(threadId);
    // The button must sit in the thread it names.
    if (!thread || thread.channelId !== click.ref.channelId || thread.threadTs !== click.ref.threadTs) return;
    if (thread.campaignId) {
      await tellUser(client, deps, where(click), "This draft already has its campaign and step.");
      return;
    }
    await openPicker(client, deps, {
      triggerId: click.triggerId,
      metadata: {
        mode: "thread",
        teamId: click.ref.teamId,
        channelId: click.ref.channelId,
        threadId: thread.id,
        promptTs: click.messageTs,
      },
    });
  });

  // Inside the picker: a campaign choice reloads the steps of that campaign.
  app.action(ACTIONS.pickerCampaign, async ({ ack, body, client }) => {
    await ack();
    const action = readPayload(deps, "action", BlockActionSchema, body);
    const view = action?.view;
    const metadata = readPickerMetadata(view?.private_metadata);
    if (!action || !view || !metadata) return;
    const selectedCampaignId = action.actions[0]?.selected_option?.value;
    const briefState = view.state?.values[INPUTS.brief.block]?.[INPUTS.brief.action] as
      | { value?: string }
      | undefined;
    const next = await pickerView(deps, {
      metadata,
      selectedCampaignId,
      brief: briefState?.value ?? undefined,
    });
    try {
      await client.views.update({
        view_id: view.id,
        ...(view.hash ? { hash: view.hash } : {}),
        view: next,
      });
    } catch (error) {
      // hash_conflict: the person changed the form again meanwhile; their newer choice wins.
      deps.logger.debug({ err: describe(error) }, "picker.update_skipped");
    }
  });
  app.action(ACTIONS.pickerStep, async ({ ack }) => {
    await ack();
  });
}

/** The revision a (checked) card button names. */
const revisionOf = (click: Click) => parseCardButtonValue(click.value)?.revision ?? 0;

type SaveRefusal = "not_mapped" | "busy" | "no_draft" | "not_email_step" | "campaign_not_draft";
const SAVE_REFUSALS: Record<SaveRefusal, (detail?: string) => string> = {
  not_mapped: () => "This thread has no draft to save yet.",
  busy: () => "Puffle is still working on this draft. Save it when the current turn is done.",
  no_draft: () => "There is no subject or body to save yet.",
  not_email_step: (type) =>
    `Only email steps can be saved from here${type ? ` (this step is ${type === "ai" ? "an AI step" : `a ${type} step`})` : ""}. Copy the draft into Puffle instead.`,
  campaign_not_draft: (status) =>
    `Puffle only accepts edits to draft campaigns${status ? `; this one is ${status}` : ""}. Copy the draft into Puffle instead.`,
};

/** What the person is told when their click could not be done: the shared failure words. */
function failureText(error: unknown): string {
  const code = failureOf(error);
  return failureSentence(code, { retryable: false }) || failureSentence("internal");
}

/** For the log line: Slack's error code for a Slack call, else the drafting failure. */
function describe(error: unknown): Record<string, unknown> {
  return isSlackApiError(error) ? { slack: slackErrorCode(error) } : failureLog(error);
}

function escapeRegExp(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
