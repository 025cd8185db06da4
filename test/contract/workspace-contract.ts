/**
 * What the store keeps for many workspaces and for the request budget, for every store kind: a
 * workspace's Puffle key and default step, OAuth installations with their refresh lock, one-time install
 * states, Home tab viewers, the budget's shared slots, and the drafting queries the App Home and an
 * uninstall need.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/index.ts";

export function defineWorkspaceContract(
  name: string,
  open: () => Promise<{ store: Store; cleanup(): Promise<void> }>,
) {
  describe(`workspace records: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    let counter = 0;
    const thread = async (teamId: string, startedBy: string, at: number) => {
      counter++;
      const created = await store.createThread(
        {
          teamId,
          channelId: "C1",
          threadTs: `1760000000.${String(counter).padStart(6, "0")}`,
          startedBy,
          campaignId: "c",
          nodeId: "n",
        },
        at,
      );
      if (created === "thread_exists") throw new Error("exists");
      return created;
    };

    it("keeps a workspace's Puffle key (encrypted, with its last 4) and its default step, and clears the key", async () => {
      expect(await store.getWorkspace("T1")).toBeUndefined();
      await store.setPuffleKey("T1", { encrypted: "v1:abc:sealed", last4: "9f2c" }, "U1", 10);
      await store.setWorkspaceDefaultStep("T1", { campaignId: "camp", nodeId: "node" }, "U2", 20);
      expect(await store.getWorkspace("T1")).toEqual({
        teamId: "T1",
        puffleKeyEncrypted: "v1:abc:sealed",
        puffleKeyLast4: "9f2c",
        puffleKeySetBy: "U1",
        puffleKeySetAt: 10,
        defaultStep: { campaignId: "camp", nodeId: "node" },
        defaultSetBy: "U2",
      });
      await store.clearPuffleKey("T1");
      expect(await store.getWorkspace("T1")).toMatchObject({
        puffleKeyEncrypted: null,
        puffleKeyLast4: null,
        defaultStep: { campaignId: "camp" },
      });
      await store.setWorkspaceDefaultStep("T1", null, "U2", 30);
      expect((await store.getWorkspace("T1"))?.defaultStep).toBeNull();
      expect(await store.getWorkspace("T2")).toBeUndefined();
    });

    it("keeps installations by key, replaces them (installed time kept), deletes them", async () => {
      const row = {
        installKey: "T:T1",
        teamId: "T1",
        enterpriseId: null,
        isEnterpriseInstall: false,
        recordEncrypted: "v1:k:sealed-1",
        botUserId: "U0BOT",
        installerUserId: "U1",
        tokenExpiresAt: null,
        installedAt: 100,
        updatedAt: 100,
      };
      await store.saveInstallation(row);
      await store.saveInstallation({
        ...row,
        installKey: "E:E1",
        teamId: null,
        enterpriseId: "E1",
        isEnterpriseInstall: true,
      });
      expect(await store.findInstallation("T:T1")).toEqual(row);
      expect(await store.findInstallation("E:E1")).toMatchObject({
        enterpriseId: "E1",
        isEnterpriseInstall: true,
      });
      await store.saveInstallation({
        ...row,
        recordEncrypted: "v1:k:sealed-2",
        tokenExpiresAt: 999,
        installedAt: 500,
        updatedAt: 500,
      });
      expect(await store.findInstallation("T:T1")).toEqual({
        ...row,
        recordEncrypted: "v1:k:sealed-2",
        tokenExpiresAt: 999,
        updatedAt: 500,
      });
      expect(await store.deleteInstallation("T:T1")).toBe(true);
      expect(await store.deleteInstallation("T:T1")).toBe(false);
      expect(await store.findInstallation("T:T1")).toBeUndefined();
    });

    it("serializes token refreshes: one owner holds an installation's refresh lock until it lets go or it lapses", async () => {
      await store.saveInstallation({
        installKey: "T:T9",
        teamId: "T9",
        enterpriseId: null,
        isEnterpriseInstall: false,
        recordEncrypted: "x",
        botUserId: null,
        installerUserId: null,
        tokenExpiresAt: 1,
        installedAt: 1,
        updatedAt: 1,
      });
      expect(await store.lockInstallationRefresh("T:T9", "a", 1000, 30_000)).toBe(true);
      expect(await store.lockInstallationRefresh("T:T9", "b", 2000, 30_000)).toBe(false);
      expect(await store.lockInstallationRefresh("T:T9", "a", 2000, 30_000)).toBe(true);
      await store.unlockInstallationRefresh("T:T9", "b"); // not b's: nothing happens
      expect(await store.lockInstallationRefresh("T:T9", "b", 3000, 30_000)).toBe(false);
      await store.unlockInstallationRefresh("T:T9", "a");
      expect(await store.lockInstallationRefresh("T:T9", "b", 3000, 30_000)).toBe(true);
      // A holder that died: its lock lapses.
      expect(await store.lockInstallationRefresh("T:T9", "c", 40_000, 30_000)).toBe(true);
      expect(await store.lockInstallationRefresh("T:T9", "d", 1, 1)).toBe(false);
    });

    it("remembers the workspaces of an org-wide install, and gives them up when it is removed", async () => {
      expect(await store.enterpriseOfWorkspace("T1")).toBeUndefined();
      await store.noteOrgWorkspace("T1", "E1", 10);
      await store.noteOrgWorkspace("T2", "E1", 11);
      await store.noteOrgWorkspace("T3", "E2", 12);
      await store.noteOrgWorkspace("T1", "E1", 13); // seen again: still one row
      expect(await store.enterpriseOfWorkspace("T1")).toBe("E1");
      expect((await store.takeOrgWorkspaces("E1")).sort()).toEqual(["T1", "T2"]);
      expect(await store.enterpriseOfWorkspace("T1")).toBeUndefined();
      expect(await store.takeOrgWorkspaces("E1")).toEqual([]);
      expect(await store.enterpriseOfWorkspace("T3")).toBe("E2");
    });

    it("spends an install state once, and never after it expired", async () => {
      await store.putOAuthState("s1", '{"a":1}', 1000);
      await store.putOAuthState("s2", "{}", 1000);
      expect(await store.takeOAuthState("s1", 500)).toBe('{"a":1}');
      expect(await store.takeOAuthState("s1", 500)).toBeUndefined();
      expect(await store.takeOAuthState("s2", 1000)).toBeUndefined();
      expect(await store.takeOAuthState("nope", 1)).toBeUndefined();
    });

    it("remembers who opened the Home tab, per workspace", async () => {
      expect(await store.hasOpenedHome("T1", "U1")).toBe(false);
      await store.noteHomeOpened("T1", "U1", 5);
      await store.noteHomeOpened("T1", "U1", 6);
      expect(await store.hasOpenedHome("T1", "U1")).toBe(true);
      expect(await store.hasOpenedHome("T2", "U1")).toBe(false);
    });

    it("hands out request slots evenly, never before a pause ends, per key", async () => {
      expect(await store.reserveSlot("k1", 1000, 600)).toBe(1000);
      expect(await store.reserveSlot("k1", 1000, 600)).toBe(1600);
      expect(await store.reserveSlot("k1", 1100, 600)).toBe(2200);
      expect(await store.reserveSlot("k2", 1100, 600)).toBe(1100);
      // Idle for a while: the next slot is now, not a backlog of missed slots.
      expect(await store.reserveSlot("k1", 10_000, 600)).toBe(10_000);
      await store.pauseKey("k1", 20_000);
      await store.pauseKey("k1", 15_000); // a shorter pause does not shorten the longer one
      expect(await store.reserveSlot("k1", 11_000, 600)).toBe(20_000);
      expect(await store.reserveSlot("k1", 11_000, 600)).toBe(20_600);
    });

    it("lends an idle key a small burst, then spaces its slots; no burst right after a pause", async () => {
      // Tolerance 1200 = two intervals: three slots at once, then one per interval.
      const slots = [];
      for (let i = 0; i < 6; i++) slots.push(await store.reserveSlot("kb", 1000, 600, 1200));
      expect(slots).toEqual([1000, 1000, 1000, 1600, 2200, 2800]);
      // Idle long enough to earn the burst back.
      expect(await store.reserveSlot("kb", 60_000, 600, 1200)).toBe(60_000);
      expect(await store.reserveSlot("kb", 60_000, 600, 1200)).toBe(60_000);
      await store.pauseKey("kb", 70_000);
      const after = [];
      for (let i = 0; i < 3; i++) after.push(await store.reserveSlot("kb", 61_000, 600, 1200));
      expect(after).toEqual([70_000, 70_600, 71_200]);
    });

    it("lists a user's threads newest first, a team's threads with open turns, and ends a team's threads for good", async () => {
      const a = await thread("T1", "U1", 10);
      const b = await thread("T1", "U1", 20);
      const other = await thread("T1", "U2", 30);
      const elsewhere = await thread("T2", "U1", 40);
      expect((await store.threadsStartedBy("T1", "U1", 10)).map((t) => t.id)).toEqual([b.id, a.id]);
      expect((await store.threadsStartedBy("T1", "U1", 1)).map((t) => t.id)).toEqual([b.id]);
      const pending = await store.addTurn(
        { threadId: a.id, kind: "chat", text: "hi", authorId: "U1" },
        { now: 50 },
      );
      await store.addTurn({ threadId: elsewhere.id, kind: "chat", text: "hi", authorId: "U1" }, { now: 50 });
      if (pending === "duplicate") throw new Error("duplicate");
      expect(await store.threadsWithOpenTurnsOfTeam("T1")).toEqual([a.id]);
      const lease = await store.acquireLease(a.id, "replica", 60, 15_000);
      if (!lease) throw new Error("no lease");

      expect((await store.endThreadsOfTeam("T1", "uninstalled", 70)).sort()).toEqual(
        [a.id, b.id, other.id].sort(),
      );
      expect(await store.getTurn(pending.id)).toMatchObject({
        state: "failed",
        failureCode: "uninstalled",
        finishedAt: 70,
      });
      expect(await store.getThreadById(a.id)).toMatchObject({ endedAt: 70, endedReason: "uninstalled" });
      expect(await store.threadsWithOpenTurnsOfTeam("T1")).toEqual([]);
      expect(await store.threadsWithoutDriver(80, 10)).toEqual([elsewhere.id]);
      // The driver's lease is void: its next fenced write fails.
      await expect(store.updateThread(a.id, { turnCount: 1 }, lease)).rejects.toThrow(/lease/);
      expect((await store.getThreadById(elsewhere.id))?.endedAt).toBeNull();
    });
  });
}
