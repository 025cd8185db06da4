import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import type { Session } from "../../emulator/state.ts";
import type { TaskEvent } from "../../emulator/tasks.ts";
import { call, createSession, getSession, nextCompletion, runTurn, SESSIONS } from "./helpers.ts";

let emu: Emulator;

beforeEach(async () => {
  emu = await startEmulator({ taskDelayMs: 80 });
});
afterEach(async () => {
  await emu.close();
});

const turnPath = (id: string) => `${SESSIONS}/${id}/turn`;
const createBody = { campaign_id: SEED.draftCampaign.id, node_id: SEED.draftCampaign.emailNodeId };

function settle(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("status faults", () => {
  it("a 500 on /turn changes nothing, and the retry succeeds", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "status", status: 500, route: "sessions.turn", error: "dispatch failed" });

    const failed = await call(emu, "POST", turnPath(session.id), { message: "hi" });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: "dispatch failed" });
    expect((await getSession(emu, session.id)).task_status).toBeNull();
    expect(emu.state.turnRequests(session.id)).toEqual([]);
    expect(emu.state.runs.size).toBe(0);

    expect((await call(emu, "POST", turnPath(session.id), { message: "hi" })).status).toBe(200);
  });

  it("429 carries Retry-After, with status or rate_limit", async () => {
    emu.faults.inject({ kind: "status", status: 429, retryAfterSeconds: 7 });
    emu.faults.inject({ kind: "rate_limit", retryAfterSeconds: 2 });
    const first = await call(emu, "GET", "/api/campaigns");
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("7");
    const second = await call(emu, "GET", "/api/campaigns");
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("2");
    expect(second.body).toEqual({ error: expect.any(String) });
    expect((await call(emu, "GET", "/api/campaigns")).status).toBe(200);
  });

  it("answers any status with a JSON error (402, 403, 503)", async () => {
    for (const status of [402, 403, 503]) {
      emu.faults.inject({ kind: "status", status });
      const response = await call(emu, "GET", "/api/campaigns");
      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error: expect.any(String) });
    }
  });

  it("counts down `times`, keeps Infinity faults, and matches route and session", async () => {
    const a = await createSession(emu);
    const b = await createSession(emu);
    emu.faults.inject({ kind: "status", status: 503, route: "sessions.get", sessionId: a.id, times: 2 });

    expect((await call(emu, "GET", `${SESSIONS}/${b.id}`)).status).toBe(200);
    expect((await call(emu, "GET", "/api/campaigns")).status).toBe(200);
    expect(emu.faults.pending()).toEqual([expect.objectContaining({ kind: "status", times: 2 })]);
    expect((await call(emu, "GET", `${SESSIONS}/${a.id}`)).status).toBe(503);
    expect(emu.faults.pending()).toEqual([expect.objectContaining({ times: 1 })]);
    expect((await call(emu, "GET", `${SESSIONS}/${a.id}`)).status).toBe(503);
    expect((await call(emu, "GET", `${SESSIONS}/${a.id}`)).status).toBe(200);
    expect(emu.faults.pending()).toEqual([]);

    emu.faults.inject({ kind: "status", status: 503, route: "campaigns.list", times: Infinity });
    for (let i = 0; i < 5; i++) expect((await call(emu, "GET", "/api/campaigns")).status).toBe(503);
    emu.faults.clear();
    expect((await call(emu, "GET", "/api/campaigns")).status).toBe(200);
  });

  it("uses faults in the order they were injected", async () => {
    emu.faults.inject({ kind: "status", status: 502 });
    emu.faults.inject({ kind: "status", status: 503 });
    expect((await call(emu, "GET", "/api/campaigns")).status).toBe(502);
    expect((await call(emu, "GET", "/api/campaigns")).status).toBe(503);
  });
});

describe("dispatch_500", () => {
  it("fails the dispatch after the busy check, releasing the claim", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "dispatch_500" });
    const failed = await call(emu, "POST", turnPath(session.id), { message: "hi" });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: expect.any(String) });
    expect((await getSession(emu, session.id)).task_status).toBeNull();
    expect((await call(emu, "POST", turnPath(session.id), { message: "hi" })).status).toBe(200);
  });

  it("is not used up by a 409 (a busy session never reaches dispatch)", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "never_finish" });
    await call(emu, "POST", turnPath(session.id), { message: "first" });
    emu.faults.inject({ kind: "dispatch_500" });
    expect((await call(emu, "POST", turnPath(session.id), { message: "second" })).status).toBe(409);
    expect(emu.faults.pending()).toEqual([expect.objectContaining({ kind: "dispatch_500" })]);
  });

  it("applies to generate-examples too", async () => {
    const session = await createSession(emu);
    await runTurn(emu, session.id, "brief");
    await runTurn(emu, session.id, "answer");
    emu.faults.inject({ kind: "dispatch_500" });
    const leads = [{ first_name: "A" }, { first_name: "B" }, { first_name: "C" }];
    const path = `${SESSIONS}/${session.id}/generate-examples`;
    expect((await call(emu, "POST", path, { leads, isFirstBatch: true })).status).toBe(500);
    expect((await getSession(emu, session.id)).task_status).toBeNull();
  });
});

