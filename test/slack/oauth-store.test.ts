import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Installation } from "@slack/oauth";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.ts";
import { createSealer } from "../../src/crypto.ts";
import { createInstallationStore, NoInstallationError } from "../../src/slack/oauth/installation-store.ts";
import { createStateStore, STATE_TTL_MS } from "../../src/slack/oauth/state-store.ts";
import { createSqliteStore, type SqliteStore } from "../../src/store/sqlite/store.ts";

/** The installation store and the install states, on a real (in-memory) SQLite store. */
const keyA = randomBytes(32);
const keyB = randomBytes(32);

let store: SqliteStore;
beforeEach(() => {
  store = createSqliteStore({ url: "sqlite::memory:" });
});
afterEach(async () => {
  await store.close();
});

const acme: Installation<"v2", false> = {
  team: { id: "T0ACME", name: "Acme" },
  enterprise: undefined,
  user: { id: "U0ALEX", token: undefined, scopes: undefined },
  bot: {
    token: "xoxe.xoxb-1-acme-secret",
    refreshToken: "xoxe-1-acme-refresh",
    expiresAt: 1_900_000_000,
    scopes: ["chat:write"],
    id: "BBOTACME",
    userId: "UBOTACME",
  },
  isEnterpriseInstall: false,
  authVersion: "v2",
  appId: "A0APP",
};
const grid: Installation<"v2", true> = {
  team: undefined,
  enterprise: { id: "E0GRID", name: "Grid Co" },
  user: { id: "U0ADA", token: undefined, scopes: undefined },
  bot: { token: "xoxb-grid-secret", scopes: ["chat:write"], id: "BBOTGRID", userId: "UBOTGRID" },
  isEnterpriseInstall: true,
  authVersion: "v2",
};
const teamQuery = (teamId: string, enterpriseId?: string) => ({
  teamId,
  enterpriseId,
  isEnterpriseInstall: false,
});

describe("the installation store", () => {
  it("seals the whole installation: the row holds no token, only what is not secret", async () => {
    const installations = createInstallationStore({
      records: store,
      sealer: createSealer({ key: keyA }),
      clock: systemClock,
    });
    await installations.storeInstallation(acme);
    const row = await store.findInstallation("T:T0ACME");
    expect(row).toMatchObject({
      teamId: "T0ACME",
      enterpriseId: null,
      isEnterpriseInstall: false,
      botUserId: "UBOTACME",
      installerUserId: "U0ALEX",
      tokenExpiresAt: 1_900_000_000_000,
    });
    expect(JSON.stringify(row)).not.toMatch(/xox|acme-secret|acme-refresh/);
    expect(await installations.fetchInstallation(teamQuery("T0ACME"))).toEqual(acme);
  });

  it("keys an org-wide install by its enterprise, and finds it for the enterprise's workspaces", async () => {
    const installations = createInstallationStore({
      records: store,
      sealer: createSealer({ key: keyA }),
      clock: systemClock,
    });
    await installations.storeInstallation(grid);
    expect(await store.findInstallation("E:E0GRID")).toMatchObject({
      teamId: null,
      isEnterpriseInstall: true,
    });
    const org = { teamId: undefined, enterpriseId: "E0GRID", isEnterpriseInstall: true };
    expect((await installations.fetchInstallation(org)).bot?.token).toBe("xoxb-grid-secret");
    // A workspace of the org: its own row first, else the enterprise's.
    expect((await installations.fetchInstallation(teamQuery("T0SALES", "E0GRID"))).bot?.userId).toBe(
      "UBOTGRID",
    );
    await expect(installations.fetchInstallation(teamQuery("T0SALES"))).rejects.toThrow(NoInstallationError);
    // One workspace leaving does not remove the org's install; the org uninstalling does.
    await installations.deleteInstallation?.(teamQuery("T0SALES", "E0GRID"));
    expect(await store.findInstallation("E:E0GRID")).toBeDefined();
    await installations.deleteInstallation?.(org);
    expect(await store.findInstallation("E:E0GRID")).toBeUndefined();
  });

  it("opens rows sealed with the previous key, and seals them with the new key when saved again", async () => {
    const before = createInstallationStore({
      records: store,
      sealer: createSealer({ key: keyA }),
      clock: systemClock,
    });
    await before.storeInstallation(acme);
    const oldSealed = (await store.findInstallation("T:T0ACME"))?.recordEncrypted ?? "";
    const rotated = createSealer({ key: keyB, previous: keyA });
    const after = createInstallationStore({ records: store, sealer: rotated, clock: systemClock });
    const fetched = await after.fetchInstallation(teamQuery("T0ACME"));
    expect(fetched.bot?.token).toBe("xoxe.xoxb-1-acme-secret");
    expect(rotated.isStale(oldSealed)).toBe(true);

    await after.storeInstallation(fetched);
    const resealed = (await store.findInstallation("T:T0ACME"))?.recordEncrypted ?? "";
    expect(rotated.isStale(resealed)).toBe(false);
    // The new key alone opens it now.
    const newOnly = createInstallationStore({
      records: store,
      sealer: createSealer({ key: keyB }),
      clock: systemClock,
    });
    expect((await newOnly.fetchInstallation(teamQuery("T0ACME"))).bot?.token).toBe("xoxe.xoxb-1-acme-secret");
  });

  it("deletes a workspace's installation; fetching it then says it is not installed", async () => {
    const installations = createInstallationStore({
      records: store,
      sealer: createSealer({ key: keyA }),
      clock: systemClock,
    });
    await installations.storeInstallation(acme);
    await installations.deleteInstallation?.(teamQuery("T0ACME"));
    expect(await store.findInstallation("T:T0ACME")).toBeUndefined();
    await expect(installations.fetchInstallation(teamQuery("T0ACME"))).rejects.toThrow(
      /not installed in workspace T0ACME/,
    );
  });
});

