import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Installation } from "@slack/oauth";
import { WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/clock.ts";
import { createSealer } from "../../src/crypto.ts";
import { createSilentLogger } from "../../src/logger.ts";
import { createOAuthInstalls, type OAuthInstalls } from "../../src/slack/oauth/index.ts";
import { createInstallationStore } from "../../src/slack/oauth/installation-store.ts";
import type { Store } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { usePostgresStores } from "../support/postgres-store.ts";

/**
 * Token rotation across replicas: two bot processes ("a" and "b", each with its own InstallProvider and
 * its own connection to one database) needing the same expiring token at once make one refresh, and
 * both end with the new, working token. Slack's refresh tokens work once (the fake enforces it), so a
 * second refresh would leave one replica with a dead token.
 */
const APP = {
  clientId: "111.222",
  clientSecret: "client-secret-0123",
  stateSecret: "state-secret-0123456789",
};
const ACME = { teamId: "T0ACME", teamName: "Acme", userId: "U0ALEX" };
const HOUR = 3_600_000;
const sealer = createSealer({ key: randomBytes(32) });
const query = { teamId: "T0ACME", enterpriseId: undefined, isEnterpriseInstall: false };

let fake: FakeSlack;
beforeEach(async () => {
  fake = await startFakeSlack();
  fake.registerApp({ ...APP, tokenRotation: true, rotatedTokenGraceMs: 0 });
});
afterEach(async () => {
  vi.useRealTimers();
  await fake.close();
});

function replica(store: Store, replicaId: string, waitMs?: number): OAuthInstalls {
  return createOAuthInstalls({
    oauth: APP,
    slackApiUrl: fake.url,
    store,
    sealer,
    replicaId,
    clock: systemClock,
    logger: createSilentLogger(),
    logLevel: "silent",
    ...(waitMs === undefined ? {} : { refreshWaitMs: waitMs }),
  });
}

/** Exchanges an install code and stores the installation as the install page would. */
async function install(store: Store) {
  const answer = await new WebClient(undefined, { slackApiUrl: fake.url }).oauth.v2.access({
    client_id: APP.clientId,
    client_secret: APP.clientSecret,
    code: fake.authorizeInstall(ACME),
  });
  const installation: Installation<"v2", false> = {
    team: { id: ACME.teamId, name: ACME.teamName },
    enterprise: undefined,
    user: { id: ACME.userId, token: undefined, scopes: undefined },
    bot: {
      token: answer.access_token ?? "",
      refreshToken: answer.refresh_token ?? "",
      expiresAt: Math.floor(Date.now() / 1000) + (answer.expires_in ?? 0),
      scopes: (answer.scope ?? "").split(","),
      id: "BBOTACME",
      userId: answer.bot_user_id ?? "",
    },
    isEnterpriseInstall: false,
    authVersion: "v2",
  };
  await createInstallationStore({ records: store, sealer, clock: systemClock }).storeInstallation(
    installation,
  );
  return installation;
}

/** 11 of the token's 12 hours pass, and Slack no longer takes it. */
function nearExpiry() {
  // Only the date moves (and goes on with real time); timers stay real.
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() + 11 * HOUR);
  fake.expireTokens(ACME.teamId);
}

const refreshes = () => fake.callsTo("oauth.v2.access").filter((c) => c.args.grant_type === "refresh_token");
const works = async (token: string) =>
  (await new WebClient(token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } }).auth.test()).team_id;

function raceTests(open: () => Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }>) {
  it("two replicas refreshing the same installation at once: one refresh, both with the new token", async () => {
    const { a, b, cleanup } = await open();
    try {
      const installed = await install(a);
      nearExpiry();
      fake.delay("oauth.v2.access", 300);
      const [one, two] = await Promise.all([
        replica(a, "a").authorize(query),
        replica(b, "b").authorize(query),
      ]);
      expect(refreshes()).toHaveLength(1);
      expect(one.botToken).toBe(two.botToken);
      expect(one.botToken).not.toBe(installed.bot?.token);
      expect(fake.installation(ACME.teamId)?.botToken).toBe(one.botToken);
      expect(await works(one.botToken ?? "")).toBe(ACME.teamId);
      // Later calls read the stored token: no further refresh.
      expect(await replica(b, "b").tokenFor(ACME.teamId)).toBe(one.botToken);
      expect(refreshes()).toHaveLength(1);
      // Nothing holds the lock any more.
      expect(await a.lockInstallationRefresh("T:T0ACME", "c", Date.now(), 1000)).toBe(true);
    } finally {
      await cleanup();
    }
  });
}

describe("token refresh on SQLite (two connections to one file)", () => {
  raceTests(async () => {
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "oauth-refresh-")), "drafter.db")}`;
    const a = createSqliteStore({ url });
    const b = createSqliteStore({ url });
    const cleanup = async () => {
      await a.close();
      await b.close();
    };
    return { a, b, cleanup };
  });

  it("many calls in one replica at once make one refresh", async () => {
    const store = createSqliteStore({ url: "sqlite::memory:" });
    try {
      await install(store);
      nearExpiry();
      fake.delay("oauth.v2.access", 200);
      const a = replica(store, "a");
      const tokens = await Promise.all(Array.from({ length: 8 }, () => a.tokenFor(ACME.teamId)));
      expect(new Set(tokens).size).toBe(1);
      expect(refreshes()).toHaveLength(1);
      expect(await works(tokens[0] ?? "")).toBe(ACME.teamId);
    } finally {
      await store.close();
    }
  });

  it("waits for another replica's refresh only so long, then says so", async () => {
    const store = createSqliteStore({ url: "sqlite::memory:" });
    try {
      await install(store);
      nearExpiry();
      // A replica took the lock and is still at it (or died: the lock lapses after 30 s).
      expect(await store.lockInstallationRefresh("T:T0ACME", "elsewhere", Date.now(), 30_000)).toBe(true);
      await expect(replica(store, "a", 300).tokenFor(ACME.teamId)).rejects.toThrow(
        /being refreshed elsewhere/,
      );
      expect(refreshes()).toHaveLength(0);
      await store.unlockInstallationRefresh("T:T0ACME", "elsewhere");
      expect(await works(await replica(store, "a").tokenFor(ACME.teamId))).toBe(ACME.teamId);
      expect(refreshes()).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

describe("token refresh on PostgreSQL (two stores on one database)", () => {
  const stores = usePostgresStores();
  raceTests(async () => {
    const opened = await stores.open();
    return { a: opened.store, b: await opened.reopen(), cleanup: opened.cleanup };
  });
});
