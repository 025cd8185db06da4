import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import type { Session } from "../../emulator/state.ts";
import { call, createSession, getSession, nextCompletion, SESSIONS } from "./helpers.ts";

let emu: Emulator;

beforeEach(async () => {
  emu = await startEmulator({ taskDelayMs: 50 });
});
afterEach(async () => {
  await emu.close();
});

const UNKNOWN_UUID = "0b5c7f0e-9a4e-4d7b-8f34-2b1e6f3c9a10";

describe("authentication", () => {
  it("answers 401 with a JSON error for a missing, wrong or malformed key, on known and unknown routes", async () => {
    for (const key of [null, "pk_live_wrong", ""]) {
      const response = await call(emu, "GET", "/api/campaigns", undefined, { key });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: expect.any(String) });
    }
    const noScheme = await fetch(`${emu.url}/api/campaigns`, { headers: { authorization: emu.apiKey } });
    expect(noScheme.status).toBe(401);
    expect((await call(emu, "GET", "/api/nothing-here", undefined, { key: null })).status).toBe(401);
  });

  it("accepts a custom key", async () => {
    const custom = await startEmulator({ apiKey: "pk_test_custom" });
    try {
      expect((await call(custom, "GET", "/api/campaigns")).status).toBe(200);
      expect(
        (await call(custom, "GET", "/api/campaigns", undefined, { key: "pk_test_emulator_key" })).status,
      ).toBe(401);
    } finally {
      await custom.close();
    }
  });
});

describe("not found", () => {
  it("answers 404 for unknown or non-UUID session ids, unknown routes and methods", async () => {
    for (const id of [UNKNOWN_UUID, "not-a-uuid", "%E0%A4%A"]) {
      const response = await call(emu, "GET", `${SESSIONS}/${id}`);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ error: expect.any(String) });
    }
    expect((await call(emu, "PATCH", `${SESSIONS}/${UNKNOWN_UUID}`, { title: "x" })).status).toBe(404);
    expect((await call(emu, "DELETE", `${SESSIONS}/${UNKNOWN_UUID}`)).status).toBe(404);
    expect((await call(emu, "POST", `${SESSIONS}/${UNKNOWN_UUID}/turn`, { message: "hi" })).status).toBe(404);
    expect((await call(emu, "GET", "/api/unknown")).status).toBe(404);
    expect((await call(emu, "POST", "/api/campaigns")).status).toBe(404);
    expect((await call(emu, "GET", "/nowhere")).status).toBe(404);
  });

  it("answers 404 on create when the campaign is unknown or the node is not in that campaign", async () => {
    const unknownCampaign = await call(emu, "POST", SESSIONS, {
      campaign_id: UNKNOWN_UUID,
      node_id: SEED.draftCampaign.emailNodeId,
    });
    expect(unknownCampaign.status).toBe(404);
    const foreignNode = await call(emu, "POST", SESSIONS, {
      campaign_id: SEED.draftCampaign.id,
      node_id: SEED.activeCampaign.emailNodeId,
    });
    expect(foreignNode.status).toBe(404);
    const notUuid = await call(emu, "POST", SESSIONS, { campaign_id: "draft", node_id: "email" });
    expect(notUuid.status).toBe(404);
  });
});