describe("install states", () => {
  const options = { scopes: ["chat:write"], redirectUri: "https://drafter.test/slack/oauth_redirect" };

  it("are spent once: the same state is refused the second time", async () => {
    const states = createStateStore({ states: store, secret: "state-secret-0123456789" });
    const now = new Date();
    const state = await states.generateStateParam(options, now);
    expect(await states.verifyStateParam(now, state)).toEqual(options);
    await expect(states.verifyStateParam(now, state)).rejects.toThrow(/already used/);
  });

  it("refuse forged states, states signed with another secret, and expired ones", async () => {
    const states = createStateStore({ states: store, secret: "state-secret-0123456789" });
    const now = new Date();
    await expect(states.verifyStateParam(now, "made-up")).rejects.toThrow(/not issued by this app/);
    const elsewhere = createStateStore({ states: store, secret: "another-secret-0123456789" });
    const foreign = await elsewhere.generateStateParam(options, now);
    await expect(states.verifyStateParam(now, foreign)).rejects.toThrow(/not issued by this app/);
    // An issued state with its signature altered.
    const [nonce] = (await states.generateStateParam(options, now)).split(".");
    await expect(states.verifyStateParam(now, `${nonce}.${"A".repeat(43)}`)).rejects.toThrow(/not issued/);
    // Signed by us but no longer in the store (swept): refused by the store.
    const swept = await states.generateStateParam(options, now);
    await store.takeOAuthState(swept, now.getTime());
    await expect(states.verifyStateParam(now, swept)).rejects.toThrow(/already used, or has expired/);

    const old = await states.generateStateParam(options, now);
    const later = new Date(now.getTime() + STATE_TTL_MS + 1);
    await expect(states.verifyStateParam(later, old)).rejects.toThrow(/expired/);
  });

  it("work across replicas: a state issued by one store's replica is taken by another's", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "oauth-states-")), "drafter.db");
    const one = createSqliteStore({ url: `sqlite:${path}` });
    const two = createSqliteStore({ url: `sqlite:${path}` });
    try {
      const secret = "state-secret-0123456789";
      const now = new Date();
      const state = await createStateStore({ states: one, secret }).generateStateParam(options, now);
      expect(await createStateStore({ states: two, secret }).verifyStateParam(now, state)).toEqual(options);
      await expect(createStateStore({ states: one, secret }).verifyStateParam(now, state)).rejects.toThrow();
    } finally {
      await one.close();
      await two.close();
    }
  });
});
