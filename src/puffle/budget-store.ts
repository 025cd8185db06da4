/**
 * The shared side of the Puffle request budget (SPEC 10): one row per API key (by a hash, never the
 * key), shared by every replica, so that together they stay under PUFFLE_MAX_RPM.
 */
export interface BudgetStore {
  /**
   * Reserves the key's next request slot (GCRA): the returned time is at or after `now` and not before
   * a pause ends; slots are `intervalMs` apart on average, with up to `toleranceMs` of that spacing
   * (a small burst) lent to a key that was idle, never right after a pause. Default tolerance 0.
   */
  reserveSlot(keyId: string, now: number, intervalMs: number, toleranceMs?: number): Promise<number>;
  /** Puffle answered 429: no request for this key before `until`, on any replica. */
  pauseKey(keyId: string, until: number): Promise<void>;
}
