import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { draftCards, type E2E, startE2E, visibleText } from "../support/harness.ts";
import { appMentionEvent } from "../support/slack-requests.ts";
import {
  APP,
  install,
  logLines,
  mention,
  oauthEnv,
  openInstallPage,
  questionIn,
  redirectBack,
  reply,
  requesterFor,
  restartWith,
  team,
  threadOf,
} from "./oauth-helpers.ts";

/**
 * OAuth install (SPEC 8), end to end over localhost HTTP: people install the app from /slack/install in
 * two workspaces, each workspace gets its own bot token and connects its own Puffle key, and both draft
 * at the same time, each answered with its own token and seeing only its own Puffle sessions.
 */
const ACME = team("ACME");
const BETA = team("BETA", "U0BEA");
const ACME_KEY = "pk_test_acme_workspace_key_0001";
const BETA_KEY = "pk_test_beta_workspace_key_0002";
const GRID_KEY = "pk_test_grid_workspace_key_0003";

let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E({ env: oauthEnv(), emulator: { apiKeys: [ACME_KEY, BETA_KEY, GRID_KEY] } });
  e2e.slack.registerApp({ clientId: APP.clientId, clientSecret: APP.clientSecret });
});
afterAll(() => e2e.close());

describe("installing from /slack/install", () => {
  it("offers Add to Slack with the scopes, a one-time state in the link and in a cookie, and this server's redirect", async () => {
    const page = await openInstallPage(e2e);
    expect(page.status).toBe(200);
    expect(page.html).toContain("Add to Slack");
    expect(page.link.searchParams.get("client_id")).toBe(APP.clientId);
    expect(page.link.searchParams.get("scope")?.split(",")).toEqual(
      expect.arrayContaining(["app_mentions:read", "chat:write", "commands", "users:read"]),
    );
    expect(page.redirectUri).toBe(`http://127.0.0.1:${e2e.bot.port}/slack/oauth_redirect`);
    expect(page.cookie).toBe(`slack-app-oauth-state=${page.state}`);
  });

  it("installs two workspaces, each with its own bot token kept sealed in the store", async () => {
    const acme = await install(e2e, ACME);
    expect(acme.status).toBe(200);
    expect(acme.html).toContain("Puffle Drafter is now in Acme");
    const beta = await install(e2e, BETA);
    expect(beta.status).toBe(200);
    expect(beta.html).toContain("Puffle Drafter is now in Beta");

    const acmeToken = e2e.slack.installation(ACME.teamId)?.botToken ?? "";
    const betaToken = e2e.slack.installation(BETA.teamId)?.botToken ?? "";
    expect(acmeToken).toMatch(/^xoxb-/);
    expect(betaToken).toMatch(/^xoxb-/);
    expect(acmeToken).not.toBe(betaToken);
    const rows = [
      await e2e.bot.store.findInstallation("T:T0ACME"),
      await e2e.bot.store.findInstallation("T:T0BETA"),
    ];
    expect(rows).toMatchObject([
      { teamId: "T0ACME", botUserId: "UBOTACME", installerUserId: ACME.userId, isEnterpriseInstall: false },
      { teamId: "T0BETA", botUserId: "UBOTBETA", installerUserId: BETA.userId, isEnterpriseInstall: false },
    ]);
    expect(JSON.stringify(rows)).not.toContain(acmeToken);
    expect(JSON.stringify(rows)).not.toContain(betaToken);
    expect(
      logLines(e2e)
        .filter((line) => line.msg === "oauth.installed")
        .map((l) => l.teamId),
    ).toEqual(["T0ACME", "T0BETA"]);
  });

  it("lets both workspaces draft at once, each with its own token and its own Puffle account", async () => {
    for (const [who, key] of [
      [ACME, ACME_KEY],
      [BETA, BETA_KEY],
    ] as const) {
      const connected = await e2e.bot.drafting.connectPuffleKey({ teamId: who.teamId, key, by: who.userId });
      expect(connected.status).toBe("ok");
    }
    e2e.slack.resetCalls();
    const [acmeRoot, betaRoot] = await Promise.all([
      mention(e2e, ACME, "intro email for CFOs at logistics companies"),
      mention(e2e, BETA, "follow-up for VPs of Engineering after a webinar"),
    ]);
    await Promise.all([questionIn(e2e, ACME, acmeRoot.ts), questionIn(e2e, BETA, betaRoot.ts)]);
    await Promise.all([
      reply(e2e, ACME, acmeRoot.ts, "Mid-market, our CFO signs it, ask for 15 minutes"),
      reply(e2e, BETA, betaRoot.ts, "Keep it under 120 words, mention the recording"),
    ]);
    const [acmeCard, betaCard] = await Promise.all([
      e2e.slack.waitFor(() => draftCards(e2e.slack, ACME.channel, acmeRoot.ts)[0], { timeoutMs: 10_000 }),
      e2e.slack.waitFor(() => draftCards(e2e.slack, BETA.channel, betaRoot.ts)[0], { timeoutMs: 10_000 }),
    ]);
    expect(visibleText(acmeCard)).toContain("Draft v1");
    expect(visibleText(betaCard)).toContain("Draft v1");
    // Posted as each workspace's own bot.
    expect(acmeCard).toMatchObject({ user: "UBOTACME", bot_id: "BBOTACME" });
    expect(betaCard).toMatchObject({ user: "UBOTBETA", bot_id: "BBOTBETA" });

    // Every call about a channel was made with that channel's workspace token.
    const teamsBy = (channel: string) =>
      new Set(e2e.slack.calls.filter((call) => call.args.channel === channel).map((call) => call.teamId));
    expect(teamsBy(ACME.channel)).toEqual(new Set(["T0ACME"]));
    expect(teamsBy(BETA.channel)).toEqual(new Set(["T0BETA"]));

    // Each workspace's sessions belong to its own Puffle key: the other key gets a 404.
    const acmeSession = (await threadOf(e2e, ACME, acmeRoot.ts))?.sessionId ?? "";
    const betaSession = (await threadOf(e2e, BETA, betaRoot.ts))?.sessionId ?? "";
    expect(acmeSession).not.toBe("");
    expect(betaSession).not.toBe("");
    const get = (session: string, key: string) =>
      fetch(`${e2e.emulator.url}/api/campaigns/ai-chat-sessions/${session}`, {
        headers: { authorization: `Bearer ${key}` },
      }).then((response) => response.status);
    expect(await get(acmeSession, ACME_KEY)).toBe(200);
    expect(await get(acmeSession, BETA_KEY)).toBe(404);
    expect(await get(betaSession, BETA_KEY)).toBe(200);
    expect(await get(betaSession, ACME_KEY)).toBe(404);

    // The brief Puffle got is the person's words: each workspace's own bot mention was taken out.
    expect(e2e.emulator.state.turnRequests(acmeSession).map((turn) => turn.message)).toEqual([
      "intro email for CFOs at logistics companies",
      "Mid-market, our CFO signs it, ask for 15 minutes",
    ]);
  });

  it("never writes a token or a secret to the logs", async () => {
    const text = e2e.logs.join("");
    const secrets: Record<string, string> = {
      clientSecret: APP.clientSecret,
      stateSecret: APP.stateSecret,
      acmeKey: ACME_KEY,
      betaKey: BETA_KEY,
      acmeToken: e2e.slack.installation(ACME.teamId)?.botToken ?? "(none)",
      betaToken: e2e.slack.installation(BETA.teamId)?.botToken ?? "(none)",
    };
    const leaked = Object.entries(secrets).filter(([, value]) => text.includes(value));
    expect(leaked.map(([name]) => name)).toEqual([]);
  });
});

