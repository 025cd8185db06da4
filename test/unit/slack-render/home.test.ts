import { describe, expect, it } from "vitest";
import type { WorkspaceStatus } from "../../../src/drafting/drafting-service.ts";
import { keyModal, readKey } from "../../../src/slack/home/modals.ts";
import { renderHome } from "../../../src/slack/home/render.ts";
import { ACTIONS, INPUTS, VIEWS } from "../../../src/slack/ids.ts";
import { expectValidView, HOSTILE, textsOf } from "./fixtures.ts";

const status = (overrides: Partial<WorkspaceStatus> = {}): WorkspaceStatus => ({
  connection: "default",
  last4: "9xYz",
  connectedBy: null,
  canConnect: true,
  defaultStep: { campaignId: "c-1", nodeId: "n-1" },
  defaultSource: "deployment",
  ...overrides,
});

const draft = (n: number, overrides: Record<string, unknown> = {}) => ({
  brief: `brief ${n}`,
  channelId: "C0DRAFTS",
  state: "waiting_for_you" as const,
  version: n,
  updatedAt: Date.parse("2026-03-01T10:00:00Z") + n * 60_000,
  link: `https://acme.slack.com/archives/C0DRAFTS/p17000000${n}000000`,
  ...overrides,
});

const home = (overrides: Partial<Parameters<typeof renderHome>[0]> = {}) =>
  renderHome({
    isAdmin: false,
    status: status(),
    defaultStep: { campaignName: "Q1 outreach", stepLabel: "Step 1 · Email" },
    drafts: [],
    ...overrides,
  });

const text = (view: unknown) => textsOf(view).join("\n");
const buttons = (view: ReturnType<typeof renderHome>) =>
  view.blocks.flatMap((b) => (b.type === "actions" ? b.elements : []));

