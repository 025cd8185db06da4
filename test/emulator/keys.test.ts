// Several API keys, each its own Puffle workspace: sessions and node edits of one key are invisible
// (404) to another; campaigns are the same seed for every key.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import type { Session } from "../../emulator/state.ts";
import { call, createSession, nextCompletion, SESSIONS } from "./helpers.ts";

const KEY_A = "pk_live_workspace_alpha_a1a1";
const KEY_B = "pk_live_workspace_bravo_b2b2";
const draft = SEED.draftCampaign;

let emu: Emulator;

beforeEach(async () => {
  emu = await startEmulator({ taskDelayMs: 150, apiKeys: [KEY_A, KEY_B] });
});
afterEach(async () => {
  await emu.close();
});

async function createAs(key: string): Promise<Session> {
  const response = await call<{ session: Session }>(
    emu,
    "POST",
    SESSIONS,
    { campaign_id: draft.id, node_id: draft.emailNodeId },
    { key },
  );
  expect(response.status).toBe(201);
  return response.body.session;
}

async function turnAs(key: string, sessionId: string, message: string): Promise<Session> {
  const done = nextCompletion(emu, sessionId);
  const response = await call(emu, "POST", `${SESSIONS}/${sessionId}/turn`, { message }, { key });
  expect(response.status).toBe(200);
  await done;
  const after = await call<{ session: Session }>(emu, "GET", `${SESSIONS}/${sessionId}`, undefined, { key });
  return after.body.session;
}

describe("keys", () => {
  it("the first of apiKeys is the default key; apiKey still works alone", async () => {
    expect(emu.apiKey).toBe(KEY_A);
    const single = await startEmulator({ apiKey: "pk_test_only" });
    try {
      expect(single.apiKey).toBe("pk_test_only");
      expect((await call(single, "GET", "/api/campaigns", undefined, { key: KEY_A })).status).toBe(401);
    } finally {
      await single.close();
    }
  });

  it("two keys draft at once, each seeing only its own sessions", async () => {
    const [a, b] = await Promise.all([createAs(KEY_A), createAs(KEY_B)]);
    const [afterA, afterB] = await Promise.all([
      turnAs(KEY_A, a.id, "intro email for VPs of Sales"),
      turnAs(KEY_B, b.id, "follow-up for CFOs at fintechs"),
    ]);
    expect(afterA.messages?.[0]?.content).toBe("intro email for VPs of Sales");
    expect(afterB.messages?.[0]?.content).toBe("follow-up for CFOs at fintechs");
    expect(afterA.user_id).not.toBe(afterB.user_id);

    const listA = await call<{ sessions: Session[] }>(
      emu,
      "GET",
      `${SESSIONS}?campaign_id=${draft.id}`,
      undefined,
      {
        key: KEY_A,
      },
    );
    const listB = await call<{ sessions: Session[] }>(
      emu,
      "GET",
      `${SESSIONS}?campaign_id=${draft.id}`,
      undefined,
      {
        key: KEY_B,
      },
    );
    expect(listA.body.sessions.map((session) => session.id)).toEqual([a.id]);
    expect(listB.body.sessions.map((session) => session.id)).toEqual([b.id]);
  });

  it("another key's session is 404 on every session route, and untouched by them", async () => {
    const a = await createAs(KEY_A);
    const path = `${SESSIONS}/${a.id}`;
    const leads = [{ first_name: "A" }, { first_name: "B" }, { first_name: "C" }];
    const attempts: Array<[string, string, unknown]> = [
      ["GET", path, undefined],
      ["PATCH", path, { title: "stolen" }],
      ["POST", `${path}/turn`, { message: "hi" }],
      ["POST", `${path}/generate-examples`, { leads, isFirstBatch: true }],
      ["DELETE", path, undefined],
    ];
    for (const [method, url, body] of attempts) {
      const response = await call(emu, method, url, body, { key: KEY_B });
      expect(response.status, `${method} ${url}`).toBe(404);
      expect(response.body).toEqual({ error: "Session not found" });
    }
    const mine = await call<{ session: Session }>(emu, "GET", path, undefined, { key: KEY_A });
    expect(mine.body.session).toMatchObject({ title: null, messages: null, task_status: null });
    expect(emu.state.turnRequests(a.id)).toEqual([]);
  });

  it("campaigns are the same for every key; node edits are per key", async () => {
    const campaignsA = await call(emu, "GET", "/api/campaigns", undefined, { key: KEY_A });
    const campaignsB = await call(emu, "GET", "/api/campaigns", undefined, { key: KEY_B });
    expect(campaignsB.body).toEqual(campaignsA.body);

    const nodePath = `/api/campaigns/${draft.id}/sequence/nodes/${draft.emailNodeId}`;
    const edit = await call(emu, "PUT", nodePath, { subject: "Only for bravo" }, { key: KEY_B });
    expect(edit.status).toBe(200);
    const nodeSubject = async (key: string) => {
      const response = await call<{ sequence_nodes: Array<{ id: string; subject?: string }> }>(
        emu,
        "GET",
        `/api/campaigns/${draft.id}`,
        undefined,
        { key },
      );
      return response.body.sequence_nodes.find((node) => node.id === draft.emailNodeId)?.subject;
    };
    expect(await nodeSubject(KEY_B)).toBe("Only for bravo");
    expect(await nodeSubject(KEY_A)).not.toBe("Only for bravo");
    expect(emu.state.nodes.get(draft.emailNodeId)?.subject).not.toBe("Only for bravo");
  });

  it("emu.addKey and POST /__admin/keys open new, empty workspaces at run time", async () => {
    const lateKey = "pk_live_added_later_c3c3";
    expect((await call(emu, "GET", "/api/campaigns", undefined, { key: lateKey })).status).toBe(401);
    expect(emu.addKey(lateKey)).toBe("…c3c3");
    expect((await call(emu, "GET", "/api/campaigns", undefined, { key: lateKey })).status).toBe(200);

    const overHttp = "pk_live_over_http_d4d4";
    const added = await call(emu, "POST", "/__admin/keys", { key: overHttp });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ label: "…d4d4" });
    const session = await createSession(emu);
    const list = await call<{ sessions: Session[] }>(
      emu,
      "GET",
      `${SESSIONS}?campaign_id=${draft.id}`,
      undefined,
      {
        key: overHttp,
      },
    );
    expect(list.body.sessions).toEqual([]);
    expect((await call(emu, "GET", `${SESSIONS}/${session.id}`, undefined, { key: overHttp })).status).toBe(
      404,
    );

    expect((await call(emu, "POST", "/__admin/keys", { key: "has space" })).status).toBe(400);
    expect((await call(emu, "POST", "/__admin/keys", {})).status).toBe(400);
    expect((await call(emu, "POST", "/__admin/keys", { key: "x" }, { key: "not-a-key" })).status).toBe(401);
  });

  it("keys stay accepted after reset(); their sessions are gone", async () => {
    emu.addKey("pk_live_survives_e5e5");
    await createAs(KEY_B);
    emu.reset();
    expect(emu.state.sessions.size).toBe(0);
    expect(
      (await call(emu, "GET", "/api/campaigns", undefined, { key: "pk_live_survives_e5e5" })).status,
    ).toBe(200);
  });
});

