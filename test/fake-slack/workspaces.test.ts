import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InstallProvider, MemoryInstallationStore } from "@slack/oauth";
import { type Logger, LogLevel, WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

const APP = { clientId: "111.222", clientSecret: "s3cret" };
const ACME = { teamId: "T0ACME", teamName: "Acme", userId: "U0ALEX" };

let fake: FakeSlack;

beforeEach(async () => {
  fake = await startFakeSlack();
});

afterEach(async () => {
  vi.useRealTimers();
  await fake.close();
});

const clientFor = (token?: string) =>
  new WebClient(token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: silent });

const errorOf = (call: Promise<unknown>) =>
  call.then(
    () => "ok",
    (e: { data?: { error?: string } }) => e.data?.error,
  );

/** Registers APP, authorizes an install and exchanges the code: oauth.v2.access's answer. */
async function install(input: Parameters<FakeSlack["authorizeInstall"]>[0] = ACME, rotation = false) {
  fake.registerApp({ ...APP, tokenRotation: rotation });
  const code = fake.authorizeInstall(input);
  return clientFor().oauth.v2.access({ client_id: APP.clientId, client_secret: APP.clientSecret, code });
}

describe("oauth.v2.access", () => {
  it("exchanges a code once for a bot token of the installed workspace", async () => {
    fake.registerApp(APP);
    const code = fake.authorizeInstall({ ...ACME, scopes: ["chat:write", "commands"] });
    const oauth = clientFor().oauth.v2;
    const answer = await oauth.access({ client_id: APP.clientId, client_secret: APP.clientSecret, code });
    expect(answer).toMatchObject({
      ok: true,
      app_id: fake.appId,
      authed_user: { id: "U0ALEX" },
      scope: "chat:write,commands",
      token_type: "bot",
      access_token: expect.stringMatching(/^xoxb-/),
      bot_user_id: "UBOTACME",
      team: { id: "T0ACME", name: "Acme" },
      enterprise: null,
      is_enterprise_install: false,
    });
    expect(answer).not.toHaveProperty("refresh_token");
    expect(answer).not.toHaveProperty("expires_in");

    const acme = clientFor(answer.access_token);
    expect(await acme.auth.test()).toMatchObject({
      team_id: "T0ACME",
      team: "Acme",
      user_id: "UBOTACME",
      bot_id: "BBOTACME",
      is_enterprise_install: false,
    });
    expect(fake.installation("T0ACME")).toMatchObject({
      botToken: answer.access_token,
      botUserId: "UBOTACME",
    });

    const again = oauth.access({ client_id: APP.clientId, client_secret: APP.clientSecret, code });
    expect(await errorOf(again)).toBe("invalid_code");
  });

  it("refuses unknown clients, wrong secrets, unknown codes and another redirect_uri", async () => {
    fake.registerApp(APP);
    const oauth = clientFor().oauth.v2;
    const code = fake.authorizeInstall({ ...ACME, redirectUri: "https://drafter.test/slack/oauth_redirect" });
    expect(await errorOf(oauth.access({ client_id: "nope", client_secret: APP.clientSecret, code }))).toBe(
      "invalid_client_id",
    );
    expect(await errorOf(oauth.access({ client_id: APP.clientId, client_secret: "wrong", code }))).toBe(
      "bad_client_secret",
    );
    expect(
      await errorOf(
        oauth.access({ client_id: APP.clientId, client_secret: APP.clientSecret, code: "made-up" }),
      ),
    ).toBe("invalid_code");
    const elsewhere = {
      client_id: APP.clientId,
      client_secret: APP.clientSecret,
      code,
      redirect_uri: "https://x.test",
    };
    expect(await errorOf(oauth.access(elsewhere))).toBe("bad_redirect_uri");
    // The code survives a refused attempt and works with the right redirect_uri.
    const right = { ...elsewhere, redirect_uri: "https://drafter.test/slack/oauth_redirect" };
    expect((await oauth.access(right)).ok).toBe(true);
    expect(fake.callsTo("oauth.v2.access").every((call) => !("client_secret" in call.args))).toBe(true);
  });

  it("accepts the client credentials as HTTP Basic auth", async () => {
    fake.registerApp(APP);
    const code = fake.authorizeInstall(ACME);
    const response = await fetch(`${fake.url}oauth.v2.access`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${APP.clientId}:${APP.clientSecret}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ code }).toString(),
    });
    expect(await response.json()).toMatchObject({ ok: true, team: { id: "T0ACME" } });
  });

  it("answers an org-wide install with enterprise and no team", async () => {
    const answer = await install({
      userId: "U0ALEX",
      enterpriseId: "E0GRID",
      enterpriseName: "Grid Co",
      isEnterpriseInstall: true,
    });
    expect(answer).toMatchObject({
      team: null,
      enterprise: { id: "E0GRID", name: "Grid Co" },
      is_enterprise_install: true,
    });
    const test = await clientFor(answer.access_token).auth.test();
    expect(test).toMatchObject({ enterprise_id: "E0GRID", is_enterprise_install: true });
    expect(fake.installation("E0GRID")?.isEnterpriseInstall).toBe(true);
  });
});

