import type { WebClient } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import type { WorkspaceStatus } from "../../../src/drafting/drafting-service.ts";
import type { ThreadRecord } from "../../../src/drafting/store.ts";
import { createLogger } from "../../../src/logger.ts";
import { isWorkspaceAdmin } from "../../../src/slack/home/admins.ts";
import { createCoalescer } from "../../../src/slack/home/coalesce.ts";
import { createHomeTab } from "../../../src/slack/home/home-tab.ts";
import { flush, ManualClock } from "../../support/manual-clock.ts";

const silent = createLogger({ level: "silent" });

describe("coalesced refreshes", () => {
  function setup() {
    const clock = new ManualClock();
    const runs: { key: string; at: number }[] = [];
    const waiting: (() => void)[] = [];
    let hold = false;
    const coalescer = createCoalescer({
      clock,
      intervalMs: 2000,
      run: async (key) => {
        runs.push({ key, at: clock.now() });
        if (hold) await new Promise<void>((resolve) => waiting.push(resolve));
      },
      onError: () => {},
    });
    const t0 = clock.now();
    return {
      clock,
      coalescer,
      runs: () => runs.map((r) => [r.key, r.at - t0]),
      hold: (on: boolean) => (hold = on),
      release: () => {
        for (const resolve of waiting.splice(0)) resolve();
      },
    };
  }

  it("runs at once, then at most once per interval, and always once after the last request", async () => {
    const s = setup();
    s.coalescer.request("a");
    await flush();
    expect(s.runs()).toEqual([["a", 0]]);
    for (const ms of [100, 300, 500]) {
      await s.clock.advance(ms);
      s.coalescer.request("a");
    }
    await s.clock.advance(1099);
    expect(s.runs()).toEqual([["a", 0]]);
    await s.clock.advance(1);
    expect(s.runs()).toEqual([
      ["a", 0],
      ["a", 2000],
    ]);
    // Quiet for a while: the next request runs at once again.
    await s.clock.advance(5000);
    s.coalescer.request("a");
    await flush();
    expect(s.runs().at(-1)).toEqual(["a", 7000]);
    expect(s.runs()).toHaveLength(3);
  });

  it("keeps people apart, and runs once more after a request made during a run", async () => {
    const s = setup();
    s.hold(true);
    s.coalescer.request("a");
    s.coalescer.request("b");
    await flush();
    s.coalescer.request("a");
    s.coalescer.request("a");
    s.hold(false);
    s.release();
    await s.clock.advance(1999);
    expect(s.runs()).toHaveLength(2);
    await s.clock.advance(1);
    await flush();
    expect(s.runs()).toEqual([
      ["a", 0],
      ["b", 0],
      ["a", 2000],
    ]);
  });

  it("runs at once for something the person did, still one run at a time", async () => {
    const s = setup();
    s.coalescer.request("a");
    await s.clock.advance(100);
    s.coalescer.request("a");
    s.coalescer.requestNow("a");
    await flush();
    expect(s.runs()).toEqual([
      ["a", 0],
      ["a", 100],
    ]);
    s.hold(true);
    s.coalescer.requestNow("a");
    await flush();
    s.coalescer.requestNow("a");
    await flush();
    expect(s.runs()).toHaveLength(3);
    s.hold(false);
    s.release();
    await flush();
    expect(s.runs()).toHaveLength(4);
    await s.clock.advance(10_000);
    expect(s.runs()).toHaveLength(4);
  });

  it("drops waiting runs when closed", async () => {
    const s = setup();
    s.coalescer.request("a");
    s.coalescer.request("a");
    await s.coalescer.close();
    await s.clock.advance(5000);
    s.coalescer.request("a");
    await flush();
    expect(s.runs()).toEqual([["a", 0]]);
  });
});

describe("who may administer the app in a workspace", () => {
  const client = (user: Record<string, unknown> | Error) =>
    ({
      users: {
        info: async () => {
          if (user instanceof Error) throw user;
          return { ok: true, user };
        },
      },
    }) as unknown as WebClient;

  it("admins, owners, the primary owner and the installing user; nobody else", async () => {
    expect(await isWorkspaceAdmin(client({ is_admin: true }), "T1", "U1")).toBe(true);
    expect(await isWorkspaceAdmin(client({ is_owner: true }), "T1", "U1")).toBe(true);
    expect(await isWorkspaceAdmin(client({ is_primary_owner: true }), "T1", "U1")).toBe(true);
    expect(await isWorkspaceAdmin(client({ is_admin: false }), "T1", "U1")).toBe(false);
    expect(await isWorkspaceAdmin(client({ is_admin: true, deleted: true }), "T1", "U1")).toBe(false);
    const installer = async (teamId: string) => (teamId === "T1" ? "U1" : undefined);
    expect(await isWorkspaceAdmin(client({}), "T1", "U1", installer)).toBe(true);
    expect(await isWorkspaceAdmin(client({}), "T2", "U1", installer)).toBe(false);
    const broken = async () => {
      throw new Error("store down");
    };
    expect(await isWorkspaceAdmin(client({ is_admin: true }), "T1", "U1", broken)).toBe(true);
    await expect(isWorkspaceAdmin(client(new Error("user_not_found")), "T1", "U1")).rejects.toThrow();
  });
});

describe("the Home tab follows its viewers' drafts", () => {
  it("republishes only for a starter who opened the tab, coalesced", async () => {
    const clock = new ManualClock();
    const opened = new Set<string>();
    const publishes: string[] = [];
    const status: WorkspaceStatus = {
      connection: "default",
      last4: "abcd",
      connectedBy: null,
      canConnect: false,
      defaultStep: null,
      defaultSource: null,
    };
    const client = {
      auth: { test: async () => ({ ok: true, url: "https://acme.slack.com/" }) },
      users: { info: async () => ({ ok: true, user: { is_admin: false } }) },
      views: {
        publish: async (args: { user_id: string }) => {
          publishes.push(args.user_id);
          return { ok: true };
        },
      },
    } as unknown as WebClient;
    const home = createHomeTab({
      drafting: {
        workspaceStatus: async () => status,
        recentDrafts: async () => [],
        describeStep: async () => undefined,
      },
      viewers: {
        noteHomeOpened: async (teamId, userId) => void opened.add(`${teamId}:${userId}`),
        hasOpenedHome: async (teamId, userId) => opened.has(`${teamId}:${userId}`),
      },
      clients: { forTeam: async () => client },
      clock,
      logger: silent,
    });
    const thread = (startedBy: string) => ({ teamId: "T1", startedBy }) as ThreadRecord;

    await home.opened("T1", "U0LEE");
    await flush();
    expect(publishes).toEqual(["U0LEE"]);
    home.threadChanged(thread("U0DANA"));
    home.threadChanged(thread("U0LEE"));
    home.threadChanged(thread("U0LEE"));
    await clock.advance(500);
    home.threadChanged(thread("U0LEE"));
    await clock.advance(1500);
    await flush();
    expect(publishes).toEqual(["U0LEE", "U0LEE"]);
    await clock.advance(10_000);
    expect(publishes).toEqual(["U0LEE", "U0LEE"]);
    await home.close();
  });
});
