/**
 * A first look at what Slack sent, before Bolt sees it: Bolt cannot answer a payload whose kind it
 * cannot tell (it waits 3 s and answers 404) or an event that is not an object (it fails with a 500).
 * Such deliveries are refused at once with a clear reason.
 */
export type PayloadKind =
  | { ok: true; kind: "event" | "command" | "action" | "options" | "shortcut" | "view" }
  | { ok: false; problem: string };

const ACTION_TYPES = new Set(["dialog_submission", "dialog_cancellation", "workflow_step_edit"]);

export function classifyPayload(body: Record<string, unknown>): PayloadKind {
  if (body.type === "event_callback" || body.event !== undefined) {
    const event = body.event;
    if (event === undefined) return { ok: false, problem: "an event_callback envelope without an event" };
    if (!isRecord(event)) return { ok: false, problem: "the event is not an object" };
    if (typeof event.type !== "string") return { ok: false, problem: "the event has no type" };
    return { ok: true, kind: "event" };
  }
  if (body.command !== undefined) return { ok: true, kind: "command" };
  if (body.name !== undefined || body.type === "block_suggestion") return { ok: true, kind: "options" };
  if (body.actions !== undefined || ACTION_TYPES.has(String(body.type))) return { ok: true, kind: "action" };
  if (body.type === "shortcut" || body.type === "message_action") return { ok: true, kind: "shortcut" };
  if (body.view !== undefined) return { ok: true, kind: "view" };
  return { ok: false, problem: "not a kind of Slack payload this app handles" };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
