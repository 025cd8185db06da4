import { afterEach, describe, expect, it } from "vitest";
import { REFRESH_WINDOW_MS } from "../../src/slack/oauth/authorize.ts";
import { botReplies, draftCards, type E2E, startE2E, visibleText } from "../support/harness.ts";
import {
  APP,
  install,
  logLines,
  mention,
  oauthEnv,
  questionIn,
  reply,
  requesterFor,
  team,
  threadOf,
} from "./oauth-helpers.ts";

/**
 * An installation over time (SPEC 8): its rotating token expires and is refreshed once while the
 * workspace keeps drafting; the app is uninstalled from one workspace, whose work stops at once while
 * the other drafts on.
 */
const ACME = team("ACME");
const BETA = team("BETA", "U0BEA");
const ACME_KEY = "pk_test_acme_lifecycle_key_01";
const BETA_KEY = "pk_test_beta_lifecycle_key_02";

let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

async function start(taskDelayMs = 150): Promise<E2E> {
  e2e = await startE2E({ env: oauthEnv(), emulator: { apiKeys: [ACME_KEY, BETA_KEY], taskDelayMs } });
  return e2e;
}

async function connect(bot: E2E, who: typeof ACME, key: string) {
  expect((await bot.bot.drafting.connectPuffleKey({ teamId: who.teamId, key, by: who.userId })).status).toBe(
    "ok",
  );
}

const refreshes = (bot: E2E) =>
  bot.slack.callsTo("oauth.v2.access").filter((call) => call.args.grant_type === "refresh_token");

describe("token rotation", () => {
  it("refreshes an expiring token once, and the workspace keeps drafting", async () => {
    const bot = await start();
    // The first token leaves 5 s before it is due for a refresh; the ones after it last 12 hours.
    const registration = { clientId: APP.clientId, clientSecret: APP.clientSecret, tokenRotation: true };
    bot.slack.registerApp({ ...registration, accessTokenTtlSeconds: 7205, rotatedTokenGraceMs: 0 });
    expect((await install(bot, ACME)).status).toBe(200);
    bot.slack.registerApp({ ...registration, accessTokenTtlSeconds: 43_200, rotatedTokenGraceMs: 0 });
    await connect(bot, ACME, ACME_KEY);
    const first = bot.slack.installation(ACME.teamId)?.botToken;

    const root = await mention(bot, ACME, "intro email for CFOs at logistics companies");
    await questionIn(bot, ACME, root.ts);
    expect(refreshes(bot)).toHaveLength(0);

    // Time passes: the token is due for a refresh, and Slack no longer takes it.
    const expiresAt = (await bot.bot.store.findInstallation("T:T0ACME"))?.tokenExpiresAt ?? 0;
    await bot.slack.waitFor(() => Date.now() > expiresAt - REFRESH_WINDOW_MS, { timeoutMs: 10_000 });
    bot.slack.expireTokens(ACME.teamId);

    await reply(bot, ACME, root.ts, "Mid-market, our CFO signs it, ask for 15 minutes");
    const v1 = await bot.slack.waitFor(() => draftCards(bot.slack, ACME.channel, root.ts)[0], {
      timeoutMs: 10_000,
    });
    expect(visibleText(v1)).toContain("Draft v1");
    expect(refreshes(bot)).toHaveLength(1);
    const second = bot.slack.installation(ACME.teamId)?.botToken;
    expect(second).not.toBe(first);
    const row = await bot.bot.store.findInstallation("T:T0ACME");
    expect((row?.tokenExpiresAt ?? 0) - Date.now()).toBeGreaterThan(11 * 3_600_000);

    // The next turn uses the new token as it is: no second refresh.
    await reply(bot, ACME, root.ts, "make it shorter");
    await bot.slack.waitFor(() => draftCards(bot.slack, ACME.channel, root.ts).length >= 2, {
      timeoutMs: 10_000,
    });
    expect(refreshes(bot)).toHaveLength(1);
    expect(bot.slack.calls.filter((call) => call.teamId === ACME.teamId && !call.ok)).toEqual([]);
    expect(logLines(bot).filter((line) => line.msg === "oauth.token_refreshed")).toHaveLength(1);
    const text = bot.logs.join("");
    for (const token of [first, second, bot.slack.installation(ACME.teamId)?.refreshToken])
      expect(token && text.includes(token)).toBe(false);
  });
});

