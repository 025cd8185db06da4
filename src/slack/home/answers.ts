import type { ModalView } from "../render/modals.ts";

/**
 * Answering a modal submission within Slack's 3 s when the work behind it may take longer: wait a
 * little for it, answer with its result when it is ready, else with a "working" view to update later.
 */

/** What a view submission's ack takes. */
export type ViewAnswer =
  | { response_action: "errors"; errors: Record<string, string> }
  | { response_action: "update"; view: ModalView };

export type ViewAck = (answer?: ViewAnswer) => Promise<void>;