describe("broken answers", () => {
  it("malformed_json answers 200 with a body that is not JSON, without processing", async () => {
    emu.faults.inject({ kind: "malformed_json", route: "sessions.create" });
    const response = await call(emu, "POST", SESSIONS, createBody);
    expect(response.status).toBe(200);
    expect(() => JSON.parse(response.text)).toThrow();
    expect(response.text).toContain('"session"');
    expect(emu.state.sessions.size).toBe(0);
  });

  it("malformed_json with afterProcessing: the turn IS dispatched, only the answer is garbage", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "malformed_json", route: "sessions.turn", afterProcessing: true });
    const response = await call(emu, "POST", turnPath(session.id), { message: "hi" });
    expect(response.status).toBe(200);
    expect(() => JSON.parse(response.text)).toThrow();
    expect((await getSession(emu, session.id)).task_status).toBe("chat_processing");
  });

  it("wrong_shape answers 200 with valid JSON that breaks the schema", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "wrong_shape", route: "sessions.get" });
    emu.faults.inject({ kind: "wrong_shape", route: "sessions.turn" });
    expect((await call(emu, "GET", `${SESSIONS}/${session.id}`)).body).toEqual({ session: { id: 42 } });
    const turn = await call(emu, "POST", turnPath(session.id), { message: "hi" });
    expect(turn.status).toBe(200);
    expect(turn.body).toMatchObject({ runId: null });
    expect((await getSession(emu, session.id)).task_status).toBeNull();
  });
});

describe("slow and dropped answers", () => {
  it("delay_response answers late; the request takes effect only then", async () => {
    emu.faults.inject({ kind: "delay_response", ms: 300, route: "sessions.create" });
    const started = performance.now();
    const pending = call(emu, "POST", SESSIONS, createBody);
    await settle(150);
    expect(emu.state.sessions.size).toBe(0);
    const response = await pending;
    expect(response.status).toBe(201);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("delay_response with afterProcessing: the turn runs while the answer is still on its way", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "delay_response", ms: 300, route: "sessions.turn", afterProcessing: true });
    emu.faults.inject({ kind: "slow_task", delayMs: 1000 });
    const started: TaskEvent[] = [];
    emu.events.on("task.started", (event: TaskEvent) => started.push(event));
    const pending = call(emu, "POST", turnPath(session.id), { message: "hi" });
    await settle(150);
    expect(started).toHaveLength(1);
    expect(emu.state.sessions.get(session.id)?.task_status).toBe("chat_processing");
    expect((await pending).status).toBe(200);
  });

  it("drop_connection destroys the socket without answering or processing", async () => {
    emu.faults.inject({ kind: "drop_connection", route: "sessions.create" });
    await expect(call(emu, "POST", SESSIONS, createBody)).rejects.toThrow();
    expect(emu.state.sessions.size).toBe(0);
    expect((await call(emu, "POST", SESSIONS, createBody)).status).toBe(201);
  });

  it("drop_connection with afterProcessing: the turn is dispatched but the client never hears", async () => {
    const session = await createSession(emu);
    const done = nextCompletion(emu, session.id);
    emu.faults.inject({ kind: "drop_connection", route: "sessions.turn", afterProcessing: true });
    await expect(call(emu, "POST", turnPath(session.id), { message: "lost answer" })).rejects.toThrow();
    await done;
    expect((await getSession(emu, session.id)).messages?.[0]?.content).toBe("lost answer");
  });
});

