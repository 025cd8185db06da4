import { TriggerClient } from "@trigger.dev/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, type RequestEvent, startEmulator } from "../../emulator/server.ts";
import { call, createSession, nextCompletion, SESSIONS } from "./helpers.ts";

let emu: Emulator;

beforeEach(async () => {
  emu = await startEmulator({ taskDelayMs: 300, realtimeHoldMs: 300, executingAfterMs: 50 });
});
afterEach(async () => {
  await emu.close();
});

interface Dispatched {
  runId: string;
  publicAccessToken: string;
}

async function dispatchTurn(sessionId: string): Promise<Dispatched> {
  const response = await call<Dispatched>(emu, "POST", `${SESSIONS}/${sessionId}/turn`, {
    message: "intro email for VPs of Sales",
  });
  expect(response.status).toBe(200);
  return response.body;
}

async function followWithSdk(runId: string, accessToken: string) {
  const client = new TriggerClient({ baseURL: emu.url, accessToken });
  const runs: Array<{ status: string; isCompleted: boolean; finishedAt?: Date; output?: unknown }> = [];
  for await (const run of client.runs.subscribeToRun(runId, {
    signal: AbortSignal.timeout(10_000),
    skipColumns: ["payload"],
  })) {
    runs.push(run);
  }
  return runs;
}

