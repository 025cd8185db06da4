import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { ACTIONS, INPUTS, VIEWS } from "../../src/slack/ids.ts";
import type { StoredView } from "../support/fake-slack.ts";
import {
  ackBody,
  chooseCampaign,
  currentView,
  DANA,
  type E2E,
  humanMention,
  inputsOf,
  opensModal,
  sessionOf,
  startE2E,
  submitModal,
  submitPicker,
  waitForQuestion,
} from "../support/harness.ts";
import type { SlackHttpResponse } from "../support/slack-requests.ts";

const ADMIN = "U0ADMIN";
const OWNER = "U0OWNER";
const KEY = "pk_live_home_admin_key_A1b2";
/** Puffle knows it too, but cannot be reached when it is tried. */
const OTHER_KEY = "pk_live_other_admin_key_Z9z9";
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString("base64");

async function openHome(e2e: E2E, user: string): Promise<StoredView> {
  const before = e2e.slack.callsTo("views.publish").filter((c) => c.args.user_id === user).length;
  const response = await e2e.requester.event({
    type: "app_home_opened",
    user,
    channel: `D0${user.slice(2)}`,
    tab: "home",
    event_ts: (Date.now() / 1000).toFixed(6),
  });
  expect(response.status).toBe(200);
  await e2e.slack.waitFor(
    () => e2e.slack.callsTo("views.publish").filter((c) => c.args.user_id === user).length > before,
  );
  const home = e2e.slack.home(user);
  if (!home) throw new Error(`no Home tab for ${user}`);
  return home;
}

/** A person clicks a button of their Home tab (or one forged with that action id). */
function clickHome(e2e: E2E, user: string, home: StoredView, actionId: string) {
  return e2e.requester.blockAction({
    user,
    view: { id: home.id, type: "home", blocks: home.view.blocks, hash: home.view.hash },
    actions: [{ action_id: actionId }],
  });
}

/** What a modal says once it is no longer "Loading...". */
function settledText(e2e: E2E, id: string): Promise<string> {
  return e2e.slack.waitFor(() => {
    const text = JSON.stringify(currentView(e2e.slack, id)?.view.blocks ?? []);
    return text.includes("Loading") ? undefined : text;
  });
}

/** The key form an admin opens from the Home tab. */
async function keyForm(e2e: E2E, user = ADMIN): Promise<StoredView> {
  const home = await openHome(e2e, user);
  return opensModal(e2e.slack, VIEWS.puffleKey, () => clickHome(e2e, user, home, ACTIONS.homeConnect));
}

/** The answer to a key submission: the immediate one, or the view that replaced "Checking...". */
async function answerOf(e2e: E2E, form: StoredView, response: SlackHttpResponse): Promise<string> {
  const body = JSON.stringify(ackBody(response));
  if (!body.includes("Checking")) return body;
  // The fake applies views.* calls only: it shows the form until the bot updates the modal with the result.
  return e2e.slack.waitFor(() => {
    const text = JSON.stringify(currentView(e2e.slack, form.id)?.view.blocks ?? []);
    return text.includes('"type":"input"') ? undefined : text;
  });
}

const status = (e2e: E2E) => e2e.bot.drafting.workspaceStatus(e2e.slack.teamId);