describe("token rotation", () => {
  it("issues expiring tokens with a refresh token, and refreshes them once per refresh token", async () => {
    const first = await install(ACME, true);
    expect(first).toMatchObject({
      access_token: expect.stringMatching(/^xoxe\.xoxb-/),
      refresh_token: expect.stringMatching(/^xoxe-/),
      expires_in: 43_200,
    });
    const oauth = clientFor().oauth.v2;
    const refresh = (refresh_token: string | undefined) =>
      oauth.access({
        ...{ client_id: APP.clientId, client_secret: APP.clientSecret },
        grant_type: "refresh_token",
        refresh_token,
      });
    const second = await refresh(first.refresh_token);
    expect(second).toMatchObject({ ok: true, token_type: "bot", team: { id: "T0ACME" }, expires_in: 43_200 });
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);

    // Two replicas refreshing with the same refresh token: the second one loses.
    expect(await errorOf(refresh(first.refresh_token))).toBe("invalid_refresh_token");
    expect(await errorOf(refresh("xoxe-1-made-up"))).toBe("invalid_refresh_token");
    // Both access tokens work (the earlier one until it expires, as on Slack).
    expect((await clientFor(first.access_token).auth.test()).team_id).toBe("T0ACME");
    expect((await clientFor(second.access_token).auth.test()).team_id).toBe("T0ACME");
    expect(fake.installation("T0ACME")).toMatchObject({
      botToken: second.access_token,
      refreshToken: second.refresh_token,
    });
  });

  it("expires access tokens on the wall clock, and earlier ones after rotatedTokenGraceMs", async () => {
    fake.registerApp({ ...APP, tokenRotation: true, accessTokenTtlSeconds: 3600, rotatedTokenGraceMs: 0 });
    const oauth = clientFor().oauth.v2;
    const first = await oauth.access({
      ...{ client_id: APP.clientId, client_secret: APP.clientSecret },
      code: fake.authorizeInstall(ACME),
    });
    expect(first.expires_in).toBe(3600);
    const second = await oauth.access({
      ...{ client_id: APP.clientId, client_secret: APP.clientSecret },
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
    });
    expect(await errorOf(clientFor(first.access_token).auth.test())).toBe("token_expired");

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3601 * 1000);
    expect(await errorOf(clientFor(second.access_token).auth.test())).toBe("token_expired");
  });

  it("works with @slack/oauth's InstallProvider: the callback stores the install, authorize() refreshes", async () => {
    fake.registerApp({ ...APP, tokenRotation: true, accessTokenTtlSeconds: 3600 });
    const store = new MemoryInstallationStore();
    const installer = new InstallProvider({
      ...APP,
      stateVerification: false,
      installationStore: store,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
      logger: silent,
    });
    const callback: Server = createServer((req, res) => {
      void installer.handleCallback(req, res, {
        success: (_installation, _options, _req, response) => response.end("installed"),
        failure: (error, _options, _req, response) => response.end(`failed: ${error.message}`),
      });
    });
    await new Promise<void>((resolve) => callback.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = callback.address() as AddressInfo;
      const code = fake.authorizeInstall(ACME);
      expect(await (await fetch(`http://127.0.0.1:${port}/slack/oauth_redirect?code=${code}`)).text()).toBe(
        "installed",
      );
      const stored = await store.fetchInstallation({
        teamId: "T0ACME",
        isEnterpriseInstall: false,
        enterpriseId: undefined,
      });
      const firstToken = stored.bot?.token;
      expect(stored.bot).toMatchObject({
        userId: "UBOTACME",
        id: "BBOTACME",
        refreshToken: expect.stringMatching(/^xoxe-/),
      });

      // The token expires within 2 hours: authorize() refreshes it and stores the new pair.
      const authorized = await installer.authorize({
        teamId: "T0ACME",
        isEnterpriseInstall: false,
        enterpriseId: undefined,
      });
      expect(authorized.botToken).not.toBe(firstToken);
      expect(fake.installation("T0ACME")?.botToken).toBe(authorized.botToken);
      expect(fake.callsTo("oauth.v2.access").map((c) => c.args.grant_type ?? "code")).toEqual([
        "code",
        "refresh_token",
      ]);
    } finally {
      await new Promise((resolve) => callback.close(resolve));
    }
  });
});