describe("task faults", () => {
  it("slow_task makes the next task on the session take that long", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "slow_task", delayMs: 400, sessionId: session.id });
    const started = performance.now();
    await runTurn(emu, session.id, "hi");
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    const quick = performance.now();
    await runTurn(emu, session.id, "again");
    expect(performance.now() - quick).toBeLessThan(390);
  });

  it("never_finish keeps the session busy until finishTask()", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "never_finish" });
    const response = await call<{ runId: string }>(emu, "POST", turnPath(session.id), { message: "hi" });
    await settle(250);
    expect((await getSession(emu, session.id)).task_status).toBe("chat_processing");
    expect(emu.state.runs.get(response.body.runId)?.status).toBe("EXECUTING");

    const done = nextCompletion(emu, session.id);
    expect(emu.finishTask(session.id)).toBe(true);
    expect((await done).runId).toBe(response.body.runId);
    expect((await getSession(emu, session.id)).task_status).toBeNull();
    expect(emu.finishTask(session.id)).toBe(false);
  });

  it("no_assistant_message appends only the user message; the run still succeeds", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "no_assistant_message", sessionId: session.id });
    const after = await runTurn(emu, session.id, "this turn fails");
    expect(after.messages).toEqual([{ role: "user", content: "this turn fails" }]);
    expect(after.task_status).toBeNull();
    expect([...emu.state.runs.values()][0]?.status).toBe("COMPLETED_SUCCESSFULLY");
  });

  it("scripted_reply makes the next task use exactly the given values (hostile or huge text)", async () => {
    const session = await createSession(emu);
    const hugeBody = "x".repeat(10_000);
    emu.faults.inject({
      kind: "scripted_reply",
      assistant: "<!channel> *look* <https://evil.example|click>",
      draft_subject: "<@U123> hello",
      draft_body: hugeBody,
      skeleton: { hook: "<!here>" },
    });
    const after = await runTurn(emu, session.id, "hi");
    expect(after.messages?.at(-1)).toEqual({
      role: "assistant",
      content: "<!channel> *look* <https://evil.example|click>",
    });
    expect(after.draft_subject).toBe("<@U123> hello");
    expect(after.draft_body).toBe(hugeBody);
    expect(after.skeleton).toEqual({ hook: "<!here>" });
    expect(after.framework_version).toBe(1);

    const next = await runTurn(emu, session.id, "make it shorter");
    expect(next.messages?.at(-1)?.content).not.toContain("<!channel>");
  });

  it("task faults wait for a task on the matching session", async () => {
    const a = await createSession(emu);
    const b = await createSession(emu);
    emu.faults.inject({ kind: "no_assistant_message", sessionId: b.id });
    expect((await runTurn(emu, a.id, "hi")).messages).toHaveLength(2);
    expect((await runTurn(emu, b.id, "hi")).messages).toHaveLength(1);
  });

  it("slow_task and scripted_reply combine on one task", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "slow_task", delayMs: 300 });
    emu.faults.inject({ kind: "scripted_reply", assistant: "slow and scripted" });
    const started = performance.now();
    const after = await runTurn(emu, session.id, "hi");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(after.messages?.at(-1)?.content).toBe("slow and scripted");
  });
});

describe("admin endpoints", () => {
  it("need the API key", async () => {
    expect((await call(emu, "GET", "/__admin/state", undefined, { key: null })).status).toBe(401);
    expect(
      (await call(emu, "POST", "/__admin/faults", { kind: "dispatch_500" }, { key: "nope" })).status,
    ).toBe(401);
  });

  it("inject (times -1 = forever), list and clear faults over HTTP", async () => {
    const injected = await call(emu, "POST", "/__admin/faults", {
      kind: "status",
      status: 503,
      route: "campaigns.list",
      times: -1,
    });
    expect(injected.status).toBe(201);
    expect(injected.body).toEqual({
      pending: [{ kind: "status", status: 503, route: "campaigns.list", times: -1 }],
    });
    expect(emu.faults.pending()[0]?.times).toBe(Infinity);
    expect((await call(emu, "GET", "/api/campaigns")).status).toBe(503);
    expect((await call(emu, "GET", "/api/campaigns")).status).toBe(503);

    const invalid = await call(emu, "POST", "/__admin/faults", { kind: "explode" });
    expect(invalid.status).toBe(400);
    expect((await call(emu, "POST", "/__admin/faults", { kind: "status" })).status).toBe(400);
    expect((await call(emu, "POST", "/__admin/faults", undefined, { rawBody: "{" })).status).toBe(400);

    expect((await call(emu, "DELETE", "/__admin/faults")).body).toEqual({ success: true });
    expect((await call(emu, "GET", "/api/campaigns")).status).toBe(200);
  });

  it("shows state, finishes a task and resets", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "never_finish" });
    await call(emu, "POST", turnPath(session.id), { message: "hi" });

    const state = await call<{
      sessions: Array<Partial<Session>>;
      stats: { requests: Record<string, number> };
    }>(emu, "GET", "/__admin/state");
    expect(state.body.sessions).toEqual([
      expect.objectContaining({ id: session.id, task_status: "chat_processing", message_count: 0 }),
    ]);
    expect(state.body.stats.requests["sessions.turn"]).toBe(1);

    expect((await call(emu, "POST", `/__admin/sessions/${session.id}/finish`)).body).toEqual({
      finished: true,
    });
    expect((await getSession(emu, session.id)).task_status).toBeNull();
    expect((await call(emu, "POST", `/__admin/sessions/${session.id}/finish`)).body).toEqual({
      finished: false,
    });

    expect((await call(emu, "POST", "/__admin/reset")).body).toEqual({ success: true });
    expect(emu.state.sessions.size).toBe(0);
    expect((await call(emu, "GET", "/__admin/nothing")).status).toBe(404);
  });
});