describe("an org-wide install", () => {
  it("is keyed by its enterprise, and serves the org's workspaces with the org's token", async () => {
    const page = await openInstallPage(e2e);
    const code = e2e.slack.authorizeInstall({
      userId: "U0ADA",
      enterpriseId: "E0GRID",
      enterpriseName: "Grid Co",
      isEnterpriseInstall: true,
      redirectUri: page.redirectUri,
    });
    const done = await redirectBack(e2e, { code, state: page.state, cookie: page.cookie });
    expect(done.status).toBe(200);
    expect(done.html).toContain("Puffle Drafter is now in the organization Grid Co");
    expect(await e2e.bot.store.findInstallation("E:E0GRID")).toMatchObject({
      teamId: null,
      enterpriseId: "E0GRID",
      isEnterpriseInstall: true,
      botUserId: "UBOTGRID",
    });

    // A workspace of the org: its events name the enterprise's installation.
    const sales = { ...team("SALES", "U0SAM"), botUserId: "UBOTGRID" };
    await e2e.bot.drafting.connectPuffleKey({ teamId: sales.teamId, key: GRID_KEY, by: sales.userId });
    const root = e2e.slack.addHumanMessage({
      channel: sales.channel,
      user: sales.userId,
      text: `<@UBOTGRID> intro email for heads of RevOps`,
      teamId: sales.teamId,
    });
    const authorizations = [
      {
        enterprise_id: "E0GRID",
        team_id: sales.teamId,
        user_id: "UBOTGRID",
        is_bot: true,
        is_enterprise_install: true,
      },
    ];
    const event = appMentionEvent({
      user: sales.userId,
      channel: sales.channel,
      text: root.text,
      ts: root.ts,
      botUserId: "UBOTGRID",
      team: sales.teamId,
    });
    expect((await requesterFor(e2e, sales).event(event, { authorizations })).status).toBe(200);
    const question = await questionIn(e2e, sales, root.ts);
    expect(question).toMatchObject({ user: "UBOTGRID" });
    const calls = e2e.slack.calls.filter((call) => call.args.channel === sales.channel);
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls.map((call) => call.teamId))).toEqual(new Set(["E0GRID"]));

    // A turn running when the bot restarts is resumed with no delivery to name the enterprise: the
    // store remembers which enterprise the workspace belongs to, so its result is still shown.
    e2e.emulator.faults.inject({ kind: "slow_task", delayMs: 1500, route: "sessions.turn" });
    await reply(e2e, sales, root.ts, "VPs at fintechs, ask for 15 minutes", { authorizations });
    await e2e.slack.waitFor(() => (e2e.emulator.stats().requests["sessions.turn"] ?? 0) >= 2);
    await restartWith(e2e, (config) => config);
    const card = await e2e.slack.waitFor(() => draftCards(e2e.slack, sales.channel, root.ts)[0], {
      timeoutMs: 10_000,
    });
    expect(card).toMatchObject({ user: "UBOTGRID" });
    e2e.emulator.faults.clear();
  });
});

