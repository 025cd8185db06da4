// GET / lists what the emulator serves, without auth.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { call } from "./helpers.ts";

let emu: Emulator;

beforeEach(async () => {
  emu = await startEmulator({ taskDelayMs: 100 });
});
afterEach(async () => {
  await emu.close();
});

interface Listed {
  method: string;
  path: string;
  description: string;
}

describe("GET /", () => {
  it("lists the API, realtime and admin routes with a description each, with no key", async () => {
    const response = await call<{ name: string; routes: Record<string, Listed[]> }>(
      emu,
      "GET",
      "/",
      undefined,
      {
        key: null,
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const { routes } = response.body;
    const all = Object.values(routes).flat();
    for (const route of all) expect(route.description.length).toBeGreaterThan(10);

    const paths = (group: string) => (routes[group] ?? []).map((route) => `${route.method} ${route.path}`);
    expect(paths("api")).toEqual(
      expect.arrayContaining([
        "POST /api/campaigns/ai-chat-sessions",
        "GET /api/campaigns/ai-chat-sessions/:sessionId",
        "POST /api/campaigns/ai-chat-sessions/:sessionId/turn",
        "PUT /api/campaigns/:campaignId/sequence/nodes/:nodeId",
      ]),
    );
    expect(paths("api")).toHaveLength(11);
    expect(paths("realtime")).toEqual([
      "GET /realtime/v1/runs/:runId",
      "GET /realtime/v1/streams/:runId/:streamKey",
    ]);
    expect(paths("admin")).toEqual(
      expect.arrayContaining(["POST /__admin/faults", "POST /__admin/keys", "POST /__admin/config"]),
    );
    expect(response.text).not.toContain(emu.apiKey);
  });

  it("every admin route it lists exists", async () => {
    const listed = await call<{ routes: { admin: Listed[] } }>(emu, "GET", "/");
    for (const { method, path } of listed.body.routes.admin) {
      if (method !== "GET") continue;
      expect((await call(emu, method, path.replace("{id}", "x"))).status, path).toBe(200);
    }
  });

  it("?format=text is the same list as plain text; / is not counted as Puffle traffic", async () => {
    const events: unknown[] = [];
    emu.events.on("request", (event) => events.push(event));
    const response = await call(emu, "GET", "/?format=text", undefined, { key: null });
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^ {2}POST {3}\/api\/campaigns\/ai-chat-sessions\/:sessionId\/turn /m);
    expect(response.text).toContain("/realtime/v1/streams/:runId/:streamKey");
    expect(response.text).toContain("/__admin/keys");
    expect(emu.stats().requests).toEqual({});
    expect(events).toEqual([]);
  });
});
