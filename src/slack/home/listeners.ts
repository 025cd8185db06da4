import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import { ACTIONS } from "../ids.ts";
import { type ListenerDeps, readPayload } from "../listeners/deps.ts";
import { pickerView } from "../listeners/picker.ts";
import type { ModalView } from "../render/modals.ts";
import { loadingModal, noticeModal } from "../render/prompts.ts";
import { slackErrorCode } from "../slack-errors.ts";
import { DEFAULT_NOT_ADMIN, DEFAULT_STEP_TITLE, HOME_CHANNEL } from "./default-step.ts";
import { registerKeyForm } from "./key-form.ts";
import { KEY_ANSWERS, KEY_TITLE, keyModal } from "./modals.ts";

/**
 * The App Home: published when a person opens it; its buttons (Connect Puffle / Change key,
 * Disconnect, Change the default step) and the key form. Every click is acknowledged first; a form
 * opens at once as "Loading..." (a trigger_id lives 3 s) and becomes the real one, or says why not.
 */

const OpenedSchema = z.looseObject({ user: z.string().min(1), tab: z.string().optional() });
const EnvelopeSchema = z.looseObject({ team_id: z.string().min(1) });

const ClickSchema = z.looseObject({
  trigger_id: z.string().min(1),
  user: z.looseObject({ id: z.string().min(1), team_id: z.string().optional() }),
  team: z.looseObject({ id: z.string().min(1) }).nullish(),
});
interface Click {
  teamId: string;
  userId: string;
  triggerId: string;
}

export function registerHomeListeners(app: App, deps: ListenerDeps): void {
  app.event("app_home_opened", async ({ event, body }) => {
    const opened = readPayload(deps, "home", OpenedSchema, event);
    const envelope = opened && readPayload(deps, "home", EnvelopeSchema, body);
    // The Messages and About tabs open here too: only the Home tab is ours to draw.
    if (!opened || !envelope || (opened.tab !== undefined && opened.tab !== "home")) return;
    deps.later("home.opened", () => deps.home.opened(envelope.team_id, opened.user));
  });

  const onClick = (actionId: string, handle: (client: WebClient, click: Click) => Promise<void>) => {
    app.action(actionId, async ({ ack, body, client }) => {
      await ack();
      const parsed = readPayload(deps, "home", ClickSchema, body);
      const teamId = parsed?.team?.id ?? parsed?.user.team_id;
      if (!parsed || !teamId) return;
      const click = { teamId, userId: parsed.user.id, triggerId: parsed.trigger_id };
      try {
        await handle(client, click);
      } catch (error) {
        deps.logger.warn({ actionId, err: slackErrorCode(error) }, "home.click_failed");
      }
    });
  };

  onClick(ACTIONS.homeConnect, (client, click) =>
    openThen(client, click, KEY_TITLE, async () => {
      const refusal = await adminRefusal(client, deps, click, {
        fresh: false,
        notAdmin: KEY_ANSWERS.notAdmin,
      });
      if (refusal) return noticeModal(KEY_TITLE, refusal);
      const status = await deps.drafting.workspaceStatus(click.teamId);
      if (!status.canConnect) return noticeModal(KEY_TITLE, KEY_ANSWERS.unavailable);
      return keyModal({
        teamId: click.teamId,
        last4: status.connection === "workspace" ? status.last4 : null,
      });
    }),
  );

  onClick(ACTIONS.homeDisconnect, async (client, click) => {
    // The button asked for confirmation already; a person who may not do this hears why.
    const refusal = await adminRefusal(client, deps, click, { fresh: true, notAdmin: KEY_ANSWERS.notAdmin });
    if (refusal) {
      await client.views.open({
        trigger_id: click.triggerId,
        view: noticeModal("Disconnect Puffle", refusal),
      });
      return;
    }
    await deps.drafting.disconnectPuffleKey({ teamId: click.teamId, by: click.userId });
    deps.home.refresh(click.teamId, click.userId, { now: true });
  });

  onClick(ACTIONS.homeChangeDefault, (client, click) =>
    openThen(client, click, DEFAULT_STEP_TITLE, async () => {
      const refusal = await adminRefusal(client, deps, click, { fresh: false, notAdmin: DEFAULT_NOT_ADMIN });
      if (refusal) return noticeModal(DEFAULT_STEP_TITLE, refusal);
      return pickerView(deps, {
        metadata: { mode: "workspace", teamId: click.teamId, channelId: HOME_CHANNEL },
      });
    }),
  );

  registerKeyForm(app, deps);
}

/** Opens "Loading..." at once, then shows what `build` makes of the click. */
async function openThen(
  client: WebClient,
  click: Click,
  title: string,
  build: () => Promise<ModalView>,
): Promise<void> {
  const opened = await client.views.open({ trigger_id: click.triggerId, view: loadingModal(title) });
  const viewId = opened.view?.id;
  if (!viewId) return;
  await client.views.update({ view_id: viewId, view: await build() });
}

/** Why the person may not change the workspace's settings, or undefined when they may. */
async function adminRefusal(
  client: WebClient,
  deps: ListenerDeps,
  click: Click,
  rule: { fresh: boolean; notAdmin: string },
): Promise<string | undefined> {
  try {
    const admin = await deps.home.isAdmin(client, click.teamId, click.userId, { fresh: rule.fresh });
    return admin ? undefined : rule.notAdmin;
  } catch (error) {
    deps.logger.warn({ teamId: click.teamId, err: slackErrorCode(error) }, "home.role_unknown");
    return KEY_ANSWERS.roleUnknown;
  }
}
