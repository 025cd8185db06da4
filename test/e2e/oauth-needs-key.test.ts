import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botReplies, type E2E, startE2E, visibleText } from "../support/harness.ts";
import { APP, install, mention, oauthEnv, questionIn, reply, team, threadOf } from "./oauth-helpers.ts";

/**
 * OAuth mode without a deployment-wide Puffle key (SPEC 8): a workspace that has connected no key gets
 * one reply saying who can connect one, its messages are kept, and they go to Puffle once a key is
 * connected. Nothing is lost, nothing is said twice.
 */
const ACME = team("ACME");
const ACME_KEY = "pk_test_acme_workspace_key_0001";

let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E({ env: oauthEnv(), emulator: { apiKeys: [ACME_KEY] } });
  e2e.slack.registerApp({ clientId: APP.clientId, clientSecret: APP.clientSecret });
  expect((await install(e2e, ACME)).status).toBe(200);
});
afterAll(() => e2e.close());

const needsKey = (threadTs: string) =>
  botReplies(e2e.slack, ACME.channel, threadTs).filter((m) =>
    /connect Puffle in the app's Home tab/.test(visibleText(m)),
  );

describe("a workspace with no Puffle key", () => {
  it("is told once who can connect one; its messages are kept and sent once a key is connected", async () => {
    const root = await mention(e2e, ACME, "intro email for heads of RevOps");
    const told = await e2e.slack.waitFor(() => needsKey(root.ts)[0]);
    expect(visibleText(told)).toMatch(/admins and owners, or whoever installed the app/);
    await reply(e2e, ACME, root.ts, "keep it under 100 words");
    await e2e.bot.idle();
    expect(needsKey(root.ts)).toHaveLength(1);
    expect(e2e.emulator.stats().requests["sessions.turn"] ?? 0).toBe(0);
    const thread = await threadOf(e2e, ACME, root.ts);
    expect((await e2e.bot.store.listTurns(thread?.id ?? 0)).map((turn) => turn.state)).toEqual([
      "pending",
      "pending",
    ]);

    const connected = await e2e.bot.drafting.connectPuffleKey({
      teamId: ACME.teamId,
      key: ACME_KEY,
      by: ACME.userId,
    });
    expect(connected.status).toBe("ok");
    await questionIn(e2e, ACME, root.ts);
    const session = (await threadOf(e2e, ACME, root.ts))?.sessionId ?? "";
    const sent = e2e.emulator.state.turnRequests(session).map((turn) => String(turn.message));
    expect(sent.join("\n")).toContain("intro email for heads of RevOps");
    expect(sent.join("\n")).toContain("keep it under 100 words");
    await e2e.bot.idle();
    expect(needsKey(root.ts)).toHaveLength(1);
  });
});
