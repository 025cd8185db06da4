import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { StepChoice } from "../../drafting/store.ts";
import { ACK_BUDGET_MS, settlesWithin } from "../ack-budget.ts";
import type { ViewAnswer } from "../home/answers.ts";
import { submitWorkspaceDefault } from "../home/default-step.ts";
import { VIEWS } from "../ids.ts";
import { readCustomInstruction, readEditValues, readPickerValues } from "../render/modal-forms.ts";
import { decodeMetadata } from "../render/modal-metadata.ts";
import { renderStepChosen } from "../render/prompts.ts";
import { escapeMrkdwn } from "../text.ts";
import { CardMetadataSchema, sendFromCardForm } from "./cards.ts";
import { startFromCommand } from "./commands.ts";
import { authorOf, channelAllowed, type ListenerDeps, postInThread, tellUser } from "./deps.ts";
import { readPickerMetadata } from "./picker.ts";

/**
 * Modal submissions. Metadata carries identifiers only and is checked again here; form
 * problems go back to the modal as field errors; everything slow happens after the ack.
 */

export function registerViewListeners(app: App, deps: ListenerDeps): void {
  app.view(VIEWS.picker, async ({ ack, view, body, client }) => {
    const metadata = readPickerMetadata(view.private_metadata);
    const values = readPickerValues(view);
    if (!values.ok) {
      await ack({ response_action: "errors", errors: values.errors });
      return;
    }
    if (metadata?.mode === "workspace") {
      const { campaignId, nodeId } = values.value;
      const input = {
        ack: (answer?: ViewAnswer) => ack(answer),
        view,
        teamId: body.team?.id,
        userId: body.user.id,
        metadata,
      };
      await submitWorkspaceDefault(client, deps, { ...input, choice: { campaignId, nodeId } });
      return;
    }
    if (!metadata || metadata.teamId !== body.team?.id || !channelAllowed(deps, metadata.channelId)) {
      await ack();
      deps.logger.warn({ user: body.user.id }, "picker.bad_metadata");
      return;
    }
    const choice = { campaignId: values.value.campaignId, nodeId: values.value.nodeId };
    const userId = body.user.id;
    const where = { channel: metadata.channelId, user: userId };
    // The step must really be one of this campaign's draftable steps (the form is untrusted). The
    // campaign is normally cached from opening the picker; if Puffle is slow, the modal closes
    // first (Slack wants an answer within 3 s) and the check finishes afterwards.
    const check = deps.drafting.listSteps(metadata.teamId, choice.campaignId).then(
      (steps) => steps.find((s) => s.node.id === choice.nodeId) ?? null,
      () => undefined,
    );
    const early = await settlesWithin(check, ACK_BUDGET_MS);
    if (early.settled && early.value === null) {
      const stepBlock =
        Object.keys(view.state.values).find((id) => id.startsWith("picker.step")) ?? "picker.campaign";
      await ack({
        response_action: "errors",
        errors: { [stepBlock]: "Choose one of this campaign's steps." },
      });
      return;
    }
    await ack();
    const step = early.settled ? early.value : await check;
    if (!step) {
      await tellUser(
        client,
        deps,
        where,
        step === null
          ? "That step is not one of the campaign's email or AI steps. Nothing was started; open the picker again."
          : "Puffle could not confirm the campaign and step just now. Nothing was started; try again in a minute.",
      );
      return;
    }
    await deps.drafting.rememberStep({
      teamId: metadata.teamId,
      channelId: metadata.channelId,
      userId,
      step: choice,
      forChannel: values.value.remember,
    });
    switch (metadata.mode) {
      case "settings": {
        const described = await deps.drafting.describeStep(metadata.teamId, choice);
        const what = described
          ? `*${escapeMrkdwn(described.campaignName)}* · ${escapeMrkdwn(described.stepLabel)}`
          : step.label;
        await tellUser(client, deps, where, `New drafts in this channel will use ${what}.`);
        return;
      }
      case "command":
        await startFromCommand(client, deps, {
          teamId: metadata.teamId,
          channelId: metadata.channelId,
          userId,
          brief: values.value.brief ?? "",
          step: choice,
          dedupeKey: `view:${view.id}`,
        });
        return;
      case "thread": {
        if (metadata.threadId === undefined) return;
        const chosen = await deps.drafting.chooseStep({
          threadId: metadata.threadId,
          step: choice,
          author: await authorOf(deps, { teamId: metadata.teamId, userId }),
        });
        if (chosen.status === "refused") {
          await tellUser(client, deps, where, "This draft already has its campaign and step.");
          return;
        }
        await announceStep(client, deps, {
          teamId: chosen.thread.teamId,
          threadId: chosen.thread.id,
          channelId: chosen.thread.channelId,
          threadTs: chosen.thread.threadTs,
          promptTs: metadata.promptTs,
          userId,
          step: choice,
        });
        return;
      }
    }
  });

  app.view(VIEWS.custom, async ({ ack, view, body, client }) => {
    const instruction = readCustomInstruction(view);
    if (!instruction.ok) {
      await ack({ response_action: "errors", errors: instruction.errors });
      return;
    }
    await sendFromCardForm(client, deps, {
      privateMetadata: view.private_metadata,
      teamId: body.team?.id,
      userId: body.user.id,
      viewId: view.id,
      text: () => instruction.value,
      recorded: () => ack(),
    });
  });

  app.view(VIEWS.edit, async ({ ack, view, body, client }) => {
    const values = readEditValues(view);
    if (!values.ok) {
      await ack({ response_action: "errors", errors: values.errors });
      return;
    }
    const card = decodeMetadata(view.private_metadata, CardMetadataSchema);
    const ref = card
      ? { teamId: card.teamId, channelId: card.channelId, threadTs: card.threadTs }
      : undefined;
    const thread = ref ? await deps.drafting.findThread(ref) : undefined;
    if (!card || !ref || !thread || card.teamId !== body.team?.id || thread.sessionId !== card.sessionId) {
      await ack();
      return;
    }
    // A quick local check so the modal can say "busy" itself; Puffle is asked again below.
    if (await deps.drafting.isBusy(ref)) {
      const field = Object.keys(view.state.values)[0] ?? "edit.subject";
      await ack({
        response_action: "errors",
        errors: {
          [field]: "Puffle is working on this draft right now. Save your edit when the current turn is done.",
        },
      });
      return;
    }
    await ack();
    const author = await authorOf(deps, { teamId: ref.teamId, userId: body.user.id });
    const where = { channel: ref.channelId, user: body.user.id, threadTs: ref.threadTs };
    try {
      const saved = await deps.drafting.editDraft({
        thread: ref,
        author,
        subject: values.value.subject,
        body: values.value.body,
      });
      // A saved edit shows as a new card (posted by the drafting core's outcome, under the thread's lease).
      if (saved.status === "refused" && saved.reason === "busy") {
        await tellUser(
          client,
          deps,
          where,
          "Puffle started working on this draft before your edit arrived. Nothing was changed; try again when it is done.",
        );
      }
    } catch (error) {
      deps.logger.warn({ err: (error as Error).message }, "edit.failed");
      await tellUser(
        client,
        deps,
        where,
        "Puffle could not save your edit just now. Nothing was changed; try again in a minute.",
      );
    }
  });
}

/** The "Choose campaign and step" prompt becomes a note of the choice (or a note is posted). */
async function announceStep(
  client: WebClient,
  deps: ListenerDeps,
  input: {
    teamId: string;
    threadId: number;
    channelId: string;
    threadTs: string;
    promptTs?: string | undefined;
    userId: string;
    step: StepChoice;
  },
): Promise<void> {
  const described = await deps.drafting.describeStep(input.teamId, input.step);
  const message = renderStepChosen({
    campaignName: described?.campaignName ?? "the chosen campaign",
    stepLabel: described?.stepLabel ?? "the chosen step",
    userId: input.userId,
  });
  if (!input.promptTs) {
    await postInThread(deps, `chosen:${input.threadId}`, input, message);
    return;
  }
  try {
    await client.chat.update({
      channel: input.channelId,
      ts: input.promptTs,
      text: message.text,
      blocks: message.blocks,
    });
  } catch (error) {
    deps.logger.warn({ err: (error as Error).message }, "picker.announce_failed");
  }
}