describe("several workspaces", () => {
  it("records which team's token made each call and answers its scopes", async () => {
    const answer = await install({ ...ACME, scopes: ["chat:write"] });
    const acme = clientFor(answer.access_token);
    const result = await acme.auth.test();
    expect(result.response_metadata?.scopes).toEqual(["chat:write"]);
    await clientFor(fake.token).auth.test();
    expect(fake.callsTo("auth.test").map((c) => c.teamId)).toEqual(["T0ACME", "T0TEAM"]);
  });

  it("posts as each workspace's bot, and keeps teams out of each other's channels", async () => {
    const answer = await install();
    const acme = clientFor(answer.access_token);
    const home = clientFor(fake.token);
    const root = fake.addHumanMessage({ channel: "C0ACMEGEN", user: "U0ALEX", text: "hi", teamId: "T0ACME" });
    const reply = await acme.chat.postMessage({
      channel: "C0ACMEGEN",
      thread_ts: root.ts,
      text: "Drafting...",
    });
    expect(fake.message("C0ACMEGEN", reply.ts ?? "")).toMatchObject({ user: "UBOTACME", bot_id: "BBOTACME" });
    expect(await errorOf(home.chat.postMessage({ channel: "C0ACMEGEN", text: "wrong team" }))).toBe(
      "channel_not_found",
    );
    // A channel nobody claimed belongs to the first team that uses it.
    await home.chat.postMessage({ channel: "C0DRAFTS", text: "ours" });
    expect(await errorOf(acme.chat.postMessage({ channel: "C0DRAFTS", text: "theirs" }))).toBe(
      "channel_not_found",
    );
    expect(await errorOf(acme.chat.update({ channel: "C0DRAFTS", ts: reply.ts ?? "", text: "x" }))).toBe(
      "channel_not_found",
    );
  });

  it("posts through a response_url as the bot of the interaction's workspace", async () => {
    await install();
    const url = fake.responseUrl({ channel: "C0ACMEGEN", user: "U0ALEX", teamId: "T0ACME" });
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_type: "in_channel", text: "Alex started a draft" }),
    });
    expect(response.status).toBe(200);
    expect(fake.messages("C0ACMEGEN")).toMatchObject([
      { text: "Alex started a draft", user: "UBOTACME", bot_id: "BBOTACME" },
    ]);
  });

  it("answers token_expired after expireTokens and token_revoked after revokeTokens", async () => {
    const answer = await install(ACME, true);
    const acme = clientFor(answer.access_token);
    fake.expireTokens("T0ACME");
    expect(await errorOf(acme.auth.test())).toBe("token_expired");
    const refreshed = await clientFor().oauth.v2.access({
      ...{ client_id: APP.clientId, client_secret: APP.clientSecret },
      grant_type: "refresh_token",
      refresh_token: answer.refresh_token,
    });
    expect((await clientFor(refreshed.access_token).auth.test()).team_id).toBe("T0ACME");

    fake.revokeTokens("T0ACME");
    expect(await errorOf(clientFor(refreshed.access_token).auth.test())).toBe("token_revoked");
    const afterUninstall = clientFor().oauth.v2.access({
      ...{ client_id: APP.clientId, client_secret: APP.clientSecret },
      grant_type: "refresh_token",
      refresh_token: refreshed.refresh_token,
    });
    expect(await errorOf(afterUninstall)).toBe("invalid_refresh_token");
    // The default workspace is untouched, and can be revoked too.
    expect((await clientFor(fake.token).auth.test()).ok).toBe(true);
    fake.revokeTokens(fake.teamId);
    expect(await errorOf(clientFor(fake.token).auth.test())).toBe("token_revoked");
  });

  it("tells unknown tokens and tokens of the wrong kind apart", async () => {
    const answer = await install(ACME, true);
    expect(await errorOf(clientFor("xoxb-unknown").auth.test())).toBe("invalid_auth");
    expect(await errorOf(clientFor(answer.refresh_token).auth.test())).toBe("not_allowed_token_type");
    expect(await errorOf(clientFor(fake.appToken).auth.test())).toBe("not_allowed_token_type");
    expect(await errorOf(clientFor(answer.access_token).apps.connections.open())).toBe(
      "not_allowed_token_type",
    );
  });
});

