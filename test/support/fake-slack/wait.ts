// waitFor: polls a probe until it holds; on timeout, says what was awaited and the recent Slack calls.

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { RecordedCall, WaitForOptions } from "./types.ts";

const RECENT_CALLS_IN_REPORT = 20;

export async function waitFor<T>(
  probe: () => T | undefined | null | false,
  options: WaitForOptions,
  history: { calls: readonly RecordedCall[]; startedAt: number },
): Promise<T> {
  const { timeoutMs = 5000, intervalMs = 10, message } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) throw new Error(timeoutReport(timeoutMs, message, lastError, history));
    await sleep(intervalMs);
  }
}

function timeoutReport(
  timeoutMs: number,
  message: string | undefined,
  lastError: unknown,
  history: { calls: readonly RecordedCall[]; startedAt: number },
): string {
  const recent = history.calls.slice(-RECENT_CALLS_IN_REPORT);
  const lines = [
    `waitFor timed out after ${timeoutMs} ms: ${message ?? "the probe never returned a truthy value"}`,
    ...(lastError
      ? [`last probe error: ${lastError instanceof Error ? lastError.message : String(lastError)}`]
      : []),
    `recent Slack calls (${recent.length} of ${history.calls.length}):`,
    ...recent.map((call) => `  ${describeCall(call, history.startedAt)}`),
  ];
  return lines.join("\n");
}

function describeCall(call: RecordedCall, startedAt: number): string {
  const when = `+${Math.round(call.at - startedAt)}ms`;
  const outcome = call.ok ? "ok" : `error=${call.error}`;
  const args = JSON.stringify(call.args);
  return `${when} ${call.method} ${outcome} ${args.length > 200 ? `${args.slice(0, 200)}...` : args}`;
}
