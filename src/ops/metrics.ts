import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DraftingTelemetry } from "../drafting/telemetry.ts";
import type { SlackTelemetry } from "../slack/telemetry.ts";

/**
 * The operators' metrics (SPEC 10), in Prometheus text format on GET /metrics. Labels are bounded sets
 * (outcomes, error codes, endpoints, methods): no user text, people's ids or secrets.
 */
export interface Metrics extends DraftingTelemetry, SlackTelemetry {
  puffleRequest(endpoint: string, status: string): void;
  /** Puffle requests that waited for the budget, and 429s that paused a key. */
  budgetWait(ms: number): void;
  budgetPaused(): void;
  /** Gauges read when scraped. */
  watch(gauges: { queuedTurns(): Promise<number>; activeThreads(): number }): void;
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "puffle_drafter_" });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name: `puffle_drafter_${name}`, help, labelNames, registers: [registry] });

  const turns = counter(
    "turns_total",
    "Turns that ended, by outcome (done, failed, timed_out) and failure code",
    ["outcome", "code"],
  );
  const latency = new Histogram({
    name: "puffle_drafter_result_latency_seconds",
    help: "From a task seen finished to its result shown in Slack",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  const puffle = counter("puffle_requests_total", "Puffle API requests by endpoint and status", [
    "endpoint",
    "status",
  ]);
  const slack = counter("slack_calls_total", "Slack Web API calls by method and result", [
    "method",
    "result",
  ]);
  const completions = counter("completions_total", "Finished tasks by how they were noticed first", [
    "detected_by",
  ]);
  const fallbacks = counter(
    "stream_fallbacks_total",
    "Streamed replies that fell back to the status message",
    ["reason"],
  );
  const takeovers = counter("lease_takeovers_total", "Threads taken over from a replica that stopped");
  const feedback = counter("feedback_total", "Thumbs up and down on draft cards", ["rating"]);
  const waits = new Histogram({
    name: "puffle_drafter_budget_wait_seconds",
    help: "How long Puffle requests waited for the per-key request budget",
    buckets: [0, 0.1, 0.5, 1, 5, 15, 60],
    registers: [registry],
  });
  const paused = counter("budget_pauses_total", "Puffle 429s that paused a key's requests");
  let gauges: { queuedTurns(): Promise<number>; activeThreads(): number } | undefined;
  new Gauge({
    name: "puffle_drafter_queued_turns",
    help: "Messages waiting to be sent to Puffle (all replicas)",
    registers: [registry],
    async collect() {
      if (gauges) this.set(await gauges.queuedTurns());
    },
  });
  new Gauge({
    name: "puffle_drafter_active_threads",
    help: "Threads this replica is driving now",
    registers: [registry],
    collect() {
      if (gauges) this.set(gauges.activeThreads());
    },
  });

  return {
    turnEnded: (outcome, code) => turns.inc({ outcome, code: code ?? "" }),
    resultShown: (ms) => latency.observe(ms / 1000),
    taskCompleted: (detectedBy) => completions.inc({ detected_by: detectedBy }),
    leaseTakenOver: () => takeovers.inc(),
    slackCall: (method, result) => slack.inc({ method, result }),
    streamFallback: (reason) => fallbacks.inc({ reason }),
    feedback: (rating) => feedback.inc({ rating }),
    puffleRequest: (endpoint, status) => puffle.inc({ endpoint, status }),
    budgetWait: (ms) => waits.observe(ms / 1000),
    budgetPaused: () => paused.inc(),
    watch(next) {
      gauges = next;
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