describe("users.info roles", () => {
  it("answers is_admin, is_owner and is_primary_owner; the two-argument addUser still works", async () => {
    fake.addUser("U0ADA", "Ada Admin", { admin: true });
    fake.addUser("U0OWEN", "Owen Owner", { owner: true });
    fake.addUser("U0PRIM", "Prim Owner", { primaryOwner: true });
    fake.addUser("U0LEE", "Lee Park");
    const client = clientFor(fake.token);
    const roles = async (user: string) => {
      const { user: info } = await client.users.info({ user });
      return [info?.real_name, info?.is_admin, info?.is_owner, info?.is_primary_owner];
    };
    expect(await roles("U0ADA")).toEqual(["Ada Admin", true, false, false]);
    expect(await roles("U0OWEN")).toEqual(["Owen Owner", true, true, false]);
    expect(await roles("U0PRIM")).toEqual(["Prim Owner", true, true, true]);
    expect(await roles("U0LEE")).toEqual(["Lee Park", false, false, false]);
    expect(await roles("U0DANA")).toEqual(["Dana", false, false, false]);
  });

  it("finds a person added with a team only through that team's tokens", async () => {
    const answer = await install();
    fake.addUser("U0ALEX", "Alex", { teamId: "T0ACME", admin: true });
    expect((await clientFor(answer.access_token).users.info({ user: "U0ALEX" })).user).toMatchObject({
      team_id: "T0ACME",
      is_admin: true,
    });
    expect(await errorOf(clientFor(fake.token).users.info({ user: "U0ALEX" }))).toBe("user_not_found");
  });
});

describe("Home tabs", () => {
  const homeView = (text: string) => ({
    type: "home" as const,
    blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
  });

  it("keeps one Home tab per user and team, readable with home() and renderHome()", async () => {
    const answer = await install();
    await clientFor(fake.token).views.publish({ user_id: "U0DANA", view: homeView("Puffle: connected") });
    await clientFor(answer.access_token).views.publish({
      user_id: "U0DANA",
      view: homeView("Connect Puffle"),
    });
    expect(fake.renderHome("U0DANA")).toBe("Puffle: connected");
    expect(fake.renderHome("U0DANA", "T0ACME")).toBe("Connect Puffle");
    expect(fake.home("U0DANA", "T0ACME")?.view).toMatchObject({ type: "home", team_id: "T0ACME" });
    expect(fake.home("U0NOBODY")).toBeUndefined();
    expect(fake.renderHome("U0NOBODY")).toBe("");
  });

  it("validates Home tabs: type home, at most 100 blocks", async () => {
    const client = clientFor(fake.token);
    const blocks = Array.from({ length: 101 }, () => ({ type: "divider" }));
    expect(await errorOf(client.views.publish({ user_id: "U0DANA", view: { type: "home", blocks } }))).toBe(
      "invalid_arguments",
    );
    const modal = { type: "modal" as const, title: { type: "plain_text" as const, text: "Hi" }, blocks: [] };
    expect(await errorOf(client.views.publish({ user_id: "U0DANA", view: modal }))).toBe("invalid_arguments");
    await client.views.publish({ user_id: "U0DANA", view: { type: "home", blocks: blocks.slice(1) } });
    expect(fake.home("U0DANA")?.view.blocks).toHaveLength(100);
  });
});
