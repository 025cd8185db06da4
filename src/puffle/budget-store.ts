/**
 * The shared side of the Puffle request budget (SPEC 10): one row per API key (by a hash, never the
 * key), shared by every replica, so that together they stay under PUFFLE_MAX_RPM.
 */
export interface BudgetStore {
  /**
   * Reserves the key's next request slot: the returned time is at or after `now`, at least
   * `intervalMs` after the previous reservation, and not before a pause ends.
   */
  reserveSlot(keyId: string, now: number, intervalMs: number): Promise<number>;
  /** Puffle answered 429: no request for this key before `until`, on any replica. */
  pauseKey(keyId: string, until: number): Promise<void>;
}
