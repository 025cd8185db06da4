// Faults a test switches on: failures answered instead of the real answer, answers lost after the call
// took effect ("stored, then failed"), and delays.

import { setTimeout as sleep } from "node:timers/promises";
import type { FailAfterStoreMode, FailAfterStoreOptions } from "./types.ts";
import type { ApiFailure } from "./wire.ts";

interface AfterStoreRule {
  method: string;
  mode: FailAfterStoreMode;
  body: "json" | "html";
  remaining: number;
  rate: number;
  random: () => number;
}

/** Pending faults per method, applied in the order they were added. */
export class Faults {
  readonly #pending: { method: string; remaining: number; failure: ApiFailure }[] = [];
  readonly #afterStore: AfterStoreRule[] = [];
  readonly #delays = new Map<string, number>();

  add(method: string, times: number, failure: ApiFailure): void {
    this.#pending.push({ method, remaining: times, failure });
  }

  addAfterStore(method: string, options: FailAfterStoreOptions): void {
    const { mode, rate, seed = 1, body = "json" } = options;
    if (rate !== undefined && !(rate > 0 && rate <= 1))
      throw new Error(`rate must be in (0, 1], got ${rate}`);
    const times = options.times ?? (rate === undefined ? 1 : Number.POSITIVE_INFINITY);
    this.#afterStore.push({
      method,
      mode,
      body,
      remaining: times,
      rate: rate ?? 1,
      random: mulberry32(seed),
    });
  }

  setDelay(method: string, ms: number): void {
    if (ms > 0) this.#delays.set(method, ms);
    else this.#delays.delete(method);
  }

  async wait(method: string): Promise<void> {
    const ms = this.#delays.get(method);
    if (ms) await sleep(ms);
  }

  /** Throws the next pending fault for `method`, if any. */
  check(method: string): void {
    const index = this.#pending.findIndex((fault) => fault.method === method);
    const fault = this.#pending[index];
    if (!fault) return;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#pending.splice(index, 1);
    throw fault.failure;
  }

  /** After a call to `method` took effect: how its answer is lost, if it is. */
  afterStore(method: string): { mode: FailAfterStoreMode; body: "json" | "html" } | undefined {
    const index = this.#afterStore.findIndex((rule) => rule.method === method);
    const rule = this.#afterStore[index];
    if (!rule) return undefined;
    // Every call draws, hit or miss, so a seed always picks the same calls.
    if (rule.random() >= rule.rate) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.#afterStore.splice(index, 1);
    return { mode: rule.mode, body: rule.body };
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
