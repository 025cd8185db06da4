import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { type InstallURLOptions, InvalidStateError, type StateStore } from "@slack/oauth";
import type { OAuthStates } from "./records.ts";

/**
 * The `state` of an install link, kept in the store so that it works on any replica and is spent once:
 * a forged state (not signed with SLACK_STATE_SECRET, or never issued), a replayed one (already used)
 * and one older than 10 minutes are all refused. The state is `<random>.<HMAC of it>`, so a forged one
 * is refused before the store is asked.
 */
export const STATE_TTL_MS = 10 * 60_000;

export function createStateStore(options: { states: OAuthStates; secret: string }): StateStore {
  const { states, secret } = options;
  const sign = (nonce: string) => createHmac("sha256", secret).update(nonce).digest("base64url");

  function signed(state: string): boolean {
    const [nonce, mac, ...rest] = state.split(".");
    if (!nonce || !mac || rest.length > 0) return false;
    const expected = Buffer.from(sign(nonce));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  return {
    async generateStateParam(installOptions, now) {
      const nonce = randomBytes(24).toString("base64url");
      const state = `${nonce}.${sign(nonce)}`;
      await states.putOAuthState(state, JSON.stringify(installOptions), now.getTime() + STATE_TTL_MS);
      return state;
    },

    async verifyStateParam(now, state) {
      if (!signed(state)) throw new InvalidStateError("The state parameter was not issued by this app.");
      const payload = await states.takeOAuthState(state, now.getTime());
      if (payload === undefined)
        throw new InvalidStateError("The state parameter was already used, or has expired.");
      return JSON.parse(payload) as InstallURLOptions;
    },
  };
}