function feed(runId: string, query: string, token: string | null) {
  return fetch(`${emu.url}/realtime/v1/runs/${runId}?${query}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
}

describe("the run feed followed by the real @trigger.dev/sdk", () => {
  it("sees the run queued or executing, then completed, and the session is already idle by then", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);

    const runs = await followWithSdk(runId, publicAccessToken);

    const statuses = runs.map((run) => run.status);
    expect(statuses.some((status) => status === "QUEUED" || status === "EXECUTING")).toBe(true);
    const last = runs.at(-1);
    expect(last?.status).toBe("COMPLETED");
    expect(last?.isCompleted).toBe(true);
    expect(last?.finishedAt).toBeInstanceOf(Date);
    expect(last?.output).toEqual({ sessionId: session.id, success: true });
    expect(emu.state.sessions.get(session.id)?.task_status).toBeNull();
  });

  it("keeps following across several empty long-poll holds until a slow task finishes", async () => {
    const session = await createSession(emu);
    emu.faults.inject({ kind: "slow_task", delayMs: 1200 });
    const feedRequests: RequestEvent[] = [];
    emu.events.on("request", (event: RequestEvent) => {
      if (event.route === "realtime.run") feedRequests.push(event);
    });
    const { runId, publicAccessToken } = await dispatchTurn(session.id);

    const runs = await followWithSdk(runId, publicAccessToken);

    expect(runs.at(-1)?.status).toBe("COMPLETED");
    // snapshot + at least a couple of held live polls that ended with no change
    expect(feedRequests.length).toBeGreaterThanOrEqual(4);
    expect(feedRequests.every((event) => event.status === 200 && event.sessionId === session.id)).toBe(true);
  });

  it("completes the run of a session deleted while its task ran", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);
    await call(emu, "DELETE", `${SESSIONS}/${session.id}`);

    const runs = await followWithSdk(runId, publicAccessToken);

    expect(runs.at(-1)?.status).toBe("COMPLETED");
    expect(emu.state.sessions.has(session.id)).toBe(false);
  });
});

describe("the wire protocol, read with plain fetch", () => {
  it("answers a snapshot with the run row, Electric headers, and an up-to-date control message last", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);

    const response = await feed(runId, "log=full&offset=-1&skipColumns=payload", publicAccessToken);

    expect(response.status).toBe(200);
    expect(response.headers.get("electric-handle")).toBeTruthy();
    expect(response.headers.get("electric-offset")).toMatch(/^\d+_0$/);
    expect(response.headers.get("electric-schema")).toBe("{}");
    const body = (await response.json()) as Array<{
      key?: string;
      value?: Record<string, unknown>;
      headers: object;
    }>;
    expect(body.at(-1)).toEqual({ headers: { control: "up-to-date" } });
    const row = body[0]?.value ?? {};
    expect(body[0]?.headers).toEqual({ operation: "insert" });
    expect(row).toMatchObject({
      friendlyId: runId,
      taskIdentifier: "framework-chat-turn",
      status: "PENDING",
      isTest: false,
      metadataType: "application/json",
    });
    expect(row.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    expect(row).not.toHaveProperty("payload");
  });

  it("answers a live request at once when the row changed since the offset, else holds and repeats the offset", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);
    const snapshot = await feed(runId, "offset=-1", publicAccessToken);
    const handle = snapshot.headers.get("electric-handle") ?? "";
    const offset = snapshot.headers.get("electric-offset") ?? "";
    await snapshot.arrayBuffer();
    const done = nextCompletion(emu, session.id);
    await done;

    const changed = await feed(
      runId,
      `handle=${handle}&live=true&offset=${offset}&cursor=x`,
      publicAccessToken,
    );
    const changedBody = (await changed.json()) as Array<{ value?: { status: string }; headers: object }>;
    expect(changedBody[0]?.headers).toEqual({ operation: "update" });
    expect(changedBody[0]?.value?.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(changed.headers.get("electric-cursor")).toBeTruthy();
    const latest = changed.headers.get("electric-offset") ?? "";
    expect(Number.parseInt(latest, 10)).toBeGreaterThan(Number.parseInt(offset, 10));

    const started = performance.now();
    const idle = await feed(runId, `handle=${handle}&live=true&offset=${latest}&cursor=x`, publicAccessToken);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(await idle.json()).toEqual([{ headers: { control: "up-to-date" } }]);
    expect(idle.headers.get("electric-offset")).toBe(latest);
  });

  it("hands out a Trigger.dev-style public JWT scoped to the run", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);
    const parts = publicAccessToken.split(".");
    expect(parts).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8"));
    expect(claims.scopes).toEqual([`read:runs:${runId}`]);
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
    expect(typeof claims.sub).toBe("string");
  });

  it("answers 401 for a wrong, missing, tampered or other-run token, and for an unknown run", async () => {
    const first = await createSession(emu);
    const second = await createSession(emu, SEED.draftCampaign.aiNodeId);
    const a = await dispatchTurn(first.id);
    const b = await dispatchTurn(second.id);
    const [header, payload] = a.publicAccessToken.split(".");
    const tampered = `${header}.${payload}.${"A".repeat(43)}`;

    for (const [runId, token] of [
      [a.runId, "not-a-token"],
      [a.runId, null],
      [a.runId, tampered],
      [a.runId, b.publicAccessToken],
      ["run_doesnotexist", a.publicAccessToken],
      [a.runId, emu.apiKey],
    ] as const) {
      const response = await feed(runId, "offset=-1", token);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: expect.any(String) });
    }
  });

  it("has no streams: 404 with a valid token, 401 without", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);
    const url = `${emu.url}/realtime/v1/streams/${runId}/chat`;
    expect((await fetch(url, { headers: { authorization: `Bearer ${publicAccessToken}` } })).status).toBe(
      404,
    );
    expect((await fetch(url)).status).toBe(401);
  });
});

describe("realtime faults", () => {
  it("realtime_401 and realtime_500 answer the next feed request with that status, then the feed recovers", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);
    emu.faults.inject({ kind: "realtime_401" });
    emu.faults.inject({ kind: "realtime_500" });

    expect((await feed(runId, "offset=-1", publicAccessToken)).status).toBe(401);
    expect((await feed(runId, "offset=-1", publicAccessToken)).status).toBe(500);
    expect((await feed(runId, "offset=-1", publicAccessToken)).status).toBe(200);
  });

  it("a fault that names no route never lands on the feed (it is meant for the Puffle API)", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);
    emu.faults.inject({ kind: "status", status: 503 });

    expect((await feed(runId, "offset=-1", publicAccessToken)).status).toBe(200);
    expect((await call(emu, "GET", `${SESSIONS}/${session.id}`)).status).toBe(503);
  });

  it("realtime_hang never answers, and close() still returns promptly", async () => {
    const session = await createSession(emu);
    const { runId, publicAccessToken } = await dispatchTurn(session.id);
    emu.faults.inject({ kind: "realtime_hang" });
    const hung = feed(runId, "offset=-1", publicAccessToken).then(
      (response) => response.status,
      () => "failed",
    );
    const outcome = await Promise.race([
      hung,
      new Promise((resolve) => setTimeout(() => resolve("pending"), 400)),
    ]);
    expect(outcome).toBe("pending");

    const started = performance.now();
    await emu.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await hung).toBe("failed");
  });
});

describe("closing", () => {
  it("close() with a held long-poll open returns promptly", async () => {
    const patient = await startEmulator({ taskDelayMs: 60_000, realtimeHoldMs: 20_000 });
    try {
      const session = await createSession(patient);
      const dispatched = await call<Dispatched>(patient, "POST", `${SESSIONS}/${session.id}/turn`, {
        message: "hello",
      });
      const { runId, publicAccessToken } = dispatched.body;
      const headers = { authorization: `Bearer ${publicAccessToken}` };
      const snapshot = await fetch(`${patient.url}/realtime/v1/runs/${runId}?offset=-1`, { headers });
      const offset = snapshot.headers.get("electric-offset");
      await snapshot.arrayBuffer();
      // wait past PENDING -> EXECUTING so the live request below is really held
      await new Promise((resolve) => setTimeout(resolve, 100));
      const executing = await fetch(`${patient.url}/realtime/v1/runs/${runId}?offset=${offset}&live=true`, {
        headers,
      });
      const heldOffset = executing.headers.get("electric-offset");
      await executing.arrayBuffer();
      const held = fetch(`${patient.url}/realtime/v1/runs/${runId}?offset=${heldOffset}&live=true`, {
        headers,
      }).then(
        (response) => response.status,
        () => "failed",
      );
      await new Promise((resolve) => setTimeout(resolve, 100));

      const started = performance.now();
      await patient.close();
      expect(performance.now() - started).toBeLessThan(1000);
      expect(["failed", 200]).toContain(await held);
    } finally {
      await patient.close();
    }
  });
});
