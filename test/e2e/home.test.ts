import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { ACTIONS, INPUTS, VIEWS } from "../../src/slack/ids.ts";
import type { StoredMessage, StoredView } from "../support/fake-slack.ts";
import {
  ackBody,
  botReplies,
  currentView,
  DANA,
  draftCards,
  type E2E,
  humanMention,
  humanMessage,
  LEE,
  opensModal,
  startE2E,
  threadSettled,
  waitForQuestion,
} from "../support/harness.ts";

/** The fake's workspace URL (auth.test `url`): thread links start with it. */
const WORKSPACE_URL = "https://fake.slack.test/";

/** A person opens one of the app's tabs: Slack sends app_home_opened. */
async function openTab(e2e: E2E, user: string, tab: "home" | "messages" = "home") {
  const response = await e2e.requester.event({
    type: "app_home_opened",
    user,
    channel: `D0${user.slice(2)}`,
    tab,
    event_ts: (Date.now() / 1000).toFixed(6),
  });
  expect(response.status).toBe(200);
}

const publishesFor = (e2e: E2E, user: string) =>
  e2e.slack.callsTo("views.publish").filter((call) => call.args.user_id === user);

/** Opens the Home tab and waits for the publish it causes. */
async function homeAfterOpening(e2e: E2E, user: string): Promise<string> {
  const before = publishesFor(e2e, user).length;
  await openTab(e2e, user);
  await e2e.slack.waitFor(() => publishesFor(e2e, user).length > before, {
    message: `a Home tab for ${user}`,
  });
  return e2e.slack.renderHome(user);
}

/** The mrkdwn of every section of a Home tab, in order. */
function sections(view: StoredView | undefined): string[] {
  const blocks = (view?.view.blocks ?? []) as { type: string; text?: { text: string } }[];
  return blocks.filter((b) => b.type === "section").map((b) => b.text?.text ?? "");
}

/** The sections listing drafts: they carry an "Open thread" link. */
const draftSections = (view: StoredView | undefined) =>
  sections(view).filter((s) => s.includes("|Open thread>"));

/** Every button of a Home tab. */
function homeButtons(view: StoredView | undefined): { action_id: string }[] {
  const blocks = (view?.view.blocks ?? []) as {
    type: string;
    elements?: { type: string; action_id: string }[];
  }[];
  return blocks
    .filter((b) => b.type === "actions")
    .flatMap((b) => (b.elements ?? []).filter((e) => e.type === "button"));
}

const NEVER_OPENED = "U0NOHOME";

const linkOf = (section: string) => /<(https:[^|>]+)\|Open thread>/.exec(section)?.[1];

