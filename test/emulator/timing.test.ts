import { describe, expect, it } from "vitest";
import { startEmulator } from "../../emulator/server.ts";
import type { TaskEvent } from "../../emulator/tasks.ts";
import { call, createSession, SESSIONS } from "./helpers.ts";

/** Durations of `count` turns (task.started -> task.completed), in dispatch order. */
async function turnDurations(seed: number, count: number): Promise<number[]> {
  const emu = await startEmulator({ taskDelayMs: 40, taskJitterMs: 120, seed });
  try {
    const started = new Map<string, number>();
    const durations: number[] = [];
    emu.events.on("task.started", (e: TaskEvent) => started.set(e.runId, e.at));
    for (let i = 0; i < count; i++) {
      const session = await createSession(emu);
      const done = new Promise<TaskEvent>((resolve) => emu.events.once("task.completed", resolve));
      await call(emu, "POST", `${SESSIONS}/${session.id}/turn`, { message: "go" });
      const event = await done;
      durations.push(event.at - (started.get(event.runId) ?? event.at));
    }
    return durations;
  } finally {
    await emu.close();
  }
}

describe("task timing", () => {
  it("jitters turn durations: at least the delay, spread over the jitter", async () => {
    const durations = await turnDurations(7, 8);
    for (const d of durations) expect(d).toBeGreaterThanOrEqual(35);
    // Real variation, not one fixed delay (timers only ever add lateness, never take it away).
    expect(Math.max(...durations) - Math.min(...durations)).toBeGreaterThan(30);
  });
});