describe("install states", () => {
  const EVIL = team("EVIL", "U0EVE");

  it("refuses a forged state, and a state without its browser's cookie: nothing is installed", async () => {
    const code = e2e.slack.authorizeInstall({ teamId: EVIL.teamId, userId: EVIL.userId });
    const forged = await redirectBack(e2e, {
      code,
      state: "forged-state",
      cookie: "slack-app-oauth-state=forged-state",
    });
    expect(forged.status).toBe(400);
    expect(forged.html).toContain("The install did not complete");
    expect(forged.html).toContain("expired, was already used, or was opened in another browser");

    const page = await openInstallPage(e2e);
    const noCookie = await redirectBack(e2e, { code, state: page.state });
    expect(noCookie.status).toBe(400);
    expect(await e2e.bot.store.findInstallation("T:T0EVIL")).toBeUndefined();
    expect(e2e.slack.callsTo("oauth.v2.access").filter((call) => call.args.code === code)).toEqual([]);
  });

  it("refuses a state used once already (a replayed link)", async () => {
    const page = await openInstallPage(e2e);
    const first = e2e.slack.authorizeInstall({
      teamId: "T0GAMMA",
      teamName: "Gamma",
      userId: "U0GIL",
      redirectUri: page.redirectUri,
    });
    expect((await redirectBack(e2e, { code: first, state: page.state, cookie: page.cookie })).status).toBe(
      200,
    );
    const second = e2e.slack.authorizeInstall({ teamId: EVIL.teamId, userId: EVIL.userId });
    const replayed = await redirectBack(e2e, { code: second, state: page.state, cookie: page.cookie });
    expect(replayed.status).toBe(400);
    expect(replayed.html).toContain("The install did not complete");
    expect(await e2e.bot.store.findInstallation("T:T0GAMMA")).toBeDefined();
    expect(await e2e.bot.store.findInstallation("T:T0EVIL")).toBeUndefined();
    expect(
      logLines(e2e)
        .filter((line) => line.msg === "oauth.install_failed")
        .map((line) => line.reason),
    ).toEqual(["state", "state", "state"]);
  });
});