describe("the App Home tab", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(() => e2e.close());
  beforeEach(() => {
    e2e.emulator.reset();
  });

  it("is published when a person opens it: connection, default step, help; nothing for the Messages tab", async () => {
    await openTab(e2e, DANA, "messages");
    const home = await homeAfterOpening(e2e, DANA);
    expect(publishesFor(e2e, DANA)).toHaveLength(1);
    expect(home).toContain("Puffle connection");
    expect(home).toContain(
      `Connected through this app's default Puffle API key *…${e2e.emulator.apiKey.slice(-4)}*`,
    );
    expect(home).toContain("Default campaign and step");
    expect(home).toContain(SEED.draftCampaign.name);
    expect(home).toContain("Step 1 · Email");
    expect(home).toContain("(the app's default)");
    expect(home).toContain("Your recent drafts");
    expect(home).toContain("You have not started a draft yet");
    expect(home).toMatch(
      /Start a draft[\s\S]*@Puffle Drafter[\s\S]*\/draft[\s\S]*Draft from this message[\s\S]*direct message/,
    );
    // Dana is no admin: she sees who can change the connection, and no buttons.
    expect(home).toContain("Workspace admins, owners and the person who installed the app can change this.");
    expect(homeButtons(e2e.slack.home(DANA))).toEqual([]);
    expect(await e2e.bot.store.hasOpenedHome(e2e.slack.teamId, DANA)).toBe(true);
    // The key itself is never shown: only its last 4 characters.
    expect(JSON.stringify(e2e.slack.home(DANA)?.view)).not.toContain(e2e.emulator.apiKey);
  });

  it("lists the viewer's 10 most recent drafts, newest first, with their state and a link to the thread", async () => {
    const channel = "C0HOMELIST";
    const roots: StoredMessage[] = [];
    for (let n = 1; n <= 11; n += 1) {
      roots.push(
        await humanMention(e2e, {
          channel,
          user: LEE,
          text: `draft number ${n} &lt;b&gt;&amp; friends&lt;/b&gt;`,
        }),
      );
    }
    const other = await humanMention(e2e, { channel, user: DANA, text: "Dana's own draft" });
    for (const root of [...roots, other]) {
      await waitForQuestion(e2e, channel, root.ts);
      await threadSettled(e2e, channel, root.ts);
    }

    await homeAfterOpening(e2e, LEE);
    const listed = draftSections(e2e.slack.home(LEE));
    expect(listed).toHaveLength(10);
    // Newest first: drafts 11 down to 2; Dana's draft is hers, not Lee's.
    listed.forEach((section, index) => {
      expect(section).toContain(`draft number ${11 - index} `);
      // The brief is escaped: it cannot render markup or links of its own.
      expect(section).toContain("&lt;b&gt;&amp; friends&lt;/b&gt;");
      expect(section).toContain(`<#${channel}>`);
      expect(section).toContain("waiting for you");
    });
    expect(JSON.stringify(e2e.slack.home(LEE)?.view)).not.toContain("Dana's own draft");
    // Each link is the workspace URL + the thread's root message, and that message is the draft's root.
    listed.forEach((section, index) => {
      const root = roots[10 - index];
      const link = linkOf(section);
      expect(link).toBe(`${WORKSPACE_URL}archives/${channel}/p${root?.ts.replace(".", "")}`);
      const [, linkChannel = "", digits = ""] = /archives\/([^/]+)\/p(\d+)$/.exec(link ?? "") ?? [];
      const ts = `${digits.slice(0, -6)}.${digits.slice(-6)}`;
      expect(e2e.slack.message(linkChannel, ts)?.text).toContain(`draft number ${11 - index} `);
    });
    // The workspace's URL was asked once, not once per draft.
    expect(e2e.slack.callsTo("auth.test").length).toBeLessThanOrEqual(2);
  });

  it("is published again when one of the viewer's drafts changes, with the new state and version", async () => {
    const channel = "C0HOMEREFRESH";
    const root = await humanMention(e2e, {
      channel,
      user: LEE,
      text: "renewal nudge for churn-risk accounts",
    });
    await waitForQuestion(e2e, channel, root.ts);
    await threadSettled(e2e, channel, root.ts);
    await homeAfterOpening(e2e, LEE);
    const mine = () => draftSections(e2e.slack.home(LEE)).find((s) => s.includes("renewal nudge"));
    expect(mine()).toContain("waiting for you");
    expect(mine()).not.toMatch(/· v\d/);

    // Someone who never opened the Home tab: their drafts changing publishes nothing for them.
    const other = await humanMention(e2e, {
      channel,
      user: NEVER_OPENED,
      text: "an email drafted elsewhere",
    });
    await waitForQuestion(e2e, channel, other.ts);

    const before = publishesFor(e2e, LEE).length;
    await humanMessage(e2e, {
      channel,
      threadTs: root.ts,
      user: LEE,
      text: "Mid-market SaaS, ask for 15 minutes",
    });
    await e2e.slack.waitFor(() => draftCards(e2e.slack, channel, root.ts)[0]);
    await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, channel, root.ts).find((m) => /first framework/i.test(m.text)),
    );
    await threadSettled(e2e, channel, root.ts);
    const refreshed = await e2e.slack.waitFor(() => (/· v1 ·/.test(mine() ?? "") ? mine() : undefined), {
      message: "Lee's Home tab showing v1",
      timeoutMs: 8000,
    });
    expect(refreshed).toContain("waiting for you");
    expect(publishesFor(e2e, LEE).length).toBeGreaterThan(before);
    expect(publishesFor(e2e, NEVER_OPENED)).toHaveLength(0);
    expect(e2e.logs.filter((line) => /home\.(publish_failed|viewer_lookup_failed)/.test(line))).toEqual([]);
    // Coalesced: one turn (started, then finished) is a publish or two, not one per change.
    await e2e.bot.idle();
    expect(publishesFor(e2e, LEE).length - before).toBeLessThanOrEqual(2);
  });

  it("shows the admins' buttons to an admin only", async () => {
    e2e.slack.addUser("U0ADMIN", "Ari Admin", { admin: true });
    const home = await homeAfterOpening(e2e, "U0ADMIN");
    const actionIds = homeButtons(e2e.slack.home("U0ADMIN")).map((b) => b.action_id);
    expect(actionIds).toEqual([ACTIONS.homeConnect, ACTIONS.homeChangeDefault]);
    expect(home).toContain("Connect Puffle");
    expect(home).not.toContain("Workspace admins, owners");
  });

  it("without ENCRYPTION_KEY, tells an admin that keys cannot be connected here, and keeps none", async () => {
    const admin = "U0ADMIN2";
    e2e.slack.addUser(admin, "Ade Admin", { owner: true });
    expect(await homeAfterOpening(e2e, admin)).toContain("once whoever runs the app sets ENCRYPTION_KEY");
    const home = e2e.slack.home(admin);
    if (!home) throw new Error("no Home tab");
    const notice = await opensModal(e2e.slack, "notice", () =>
      e2e.requester.blockAction({
        user: admin,
        view: { id: home.id, type: "home", blocks: home.view.blocks },
        actions: [{ action_id: ACTIONS.homeConnect }],
      }),
    );
    const said = await e2e.slack.waitFor(() => {
      const text = JSON.stringify(currentView(e2e.slack, notice.id)?.view.blocks);
      return text.includes("Loading") ? undefined : text;
    });
    expect(said).toContain("whoever runs Puffle Drafter must set ENCRYPTION_KEY");

    // A key form submitted anyway (an old form, or a forged one) is answered the same way.
    const submitted = await e2e.requester.viewSubmission({
      user: admin,
      view: {
        callback_id: VIEWS.puffleKey,
        private_metadata: JSON.stringify({ teamId: e2e.slack.teamId }),
        state: {
          values: { [INPUTS.puffleKey.block]: { [INPUTS.puffleKey.action]: { value: "pk_live_x_1234" } } },
        },
      },
    });
    expect(JSON.stringify(ackBody(submitted))).toContain("ENCRYPTION_KEY");
    expect((await e2e.bot.drafting.workspaceStatus(e2e.slack.teamId)).connection).toBe("default");
  });
});
