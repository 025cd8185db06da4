// Faults a test switches on: failures answered instead of the real answer, and delays.

import { setTimeout as sleep } from "node:timers/promises";
import type { ApiFailure } from "./wire.ts";

/** Pending faults per method, applied in the order they were added. */
export class Faults {
  readonly #pending: { method: string; remaining: number; failure: ApiFailure }[] = [];
  readonly #delays = new Map<string, number>();

  add(method: string, times: number, failure: ApiFailure): void {
    this.#pending.push({ method, remaining: times, failure });
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
}
