/**
 * What the drafting core reports for the operators' metrics (SPEC 10). Counts and durations only: no
 * text, no people, no secrets.
 */
export interface DraftingTelemetry {
  /** A batch of turns ended: shown ("done"), failed (with its code), or past its deadline. */
  turnEnded(outcome: "done" | "failed" | "timed_out", code?: string): void;
  /** From the moment the task was seen finished to the result shown in Slack. */
  resultShown(latencyMs: number): void;
  /** How a finished task was noticed first. */
  taskCompleted(detectedBy: "realtime" | "poll"): void;
  /** A thread taken over from a replica that stopped renewing its lease. */
  leaseTakenOver(): void;
}

export const NO_DRAFTING_TELEMETRY: DraftingTelemetry = {
  turnEnded() {},
  resultShown() {},
  taskCompleted() {},
  leaseTakenOver() {},
};