describe("validation", () => {
  it("answers 400 with a readable error for bad JSON and missing or mistyped fields", async () => {
    const cases: Array<[string, string, unknown, string?]> = [
      ["POST", SESSIONS, undefined, "{not json"],
      ["POST", SESSIONS, { campaign_id: SEED.draftCampaign.id }],
      ["POST", SESSIONS, undefined, ""],
      ["GET", SESSIONS, undefined],
    ];
    for (const [method, path, body, rawBody] of cases) {
      const response = await call(emu, method, path, body, rawBody === undefined ? {} : { rawBody });
      expect(response.status, `${method} ${path} ${rawBody}`).toBe(400);
      expect(response.body).toEqual({ error: expect.any(String) });
    }
  });

  it("validates /turn bodies", async () => {
    const session = await createSession(emu);
    const turn = `${SESSIONS}/${session.id}/turn`;
    for (const body of [
      {},
      { message: "" },
      { message: "   " },
      { message: 42 },
      { message: "hi", sampleLeads: "Maya" },
      { message: "hi", availableVarNames: [1, 2] },
      { message: "hi", sequenceContext: { position: 0 } },
    ]) {
      const response = await call(emu, "POST", turn, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await getSession(emu, session.id)).task_status).toBeNull();
  });

  it("rejects PATCH keys that are unknown or not writable", async () => {
    const session = await createSession(emu);
    for (const body of [{ task_status: null }, { id: UNKNOWN_UUID }, { colour: "blue" }, { title: 5 }]) {
      const response = await call(emu, "PATCH", `${SESSIONS}/${session.id}`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("session lifecycle", () => {
  it("creates an empty session with 201, every content field null and ISO timestamps", async () => {
    const response = await call<{ session: Session }>(emu, "POST", SESSIONS, {
      campaign_id: SEED.draftCampaign.id,
      node_id: SEED.draftCampaign.emailNodeId,
    });
    expect(response.status).toBe(201);
    const { session } = response.body;
    expect(session).toMatchObject({
      campaign_id: SEED.draftCampaign.id,
      node_id: SEED.draftCampaign.emailNodeId,
      user_id: SEED.userId,
      title: null,
      messages: null,
      draft_subject: null,
      draft_body: null,
      skeleton: null,
      skeleton_history: null,
      draft_history: null,
      framework_version: null,
      generated_examples: null,
      task_status: null,
    });
    expect(session.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(session.created_at).toISOString()).toBe(session.created_at);
    expect(session.updated_at).toBe(session.created_at);
  });

  it("lists the campaign's sessions oldest first; a second create for the same node is a new session", async () => {
    const first = await createSession(emu);
    const second = await createSession(emu);
    const other = await createSession(emu, SEED.activeCampaign.emailNodeId, SEED.activeCampaign.id);
    expect(second.id).not.toBe(first.id);

    const list = await call<{ sessions: Session[] }>(
      emu,
      "GET",
      `${SESSIONS}?campaign_id=${SEED.draftCampaign.id}`,
    );
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s) => s.id)).toEqual([first.id, second.id]);
    const otherList = await call<{ sessions: Session[] }>(
      emu,
      "GET",
      `${SESSIONS}?campaign_id=${SEED.activeCampaign.id}`,
    );
    expect(otherList.body.sessions.map((s) => s.id)).toEqual([other.id]);
    expect((await call(emu, "GET", `${SESSIONS}?campaign_id=${UNKNOWN_UUID}`)).status).toBe(404);
  });

  it("with create_returns_existing, the next create answers the most recent session of that node", async () => {
    const older = await createSession(emu);
    const newer = await createSession(emu);
    emu.faults.inject({ kind: "create_returns_existing" });

    const again = await call<{ session: Session }>(emu, "POST", SESSIONS, {
      campaign_id: SEED.draftCampaign.id,
      node_id: SEED.draftCampaign.emailNodeId,
    });
    expect(again.status).toBe(200);
    expect(again.body.session.id).toBe(newer.id);
    expect(again.body.session.id).not.toBe(older.id);
    expect((await createSession(emu)).id).not.toBe(newer.id);
  });

  it("patches any subset of writable fields, bumps updated_at, and keeps the rest", async () => {
    const session = await createSession(emu);
    const response = await call<{ session: Session }>(emu, "PATCH", `${SESSIONS}/${session.id}`, {
      title: "Intro email",
      draft_subject: "Hello %first_name%",
      draft_body: "Hi %first_name%,\n\nShort note.\n\n%sender_first%",
    });
    expect(response.status).toBe(200);
    expect(response.body.session).toMatchObject({
      id: session.id,
      title: "Intro email",
      draft_subject: "Hello %first_name%",
      skeleton: null,
      messages: null,
    });
    expect(response.body.session.updated_at > session.updated_at).toBe(true);
    expect((await getSession(emu, session.id)).title).toBe("Intro email");
  });

  it("clears generated_examples when PATCH overwrites the skeleton", async () => {
    const session = await createSession(emu);
    await call(emu, "PATCH", `${SESSIONS}/${session.id}`, {
      generated_examples: [{ lead_id: "x", subject: "s", body: "b" }],
    });
    const response = await call<{ session: Session }>(emu, "PATCH", `${SESSIONS}/${session.id}`, {
      skeleton: { hook: "pain", value_prop: "speed" },
    });
    expect(response.body.session.skeleton).toEqual({ hook: "pain", value_prop: "speed" });
    expect(response.body.session.generated_examples).toBeNull();
  });

  it("PATCH does not check task_status, like Puffle", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "never_finish" });
    await call(emu, "POST", `${SESSIONS}/${session.id}/turn`, { message: "hi" });
    const response = await call<{ session: Session }>(emu, "PATCH", `${SESSIONS}/${session.id}`, {
      title: "busy",
    });
    expect(response.status).toBe(200);
    expect(response.body.session.task_status).toBe("chat_processing");
  });

  it("deletes for good; a task running for it finishes into the void", async () => {
    const session = await createSession(emu);
    const done = nextCompletion(emu, session.id);
    await call(emu, "POST", `${SESSIONS}/${session.id}/turn`, { message: "hi" });

    const response = await call(emu, "DELETE", `${SESSIONS}/${session.id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true });
    expect((await call(emu, "GET", `${SESSIONS}/${session.id}`)).status).toBe(404);

    const event = await done;
    expect(event.kind).toBe("turn");
    expect(emu.state.runs.get(event.runId)?.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(emu.state.sessions.has(session.id)).toBe(false);
  });
});

describe("reset and stats", () => {
  it("counts requests per route and GETs per session, and reset() goes back to the seed", async () => {
    const session = await createSession(emu);
    await getSession(emu, session.id);
    await getSession(emu, session.id);
    await call(emu, "GET", "/api/campaigns");
    expect(emu.stats()).toEqual({
      requests: { "sessions.create": 1, "sessions.get": 2, "campaigns.list": 1 },
      getsBySession: { [session.id]: 2 },
    });
    emu.resetStats();
    expect(emu.stats()).toEqual({ requests: {}, getsBySession: {} });

    emu.faults.inject({ kind: "status", status: 500, times: Infinity });
    emu.reset();
    expect(emu.faults.pending()).toEqual([]);
    expect(emu.state.sessions.size).toBe(0);
    expect(emu.state.campaigns.size).toBe(3);
    expect((await call(emu, "GET", `${SESSIONS}/${session.id}`)).status).toBe(404);
  });

  it("emits a request event per answered request", async () => {
    const events: unknown[] = [];
    emu.events.on("request", (event) => events.push(event));
    const session = await createSession(emu);
    await call(emu, "GET", `${SESSIONS}/${session.id}`, undefined, { key: "wrong" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual([
      { method: "POST", route: "sessions.create", path: SESSIONS, status: 201 },
      {
        method: "GET",
        route: "sessions.get",
        path: `${SESSIONS}/${session.id}`,
        sessionId: session.id,
        status: 401,
      },
    ]);
  });
});
