import type { App } from "@slack/bolt";
import { z } from "zod";
import { ACTIONS, COMMAND, SHORTCUT_DRAFT_FROM_MESSAGE, VIEWS } from "../ids.ts";
import { noticeModal } from "../render/prompts.ts";
import { OUT_OF_DATE } from "../render/words.ts";
import { type ListenerDeps, tellUser } from "./deps.ts";

/**
 * Clicks, submissions, shortcuts and commands whose ids this release does not know (a card posted by
 * an older release, say) are answered at once and told they are out of date, instead of waiting for
 * Bolt's 3-second 404 and showing Slack's error. Runs before every listener.
 */
const KNOWN_ACTIONS: ReadonlySet<string> = new Set(
  Object.entries(ACTIONS)
    .filter(([name]) => name !== "refinePrefix")
    .map(([, id]) => id),
);
const KNOWN_VIEWS: ReadonlySet<string> = new Set([...Object.values(VIEWS), "notice"]);

const PayloadSchema = z.looseObject({
  type: z.string().optional(),
  command: z.string().optional(),
  callback_id: z.string().optional(),
  trigger_id: z.string().optional(),
  user: z.looseObject({ id: z.string() }).optional(),
  user_id: z.string().optional(),
  channel: z.looseObject({ id: z.string() }).optional(),
  message: z.looseObject({ ts: z.string(), thread_ts: z.string().optional() }).optional(),
  actions: z.array(z.looseObject({ action_id: z.string().optional() })).optional(),
  view: z.looseObject({ id: z.string().optional(), callback_id: z.string().optional() }).optional(),
});
type Payload = z.infer<typeof PayloadSchema>;

export function isKnownAction(actionId: string | undefined): boolean {
  if (!actionId) return false;
  return KNOWN_ACTIONS.has(actionId) || actionId.startsWith(ACTIONS.refinePrefix);
}

/** What is out of date in this payload, or undefined when a listener of ours handles it. */
function unknownPart(body: Payload): "button" | "form" | "shortcut" | "command" | undefined {
  if (body.command !== undefined) return body.command === COMMAND ? undefined : "command";
  switch (body.type) {
    case "block_actions":
      return (body.actions ?? []).every((a) => isKnownAction(a.action_id)) ? undefined : "button";
    case "view_submission":
    case "view_closed":
      return KNOWN_VIEWS.has(body.view?.callback_id ?? "") ? undefined : "form";
    case "message_action":
    case "shortcut":
      return body.callback_id === SHORTCUT_DRAFT_FROM_MESSAGE ? undefined : "shortcut";
    default:
      return undefined;
  }
}

export function registerUnknownPayloads(app: App, deps: ListenerDeps): void {
  app.use(async ({ body, ack, next, client }) => {
    const parsed = PayloadSchema.safeParse(body);
    const part = parsed.success ? unknownPart(parsed.data) : undefined;
    if (!parsed.success || !part || !ack) {
      await next();
      return;
    }
    const payload = parsed.data;
    // The middleware sees every kind of payload, so Bolt types ack for none in particular.
    const answer = ack as (response?: object) => Promise<void>;
    const userId = payload.user?.id ?? payload.user_id;
    deps.logger.info(
      {
        part,
        type: payload.type,
        id: payload.actions?.[0]?.action_id ?? payload.callback_id ?? payload.command,
      },
      "slack.unknown_payload",
    );
    if (part === "form" && payload.type === "view_submission") {
      await answer({ response_action: "update", view: noticeModal("Out of date", OUT_OF_DATE.form) });
      return;
    }
    if (part === "command") {
      await answer({ response_type: "ephemeral", text: OUT_OF_DATE.command(payload.command ?? "") });
      return;
    }
    await answer();
    if (part === "form" || !userId) return;
    // Slack has its answer; the note follows.
    const text = OUT_OF_DATE[part];
    const channel = payload.channel?.id;
    if (channel) {
      const threadTs = payload.message?.thread_ts ?? payload.message?.ts;
      await tellUser(client, deps, { channel, user: userId, threadTs }, text);
      return;
    }
    // A button inside a modal, or a global shortcut: no channel to answer in, so a modal says it.
    if (payload.view?.id)
      await client.views.update({ view_id: payload.view.id, view: noticeModal("Out of date", text) });
    else if (payload.trigger_id)
      await client.views.open({ trigger_id: payload.trigger_id, view: noticeModal("Out of date", text) });
  });
}
