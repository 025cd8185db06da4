// The per-key request budget (rateLimitPerMinute): 429 + Retry-After past it, a sliding 60 s window,
// counters for the bench. Only Date is faked, so the real server and sockets keep working.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { call, createSession, SESSIONS } from "./helpers.ts";

const KEY_A = "pk_live_budget_alpha_aaaa";
const KEY_B = "pk_live_budget_bravo_bbbb";
const T0 = new Date("2026-03-02T10:00:00.000Z");

let emu: Emulator;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
  emu = await startEmulator({ taskDelayMs: 100, apiKeys: [KEY_A, KEY_B], rateLimitPerMinute: 3 });
});
afterEach(async () => {
  await emu.close();
  vi.useRealTimers();
});

const at = (seconds: number) => vi.setSystemTime(new Date(T0.getTime() + seconds * 1000));
const campaigns = (key = KEY_A) => call(emu, "GET", "/api/campaigns", undefined, { key });

describe("rateLimitPerMinute", () => {
  it("answers 429 with Retry-After and { error: 'rate limited' } past the limit, per key", async () => {
    for (let i = 0; i < 3; i++) expect((await campaigns()).status).toBe(200);
    const refused = await campaigns();
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: "rate limited" });
    expect(refused.headers.get("retry-after")).toBe("60");
    // Another key has its own budget.
    expect((await campaigns(KEY_B)).status).toBe(200);
    // Every route under /api counts, a session read too.
    expect((await call(emu, "GET", `${SESSIONS}/00000000-0000-4000-8000-000000000000`)).status).toBe(429);
  });

  it("is a sliding window: a slot frees 60 s after the request that used it", async () => {
    await campaigns();
    at(20);
    await campaigns();
    at(40);
    await campaigns();

    at(50);
    const refused = await campaigns();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("10");
    at(60);
    expect((await campaigns()).status).toBe(200);
    const again = await campaigns();
    expect(again.status).toBe(429);
    expect(again.headers.get("retry-after")).toBe("20");
  });

  it("counts requests per key per minute (the most in any 60 s window) and the 429s", async () => {
    for (let i = 0; i < 5; i++) await campaigns();
    at(30);
    await campaigns(KEY_B);
    at(100);
    await campaigns();
    await campaigns();

    expect(emu.keyStats()).toEqual({
      keys: {
        "…aaaa": { requests: 7, maxPerMinute: 5, rateLimited: 2 },
        "…bbbb": { requests: 1, maxPerMinute: 1, rateLimited: 0 },
      },
      rateLimited: 2,
    });
  });

  it("is off by default, and can be set, changed and lifted at run time", async () => {
    const open = await startEmulator({ apiKey: KEY_A });
    try {
      for (let i = 0; i < 20; i++) expect((await call(open, "GET", "/api/campaigns")).status).toBe(200);
      expect(open.keyStats().keys["…aaaa"]).toEqual({ requests: 20, maxPerMinute: 20, rateLimited: 0 });
      expect(open.keyStats().rateLimited).toBe(0);

      const set = await call(open, "POST", "/__admin/config", { rateLimitPerMinute: 21 });
      expect(set.body).toEqual({ settings: expect.objectContaining({ rateLimitPerMinute: 21 }) });
      // The budget counts from when it is set.
      for (let i = 0; i < 21; i++) expect((await call(open, "GET", "/api/campaigns")).status).toBe(200);
      expect((await call(open, "GET", "/api/campaigns")).status).toBe(429);
      open.configure({ rateLimitPerMinute: null });
      expect((await call(open, "GET", "/api/campaigns")).status).toBe(200);
      expect((await call(open, "POST", "/__admin/config", { rateLimitPerMinute: 0 })).status).toBe(400);
    } finally {
      await open.close();
    }
  });

  it("refuses before anything happens; admin, realtime and unauthenticated requests use no budget", async () => {
    const session = await createSession(emu);
    const turn = await call<{ runId: string; publicAccessToken: string }>(
      emu,
      "POST",
      `${SESSIONS}/${session.id}/turn`,
      { message: "hi" },
    );
    await campaigns(); // the third request: the budget is spent
    const refusedTurn = await call(emu, "POST", `${SESSIONS}/${session.id}/turn`, { message: "again" });
    expect(refusedTurn.status).toBe(429);
    expect(emu.state.turnRequests(session.id)).toHaveLength(1);

    const feed = await fetch(`${emu.url}/realtime/v1/runs/${turn.body.runId}?offset=-1`, {
      headers: { authorization: `Bearer ${turn.body.publicAccessToken}` },
    });
    expect(feed.status).toBe(200);
    expect((await call(emu, "GET", "/__admin/state")).status).toBe(200);
    expect((await call(emu, "GET", "/api/campaigns", undefined, { key: null })).status).toBe(401);
    expect(emu.keyStats().keys["…aaaa"]).toEqual({ requests: 4, maxPerMinute: 4, rateLimited: 1 });
  });

  it("reset() gives every key a fresh budget", async () => {
    for (let i = 0; i < 3; i++) await campaigns();
    expect((await campaigns()).status).toBe(429);
    emu.reset();
    expect((await campaigns()).status).toBe(200);
  });
});