describe("Puffle connection and workspace default from the App Home", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E({ env: { ENCRYPTION_KEY } });
    e2e.slack.addUser(ADMIN, "Ari Admin", { admin: true });
    e2e.slack.addUser(OWNER, "Olu Owner", { owner: true });
    e2e.emulator.addKey(KEY);
    e2e.emulator.addKey(OTHER_KEY);
  });
  afterAll(() => e2e.close());
  beforeEach(() => {
    e2e.emulator.reset();
  });

  it("an admin connects a key: checked, kept, shown as its last 4; the key is in no payload or log", async () => {
    const form = await keyForm(e2e);
    const input = inputsOf(form)[0];
    expect(input?.block_id).toBe(INPUTS.puffleKey.block);
    expect(input?.element?.initial_value).toBeUndefined();

    const response = await submitModal(e2e, ADMIN, form, { [INPUTS.puffleKey.action]: KEY });
    expect(response.status).toBe(200);
    expect(await answerOf(e2e, form, response)).toContain("Connected.");
    expect(response.body).not.toContain(KEY);
    expect(await status(e2e)).toMatchObject({ connection: "workspace", last4: "A1b2", connectedBy: ADMIN });

    const home = await e2e.slack.waitFor(() =>
      /workspace's Puffle API key \*…A1b2\*, by @Ari Admin/.test(e2e.slack.renderHome(ADMIN))
        ? e2e.slack.renderHome(ADMIN)
        : undefined,
    );
    expect(home).toContain("Change key");
    expect(home).toContain("Disconnect");

    // Drafts now use the workspace's key.
    const root = await humanMention(e2e, { channel: "C0KEYUSE", text: "a draft on the workspace's own key" });
    await waitForQuestion(e2e, "C0KEYUSE", root.ts);
    expect(e2e.emulator.keyStats().keys["…A1b2"]?.requests ?? 0).toBeGreaterThan(0);

    for (const call of e2e.slack.calls) expect(JSON.stringify(call.args)).not.toContain(KEY);
    for (const line of e2e.logs) expect(line).not.toContain(KEY);
  });

  it("a key Puffle refuses, or cannot check, is not kept; the form says why", async () => {
    const before = await status(e2e);
    const form = await keyForm(e2e);
    const refused = await submitModal(e2e, ADMIN, form, {
      [INPUTS.puffleKey.action]: "pk_live_not_a_known_key_9999",
    });
    expect(ackBody(refused)).toEqual({
      response_action: "errors",
      errors: { [INPUTS.puffleKey.block]: expect.stringMatching(/^Puffle did not accept this key/) },
    });
    expect(ackBody(refused).errors).toBeDefined();
    expect(await status(e2e)).toEqual(before);

    e2e.emulator.faults.inject({ route: "campaigns.list", kind: "status", status: 503, times: 50 });
    const unreachable = await submitModal(e2e, ADMIN, form, {
      [INPUTS.puffleKey.action]: OTHER_KEY,
    });
    expect(await answerOf(e2e, form, unreachable)).toContain("Could not reach Puffle; try again");
    expect(await status(e2e)).toEqual(before);

    const blank = await submitModal(e2e, ADMIN, form, { [INPUTS.puffleKey.action]: "   " });
    expect(ackBody(blank)).toEqual({
      response_action: "errors",
      errors: { [INPUTS.puffleKey.block]: "Paste the API key." },
    });
    for (const line of e2e.logs) expect(line).not.toContain("pk_live_not_a_known_key_9999");
  });

  it("a slow check answers Slack in time with Checking..., then shows the result in the same modal", async () => {
    const form = await keyForm(e2e);
    e2e.emulator.faults.inject({ route: "campaigns.list", kind: "delay_response", ms: 2600 });
    const started = Date.now();
    const response = await submitModal(e2e, ADMIN, form, { [INPUTS.puffleKey.action]: OTHER_KEY });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(JSON.stringify(ackBody(response))).toContain("Checking the key with Puffle");
    const result = await answerOf(e2e, form, response);
    expect(result).toContain("Connected.");
    expect(result).toContain("…Z9z9");
    expect(await status(e2e)).toMatchObject({ connection: "workspace", last4: "Z9z9" });
    for (const call of e2e.slack.calls) expect(JSON.stringify(call.args)).not.toContain(OTHER_KEY);
    for (const line of e2e.logs) expect(line).not.toContain(OTHER_KEY);
  });

  it("a non-admin can neither connect nor disconnect, even with a forged form or click", async () => {
    const before = await status(e2e);
    const home = await openHome(e2e, DANA);
    const notice = await opensModal(e2e.slack, "notice", () =>
      clickHome(e2e, DANA, home, ACTIONS.homeConnect),
    );
    expect(await settledText(e2e, notice.id)).toContain(
      "Only workspace admins, owners and the person who installed",
    );

    const form = await keyForm(e2e, OWNER); // an owner may: the form opens for them
    const forged = await submitModal(e2e, DANA, form, {
      [INPUTS.puffleKey.action]: "pk_live_dana_sneaks_in_0000",
    });
    expect(JSON.stringify(ackBody(forged))).toContain("Only workspace admins");
    expect(await status(e2e)).toEqual(before);

    const disconnect = await opensModal(e2e.slack, "notice", () =>
      clickHome(e2e, DANA, home, ACTIONS.homeDisconnect),
    );
    expect(JSON.stringify(disconnect.view.blocks)).toContain("Only workspace admins");
    expect(await status(e2e)).toEqual(before);
  });

  it("an admin disconnects the workspace's key; the app's default key serves it again", async () => {
    expect((await status(e2e)).connection).toBe("workspace");
    const home = await openHome(e2e, ADMIN);
    const response = await clickHome(e2e, ADMIN, home, ACTIONS.homeDisconnect);
    expect(response.status).toBe(200);
    await e2e.slack.waitFor(async () => (await status(e2e)).connection === "default");
    const shown = await e2e.slack.waitFor(() =>
      e2e.slack.renderHome(ADMIN).includes("Connected through this app's default")
        ? e2e.slack.renderHome(ADMIN)
        : undefined,
    );
    expect(shown).toContain("Connect Puffle");
    expect(shown).not.toContain("Disconnect");
  });

  it("the default set from the Home tab is used by the next mention in a channel without its own choice", async () => {
    const target = SEED.activeCampaign;
    // A non-admin's forged submission changes nothing.
    const home = await openHome(e2e, ADMIN);
    const picker = await opensModal(e2e.slack, VIEWS.picker, () =>
      clickHome(e2e, ADMIN, home, ACTIONS.homeChangeDefault),
    );
    expect(picker.view.title).toMatchObject({ text: "Workspace default" });
    expect(inputsOf(picker).map((b) => b.block_id)).not.toContain(INPUTS.remember.block);
    const withSteps = await chooseCampaign(e2e, ADMIN, picker, target.id);
    const forged = await submitPicker(e2e, DANA, withSteps, {
      campaignId: target.id,
      nodeId: target.emailNodeId,
    });
    expect(JSON.stringify(ackBody(forged))).toContain("Only workspace admins");
    expect((await status(e2e)).defaultSource).toBe("deployment");

    const saved = await submitPicker(e2e, ADMIN, withSteps, {
      campaignId: target.id,
      nodeId: target.emailNodeId,
    });
    expect(ackBody(saved)).toEqual({});
    expect(await status(e2e)).toMatchObject({
      defaultStep: { campaignId: target.id, nodeId: target.emailNodeId },
      defaultSource: "workspace",
    });
    await e2e.slack.waitFor(() =>
      e2e.slack.renderHome(ADMIN).includes(`*${target.name}* · Step 1 · Email\n`),
    );

    const root = await humanMention(e2e, { channel: "C0NOCHOICE", text: "follow-up for CFOs" });
    await waitForQuestion(e2e, "C0NOCHOICE", root.ts);
    const session = e2e.emulator.state.sessions.get(await sessionOf(e2e, "C0NOCHOICE", root.ts));
    expect(session?.campaign_id).toBe(target.id);
  });
});
