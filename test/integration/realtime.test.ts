import { TriggerClient } from "@trigger.dev/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import type { Emulator } from "../../emulator/server.ts";
import { createTriggerRunSubscriber, RealtimeBusyError } from "../../src/drafting/realtime.ts";
import { createSilentLogger } from "../../src/logger.ts";
import type { PuffleClient } from "../../src/puffle/client.ts";
import { startPuffle } from "../support/puffle.ts";

let emulator: Emulator;
let client: PuffleClient;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ emulator, client, close } = await startPuffle({ taskDelayMs: 400, realtimeHoldMs: 300 }));
});
afterAll(() => close());
beforeEach(() => emulator.reset());

async function startRun() {
  const session = await client.createSession({
    campaign_id: SEED.draftCampaign.id,
    node_id: SEED.draftCampaign.emailNodeId,
  });
  return { session, run: await client.sendTurn(session.id, { message: "Intro email" }) };
}

describe("Trigger.dev realtime against the emulator's run feed", () => {
  it("the real SDK follows a run from queued to completed", async () => {
    const { run } = await startRun();
    const sdk = new TriggerClient({ baseURL: emulator.url, accessToken: run.publicAccessToken });
    const statuses: string[] = [];
    let last: { isCompleted: boolean; status: string } | undefined;
    for await (const update of sdk.runs.subscribeToRun(run.runId, {
      signal: AbortSignal.timeout(10_000),
      skipColumns: ["payload"],
    })) {
      statuses.push(update.status);
      last = update;
    }
    expect(statuses[0]).toMatch(/QUEUED|PENDING|EXECUTING/);
    expect(statuses).toContain("EXECUTING");
    expect(last?.status).toBe("COMPLETED");
    expect(last?.isCompleted).toBe(true);
  });

  it("our subscriber reports the final state and progress, and the session is idle by then", async () => {
    const { session, run } = await startRun();
    const subscriber = createTriggerRunSubscriber({ baseUrl: emulator.url, logger: createSilentLogger() });
    const seen: string[] = [];
    const final = await subscriber.follow(run, AbortSignal.timeout(10_000), (u) => seen.push(u.status));
    // The emulator writes the reply on a realtime stream: the run lists it.
    expect(final).toEqual({ status: "COMPLETED", finished: true, streams: ["reply"] });
    expect(seen).toContain("EXECUTING");
    expect((await client.getSession(session.id)).task_status).toBeNull();
  });

  it("a 401 on the feed does not hang our code: our deadline ends it", async () => {
    const { run } = await startRun();
    emulator.faults.inject({ kind: "realtime_401", times: Number.POSITIVE_INFINITY });
    const subscriber = createTriggerRunSubscriber({ baseUrl: emulator.url, logger: createSilentLogger() });
    const started = performance.now();
    const outcome = await subscriber.follow(run, AbortSignal.timeout(700)).then(
      () => "resolved",
      () => "rejected",
    );
    const took = performance.now() - started;
    expect(outcome).toBe("rejected");
    expect(took).toBeLessThan(3000);
  });

  it("follows at most maxConcurrent runs at once; past that it refuses at once, so the turn polls", async () => {
    const first = await startRun();
    const second = await startRun();
    const subscriber = createTriggerRunSubscriber({
      baseUrl: emulator.url,
      logger: createSilentLogger(),
      maxConcurrent: 1,
    });
    const following = subscriber.follow(first.run, AbortSignal.timeout(10_000));
    await expect(subscriber.follow(second.run, AbortSignal.timeout(10_000))).rejects.toBeInstanceOf(
      RealtimeBusyError,
    );
    await following;
    // A slot is free again.
    const third = await startRun();
    expect(await subscriber.follow(third.run, AbortSignal.timeout(10_000))).toMatchObject({ finished: true });
  });

  it("a wrong token is refused by the feed", async () => {
    const { run } = await startRun();
    const response = await fetch(`${emulator.url}/realtime/v1/runs/${run.runId}?offset=-1`, {
      headers: { authorization: "Bearer not-the-token" },
    });
    expect(response.status).toBe(401);
  });
});