describe("per-key stats", () => {
  it("count requests by key label, never showing a whole key", async () => {
    await createAs(KEY_A);
    await call(emu, "GET", "/api/campaigns", undefined, { key: KEY_B });
    await call(emu, "GET", "/api/campaigns", undefined, { key: KEY_B });
    await call(emu, "GET", "/api/campaigns", undefined, { key: "pk_live_unknown" });

    expect(emu.keyStats()).toEqual({
      keys: {
        "…a1a1": { requests: 1, maxPerMinute: 1, rateLimited: 0 },
        "…b2b2": { requests: 2, maxPerMinute: 2, rateLimited: 0 },
      },
      rateLimited: 0,
    });
    const admin = await call(emu, "GET", "/__admin/state");
    expect(admin.body.keys).toEqual([
      { label: "…a1a1", requests: 1, maxPerMinute: 1, rateLimited: 0 },
      { label: "…b2b2", requests: 2, maxPerMinute: 2, rateLimited: 0 },
    ]);
    expect(admin.body.sessions).toEqual([expect.objectContaining({ key: "…a1a1" })]);
    const everything = JSON.stringify([
      admin.body,
      (await call(emu, "GET", "/__admin/keys")).body,
      emu.keyStats(),
    ]);
    expect(everything).not.toContain(KEY_A);
    expect(everything).not.toContain(KEY_B);

    emu.resetStats();
    expect(emu.keyStats()).toEqual({ keys: {}, rateLimited: 0 });
  });

  it("two keys ending alike get distinct labels", async () => {
    expect(emu.addKey("pk_other_a1a1")).toBe("…a1a1#2");
  });
});
