import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEED } from "../../emulator/seed.ts";
import type { Emulator, EmulatorOptions } from "../../emulator/server.ts";
import { type Clock, systemClock } from "../../src/clock.ts";
import { createPuffleAccounts, type PuffleAccounts } from "../../src/drafting/accounts.ts";
import { createDraftingService, type DraftingService } from "../../src/drafting/drafting-service.ts";
import type { TurnOutcome } from "../../src/drafting/outcomes.ts";
import { createDurationModel } from "../../src/drafting/poll-schedule.ts";
import { createTriggerRunSubscriber } from "../../src/drafting/realtime.ts";
import type { DraftStore, ThreadRef } from "../../src/drafting/store.ts";
import type { WorkspaceStore } from "../../src/drafting/workspaces.ts";
import { createSilentLogger, type Logger } from "../../src/logger.ts";
import { createPuffleClient, type PuffleClient } from "../../src/puffle/client.ts";
import type { Store } from "../../src/store/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";
import { eventually, startPuffle } from "./puffle.ts";

export const DRAFT_STEP = { campaignId: SEED.draftCampaign.id, nodeId: SEED.draftCampaign.emailNodeId };

export interface InstanceOptions {
  realtime?: boolean;
  pollIntervalMs?: number;
  turnTimeoutMs?: number;
  leaseTtlMs?: number;
  logger?: Logger;
  /** Puts a store that can fail (as a database out of reach would) between the service and the store. */
  wrapStore?: (store: Store) => Store;
}

/** One bot process's drafting core: its own client, store handle and outcome log. */
export interface DraftingInstance {
  service: DraftingService;
  store: DraftStore;
  puffle: PuffleClient;
  outcomes: TurnOutcome[];
  /** Threads with open work this instance took when it started (a restart resumes them). */
  resumed: number;
  /** Outcomes about one thread, by type. */
  outcomesFor(threadId: number, type?: TurnOutcome["type"]): TurnOutcome[];
  waitFor(
    type: TurnOutcome["type"],
    threadId?: number,
    count?: number,
    timeoutMs?: number,
  ): Promise<TurnOutcome[]>;
  /** Stops the loops and closes the client and store (a process ending). */
  stop(): Promise<void>;
}

export interface DraftingHarness {
  emulator: Emulator;
  dbUrl: string;
  start(options?: InstanceOptions): Promise<DraftingInstance>;
  close(): Promise<void>;
}

let threadCounter = 0;
let instanceCounter = 0;
export function newThreadRef(channelId = "C0DRAFT"): ThreadRef {
  threadCounter++;
  return { teamId: "T0TEAM", channelId, threadTs: `1767000000.${String(threadCounter).padStart(6, "0")}` };
}

/**
 * Puffle accounts as a deployment with PUFFLE_API_KEY = the emulator's key has them (a workspace may
 * still connect a key of its own).
 */
export function emulatorAccounts(
  store: WorkspaceStore,
  emulator: Emulator,
  logger: Logger,
  clock: Clock = systemClock,
): PuffleAccounts {
  return createPuffleAccounts({
    workspaces: store,
    defaultKey: emulator.apiKey,
    clientFor: (apiKey) =>
      createPuffleClient({
        baseUrl: emulator.url,
        apiKey,
        logger,
        clock,
        retry: { baseDelayMs: 10, maxDelayMs: 50 },
        readTimeoutMs: 3000,
        dispatchTimeoutMs: 3000,
      }),
    clock,
    logger,
  });
}

export const dana = { id: "U0DANA", name: "Dana" };
export const lee = { id: "U0LEE", name: "Lee" };

/** An emulator plus a file store that several "processes" can open in turn (restart tests). */
export async function startDraftingHarness(emulatorOptions: EmulatorOptions = {}): Promise<DraftingHarness> {
  const { emulator, client } = await startPuffle({
    taskDelayMs: 150,
    realtimeHoldMs: 400,
    ...emulatorOptions,
  });
  await client.close();
  const dbUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), "drafting-")), "drafter.db")}`;
  const instances: DraftingInstance[] = [];

  return {
    emulator,
    dbUrl,
    async start(options = {}) {
      const logger = options.logger ?? createSilentLogger();
      const store = createSqliteStore({ url: dbUrl });
      const puffle = createPuffleClient({
        baseUrl: emulator.url,
        apiKey: emulator.apiKey,
        logger,
        retry: { baseDelayMs: 10, maxDelayMs: 50 },
        readTimeoutMs: 3000,
        dispatchTimeoutMs: 3000,
      });
      const outcomes: TurnOutcome[] = [];
      instanceCounter++;
      const serviceStore = options.wrapStore ? options.wrapStore(store) : store;
      const service = createDraftingService({
        store: serviceStore,
        accounts: emulatorAccounts(serviceStore, emulator, logger),
        clock: systemClock,
        logger,
        emit: (outcome) => {
          outcomes.push(outcome);
        },
        pollIntervalMs: options.pollIntervalMs ?? 100,
        turnTimeoutMs: options.turnTimeoutMs ?? 10_000,
        subscriber:
          options.realtime === false
            ? undefined
            : createTriggerRunSubscriber({ baseUrl: emulator.url, logger }),
        durations: createDurationModel(),
        replicaId: `instance-${instanceCounter}`,
        leaseTtlMs: options.leaseTtlMs ?? 15_000,
      });
      const resumed = await service.start();
      let stopped = false;
      const instance: DraftingInstance = {
        service,
        store,
        puffle,
        outcomes,
        resumed,
        outcomesFor: (threadId, type) =>
          outcomes.filter((o) => o.thread.id === threadId && (type === undefined || o.type === type)),
        waitFor: (type, threadId, count = 1, timeoutMs = 8000) =>
          eventually(
            () => {
              const matching = outcomes.filter(
                (o) => o.type === type && (threadId === undefined || o.thread.id === threadId),
              );
              return matching.length >= count ? matching : undefined;
            },
            timeoutMs,
            `${count} "${type}" outcome(s)${threadId === undefined ? "" : ` for thread ${threadId}`} (seen: ${outcomes.map((o) => o.type).join(", ")})`,
          ),
        async stop() {
          if (stopped) return;
          stopped = true;
          await service.stop();
          await puffle.close();
          await store.close();
        },
      };
      instances.push(instance);
      return instance;
    },
    async close() {
      for (const instance of instances) await instance.stop();
      await emulator.close();
    },
  };
}
