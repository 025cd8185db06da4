import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { AbortedError, linkSignals, sleep } from "../../src/clock.ts";
import { ManualClock } from "../support/manual-clock.ts";

describe("linkSignals", () => {
  it("aborts when any parent aborts, with its reason", () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals(a.signal, b.signal);
    expect(linked.signal.aborted).toBe(false);
    b.abort("shutdown");
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe("shutdown");
  });

  it("leaves nothing attached to a long-lived parent after dispose", () => {
    const parent = new AbortController();
    for (let i = 0; i < 1000; i++) linkSignals(parent.signal, new AbortController().signal).dispose();
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(0);
  });

  it("starts aborted when a parent already is", () => {
    const parent = new AbortController();
    parent.abort("done");
    expect(linkSignals(parent.signal).signal.aborted).toBe(true);
  });
});

describe("sleep", () => {
  it("resolves on the clock and rejects with AbortedError when aborted", async () => {
    const clock = new ManualClock();
    let woke = false;
    void sleep(clock, 1000).then(() => {
      woke = true;
    });
    await clock.advance(999);
    expect(woke).toBe(false);
    await clock.advance(1);
    expect(woke).toBe(true);
    const controller = new AbortController();
    const pending = sleep(clock, 1000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(clock.pendingDelays()).toEqual([]);
  });
});
