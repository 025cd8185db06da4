import type { App } from "@slack/bolt";
import { ACTIONS, parseFeedbackButtonValue, VIEWS } from "../ids.ts";
import { FEEDBACK_WORDS, feedbackModal } from "../render/feedback.ts";
import { readCustomInstruction } from "../render/modal-forms.ts";
import {
  BlockActionSchema,
  cardMetadata,
  clickOf,
  currentCard,
  OUTDATED,
  sendFromCardForm,
  where,
} from "./cards.ts";
import { channelAllowed, type ListenerDeps, readPayload, tellUser } from "./deps.ts";

/**
 * Thumbs up and down on the latest draft card (SPEC 9). Both are counted (a log line and the
 * feedback metric); up thanks the person, quietly; down asks "What should change?" and the answer
 * becomes the thread's next turn in its author's name. A click on an older card is refused like
 * any other card button, and counts nothing.
 */
export function registerFeedbackListeners(app: App, deps: ListenerDeps): void {
  app.action(ACTIONS.feedback, async ({ ack, body, client }) => {
    await ack();
    const action = readPayload(deps, "action", BlockActionSchema, body);
    const click = action && clickOf(action);
    if (!click) {
      if (action) deps.logger.warn({ actionId: ACTIONS.feedback }, "action.without_message");
      return;
    }
    if (!channelAllowed(deps, click.ref.channelId)) return;
    const feedback = parseFeedbackButtonValue(click.value);
    if (!feedback) {
      deps.logger.warn({ channelId: click.ref.channelId }, "feedback.unreadable");
      await tellUser(client, deps, where(click), FEEDBACK_WORDS.unreadable);
      return;
    }
    const thread = await currentCard(deps, click, feedback);
    if (!thread) {
      await tellUser(client, deps, where(click), OUTDATED);
      return;
    }
    deps.telemetry.feedback(feedback.rating);
    deps.logger.info(
      {
        rating: feedback.rating,
        teamId: click.ref.teamId,
        channelId: click.ref.channelId,
        threadId: thread.id,
        sessionId: feedback.sessionId,
        revision: feedback.revision,
        by: click.userId,
      },
      "feedback.given",
    );
    if (feedback.rating === "up") {
      await tellUser(client, deps, where(click), FEEDBACK_WORDS.thanks);
      return;
    }
    await client.views.open({
      trigger_id: click.triggerId,
      view: feedbackModal({ privateMetadata: cardMetadata(click, thread, feedback.revision) }),
    });
  });

  app.view(VIEWS.feedback, async ({ ack, view, body, client }) => {
    const answer = readCustomInstruction(view, "feedback");
    if (!answer.ok) {
      await ack({ response_action: "errors", errors: answer.errors });
      return;
    }
    await sendFromCardForm(client, deps, {
      privateMetadata: view.private_metadata,
      teamId: body.team?.id,
      userId: body.user.id,
      viewId: view.id,
      // In the person's name even when it is the only message of its turn ("Dana: shorter").
      text: (author) => (author.name ? `${author.name}: ${answer.value}` : answer.value),
      recorded: () => ack(),
    });
  });
}
