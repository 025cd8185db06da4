import type { ModalView } from "../render/modals.ts";

/**
 * Answering a modal submission within Slack's 3 s when the work behind it may take longer: wait a
 * little for it, answer with its result when it is ready, else with a "working" view to update later.
 */

/** How long a submission waits for its work before Slack is answered anyway. */
export const ACK_BUDGET_MS = 2000;

/** What a view submission's ack takes. */
export type ViewAnswer =
  | { response_action: "errors"; errors: Record<string, string> }
  | { response_action: "update"; view: ModalView };

export type ViewAck = (answer?: ViewAnswer) => Promise<void>;

/** Whether `promise` settles within `ms`, and with what (a rejection is the caller's to handle). */
export async function settlesWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ settled: false }>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ settled: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
