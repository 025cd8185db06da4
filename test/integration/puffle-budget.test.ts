import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, type RequestEvent, startEmulator } from "../../emulator/server.ts";
import { systemClock } from "../../src/clock.ts";
import { createLogger } from "../../src/logger.ts";
import { budgetSpacing, createRequestBudget } from "../../src/puffle/budget.ts";
import { createPuffleClient, type PuffleClient } from "../../src/puffle/client.ts";
import { RateLimitedError } from "../../src/puffle/errors.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { freshPostgresDatabase, type TestDatabase } from "../support/postgres.ts";

/**
 * Two replicas' Puffle clients, each with its own budget for the same key, sharing one PostgreSQL
 * store, against the emulator: together they keep the key's spacing, and a 429 seen by one holds both.
 */
let emulator: Emulator;
let database: TestDatabase;
const stores: Store[] = [];
const clients: PuffleClient[] = [];
/** When the emulator answered each request, and with what. */
let seen: { at: number; route: string; status: number }[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ taskDelayMs: 50 });
  emulator.events.on("request", (event: RequestEvent) =>
    seen.push({ at: Date.now(), route: event.route, status: event.status }),
  );
  database = await freshPostgresDatabase();
});
afterAll(async () => {
  for (const client of clients) await client.close();
  for (const store of stores) await store.close();
  await database.drop();
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  seen = [];
});

async function replica(keyId: string, maxRpm: number, lines: string[] = []): Promise<PuffleClient> {
  const store = await openStore(database.url);
  stores.push(store);
  const logger = createLogger({ level: "warn", destination: { write: (line: string) => lines.push(line) } });
  const client = createPuffleClient({
    baseUrl: emulator.url,
    apiKey: emulator.apiKey,
    logger,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    budget: createRequestBudget({ store, keyId, maxRpm, clock: systemClock, logger }),
  });
  clients.push(client);
  return client;
}

describe("the Puffle request budget across replicas", () => {
  it("two replicas on one key keep the key's spacing together", async () => {
    const rpm = 1200;
    const { intervalMs } = budgetSpacing(rpm);
    const a = await replica("shared-spacing", rpm);
    const b = await replica("shared-spacing", rpm);
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).listCampaigns()));
    const times = seen.filter((r) => r.route === "campaigns.list").map((r) => r.at);
    expect(times).toHaveLength(40);
    // A burst of four, then one per interval: 36 intervals between the first and the last (less a little
    // for requests that spent longer on their way), where unbudgeted they would all arrive at once.
    expect((times.at(-1) as number) - (times[0] as number)).toBeGreaterThanOrEqual(36 * intervalMs * 0.95);
  });

  it("a draft under way sends its turn before the sessions of newer drafts are created", async () => {
    const client = await replica("drafts-first", 600);
    const step = { campaign_id: SEED.draftCampaign.id, node_id: SEED.draftCampaign.emailNodeId };
    const first = await client.createSession(step);
    // The idle key's burst is spent, then six new drafts queue their sessions, then the first draft's turn.
    await Promise.all(Array.from({ length: 4 }, () => client.listCampaigns()));
    seen = [];
    const creates = Array.from({ length: 6 }, () => client.createSession(step));
    const turn = client.sendTurn(first.id, { message: "Intro email for VPs of Sales" });
    await Promise.all([...creates, turn]);
    const order = seen.map((r) => r.route).filter((route) => route !== "campaigns.list");
    expect(order.indexOf("sessions.turn")).toBe(0);
    expect(order.filter((route) => route === "sessions.create")).toHaveLength(6);
  });

  it("a 429 seen by one replica pauses the key for both until Retry-After; the call goes through after", async () => {
    const linesOfA: string[] = [];
    const a = await replica("shared-pause", 6000, linesOfA);
    const b = await replica("shared-pause", 6000);
    emulator.faults.inject({ kind: "rate_limit", retryAfterSeconds: 2, route: "campaigns.list", times: 1 });
    const started = Date.now();
    const first = a.listCampaigns();
    // Once replica A has taken in the 429 (and recorded the pause), B asks.
    await expect
      .poll(() => linesOfA.some((line) => line.includes("puffle.rate_limited")), {
        timeout: 2000,
        interval: 5,
      })
      .toBe(true);
    const limitedAt = (seen.find((r) => r.status === 429) as { at: number }).at;
    const second = b.listCampaigns();
    await Promise.all([first, second]);
    const after = seen.filter((r) => r.at > limitedAt && r.route === "campaigns.list");
    expect(after).toHaveLength(2);
    for (const request of after) expect(request.at - limitedAt).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("429s in a row do not use up the call's attempts; each one lowers the rate instead", async () => {
    const a = await replica("storm", 6000);
    emulator.faults.inject({ kind: "rate_limit", retryAfterSeconds: 0, route: "campaigns.list", times: 6 });
    // Without the budget this call gives up after its 4 attempts (see the client tests).
    await expect(a.listCampaigns()).resolves.toBeInstanceOf(Array);
    const answers = seen.filter((r) => r.route === "campaigns.list").map((r) => r.status);
    expect(answers).toEqual([429, 429, 429, 429, 429, 429, 200]);
  });

  it("a Retry-After longer than a call may wait ends the call with a clear rate-limited error", async () => {
    const a = await replica("long-pause", 6000);
    emulator.faults.inject({
      kind: "rate_limit",
      retryAfterSeconds: 3600,
      route: "campaigns.list",
      times: 1,
    });
    await expect(a.listCampaigns()).rejects.toBeInstanceOf(RateLimitedError);
  });
});