describe("uninstalling", () => {
  it("app_uninstalled stops that workspace at once and leaves the other drafting", async () => {
    const bot = await start(1500);
    bot.slack.registerApp({ clientId: APP.clientId, clientSecret: APP.clientSecret });
    await install(bot, ACME);
    await install(bot, BETA);
    await connect(bot, ACME, ACME_KEY);
    await connect(bot, BETA, BETA_KEY);

    const acmeRoot = await mention(bot, ACME, "intro email for CFOs at logistics companies");
    const betaRoot = await mention(bot, BETA, "follow-up for VPs of Engineering after a webinar");
    // Acme's turn is running at Puffle, its status message up.
    await bot.slack.waitFor(() => botReplies(bot.slack, ACME.channel, acmeRoot.ts).length > 0);
    expect((await threadOf(bot, ACME, acmeRoot.ts))?.sessionId).toBeTruthy();

    // Slack revokes Acme's tokens and tells the app.
    bot.slack.revokeTokens(ACME.teamId);
    const uninstalledAt = performance.now();
    const answer = await requesterFor(bot, ACME).event({
      type: "app_uninstalled",
      event_ts: "1700000999.000100",
    });
    expect(answer.status).toBe(200);
    expect(await bot.bot.store.findInstallation("T:T0ACME")).toBeUndefined();
    expect(await threadOf(bot, ACME, acmeRoot.ts)).toMatchObject({ endedReason: "uninstalled" });
    expect(
      logLines(bot)
        .filter((line) => line.msg === "workspace.uninstalled")
        .map((line) => line.teamId),
    ).toEqual([ACME.teamId]);

    // Beta drafts on: its question, then its card after a reply.
    await questionIn(bot, BETA, betaRoot.ts);
    await reply(bot, BETA, betaRoot.ts, "Keep it under 120 words");
    await bot.slack.waitFor(() => draftCards(bot.slack, BETA.channel, betaRoot.ts)[0], { timeoutMs: 10_000 });

    // A message in Acme now: answered, and nothing recorded or posted.
    const late = await mention(bot, ACME, "one more draft please");
    await bot.bot.idle();
    expect(await threadOf(bot, ACME, late.ts)).toBeUndefined();
    const acmeCallsSince = bot.slack.calls.filter(
      (call) =>
        call.at > uninstalledAt && (call.teamId === ACME.teamId || call.args.channel === ACME.channel),
    );
    expect(acmeCallsSince).toEqual([]);
    expect(botReplies(bot.slack, ACME.channel, late.ts)).toEqual([]);
  });

  it("tokens_revoked for the bot forgets the installation; revoked user tokens change nothing", async () => {
    const bot = await start();
    bot.slack.registerApp({ clientId: APP.clientId, clientSecret: APP.clientSecret });
    await install(bot, BETA);
    const requester = requesterFor(bot, BETA);
    const revoked = (tokens: Record<string, string[]>) =>
      requester.event({ type: "tokens_revoked", tokens, event_ts: "1700000999.000200" });

    expect((await revoked({ oauth: ["U0BEA"] })).status).toBe(200);
    expect(await bot.bot.store.findInstallation("T:T0BETA")).toBeDefined();
    expect((await revoked({ bot: [BETA.botUserId] })).status).toBe(200);
    expect(await bot.bot.store.findInstallation("T:T0BETA")).toBeUndefined();
    expect(logLines(bot).filter((line) => line.msg === "workspace.uninstalled")).toMatchObject([
      { teamId: BETA.teamId, event: "tokens_revoked" },
    ]);
  });
});