describe("the Home tab", () => {
  it("says how Puffle is connected, showing only a key's last 4 characters", () => {
    expect(text(home({ status: status({ connection: "workspace", connectedBy: "U0ADA" }) }))).toContain(
      "Connected with this workspace's Puffle API key *…9xYz*, by <@U0ADA>.",
    );
    expect(text(home())).toContain("Connected through this app's default Puffle API key *…9xYz*.");
    const none = text(home({ status: status({ connection: "none", last4: null }) }));
    expect(none).toContain("Not connected.");
    expect(none).toContain("until a workspace admin connects Puffle here");
  });

  it("gives admins Connect (or Change key) and a confirmed Disconnect; others see who can change it", () => {
    const viewer = home();
    expect(buttons(viewer)).toEqual([]);
    expect(text(viewer)).toContain(
      "Workspace admins, owners and the person who installed the app can change this.",
    );

    const noKey = buttons(home({ isAdmin: true, status: status({ connection: "none", last4: null }) }));
    expect(noKey.map((b) => [b.action_id, b.text.text])).toEqual([
      [ACTIONS.homeConnect, "Connect Puffle"],
      [ACTIONS.homeChangeDefault, "Change"],
    ]);
    const own = buttons(
      home({ isAdmin: true, status: status({ connection: "workspace", connectedBy: "U0ADA" }) }),
    );
    expect(own.map((b) => [b.action_id, b.text.text])).toEqual([
      [ACTIONS.homeConnect, "Change key"],
      [ACTIONS.homeDisconnect, "Disconnect"],
      [ACTIONS.homeChangeDefault, "Change"],
    ]);
    const disconnect = own.find((b) => b.action_id === ACTIONS.homeDisconnect);
    expect(disconnect?.style).toBe("danger");
    expect(disconnect?.confirm?.confirm.text).toBe("Disconnect");
    expect(text(home({ isAdmin: true, status: status({ canConnect: false }) }))).toContain("ENCRYPTION_KEY");
  });

  it("names the default campaign and step, or says there is none", () => {
    expect(text(home())).toContain("*Q1 outreach* · Step 1 · Email (the app's default)");
    expect(text(home({ status: status({ defaultSource: "workspace" }) }))).toMatch(
      /\*Q1 outreach\* · Step 1 · Email\n/,
    );
    expect(text(home({ defaultStep: undefined }))).toContain("Campaign `c-1`, step `n-1`");
    expect(
      text(home({ status: status({ defaultStep: null, defaultSource: null }), defaultStep: undefined })),
    ).toContain("None yet");
  });

  it("lists at most 10 drafts with channel, state in words, version, time and a link", () => {
    const states = ["drafting", "waiting_for_you", "saved", "failed", "needs_step", "ended"] as const;
    const drafts = Array.from({ length: 12 }, (_, i) =>
      draft(i + 1, { state: states[i % states.length], version: i === 0 ? null : i + 1 }),
    );
    const view = home({ drafts });
    const lines = view.blocks
      .filter((b) => b.type === "section" && b.text.text.includes("|Open thread>"))
      .map((b) => (b.type === "section" ? b.text.text : ""));
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe(
      `brief 1\n<#C0DRAFTS> · :hourglass_flowing_sand: drafting · <!date^${Math.floor(drafts[0]!.updatedAt / 1000)}^{date_short_pretty} at {time}|2026-03-01 10:01 UTC> · <https://acme.slack.com/archives/C0DRAFTS/p17000000${1}000000|Open thread>`,
    );
    expect(lines.map((l) => /· :[a-z_]+: ([a-z ]+) ·/.exec(l)?.[1])).toEqual([
      "drafting",
      "waiting for you",
      "saved",
      "failed",
      "needs a campaign and step",
      "ended",
      "drafting",
      "waiting for you",
      "saved",
      "failed",
    ]);
    expect(lines[1]).toContain(" · v2 · ");
    expect(text(home({ drafts: [draft(1, { channelId: "D0DM" })] }))).toContain(
      "brief 1\na direct message ·",
    );
  });

  it("escapes briefs, puts them on one line and shortens them", () => {
    const view = home({ drafts: [draft(1, { brief: `${HOSTILE}\n\nsecond   line ${"x".repeat(500)}` })] });
    const line = text(view)
      .split("\n")
      .find((l) => l.startsWith("Hi "));
    expect(line).toContain(
      "Hi &lt;!channel&gt; and &lt;@U123&gt;, see &lt;https://evil.example|x&gt; &amp; more second line",
    );
    expect(line?.length).toBeLessThan(200);
    expect(text(view)).not.toContain("<!channel>");
  });

  it("stays within Slack's limits for a Home tab, however long the content", () => {
    const long = "y".repeat(5000);
    const view = home({
      isAdmin: true,
      status: status({ connection: "workspace", connectedBy: "U0ADA", last4: "<&>!" }),
      defaultStep: { campaignName: long, stepLabel: long },
      drafts: Array.from({ length: 10 }, (_, i) =>
        draft(i, { brief: long, channelId: `C${long}`.slice(0, 20) }),
      ),
    });
    expectValidView(view);
    expect(view.type).toBe("home");
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(text(view)).toContain("*…&lt;&amp;&gt;!*");
  });

  it("has a key form with one empty input that is never prefilled, and reads the key from it", () => {
    const modal = keyModal({ teamId: "T0TEAM", last4: "9xYz" });
    expectValidView(modal);
    expect(modal.callback_id).toBe(VIEWS.puffleKey);
    expect(JSON.parse(modal.private_metadata)).toEqual({ teamId: "T0TEAM" });
    const inputs = modal.blocks.filter((b) => b.type === "input");
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toMatchObject({
      block_id: INPUTS.puffleKey.block,
      element: { type: "plain_text_input" },
    });
    expect(JSON.stringify(inputs[0])).not.toContain("initial_value");
    expect(text(modal)).toContain("It replaces the current key *…9xYz*.");

    const values = (value: string | null) => ({
      [INPUTS.puffleKey.block]: { [INPUTS.puffleKey.action]: { value } },
    });
    expect(readKey(values("  pk_live_abc123  "))).toEqual({ ok: true, key: "pk_live_abc123" });
    expect(readKey(values(null))).toEqual({ ok: false, error: "Paste the API key." });
    expect(readKey(values("pk live"))).toMatchObject({ ok: false });
    expect(readKey(values("k".repeat(501)))).toMatchObject({ ok: false });
  });
});
