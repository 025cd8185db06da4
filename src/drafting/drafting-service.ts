import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { PuffleAccounts } from "./accounts.ts";
import { createLeaseKeeper } from "./leases.ts";
import type { OutcomeSink } from "./outcomes.ts";
import { createDurationModel, type DurationModel } from "./poll-schedule.ts";
import type { RunSubscriber, StreamReader } from "./realtime.ts";
import { type ServiceContext, sharedHelpers } from "./service/context.ts";
import { createDraftActions, type DraftActions } from "./service/drafts.ts";
import { createIntake, type DraftIntake } from "./service/intake.ts";
import { createStepCatalog, type StepCatalog } from "./service/steps.ts";
import { createWorkspaceAdmin, type WorkspaceAdmin } from "./service/workspaces.ts";
import type { DraftStore } from "./store.ts";
import { createTaskWatcher } from "./task-watcher.ts";
import { type DraftingTelemetry, NO_DRAFTING_TELEMETRY } from "./telemetry.ts";
import { createTurnEngine } from "./turn-engine.ts";
import type { WorkspaceStore } from "./workspaces.ts";

export type { Accepted, Refused } from "./service/context.ts";
export { NoPuffleKeyError } from "./service/context.ts";
export type { StepOption, StepSource } from "./service/steps.ts";
export type { DraftSummary, WorkspaceStatus } from "./service/workspaces.ts";

/**
 * The drafting use cases, with no Slack in them, in four groups: intake (recording messages and clicks
 * as turns), draft actions (read, edit, save), the step catalog (which campaign and step), and
 * workspace administration (Puffle keys, defaults, the Home tab's drafts). Results reach the Slack
 * layer as plain outcomes through `emit`; the turn engine does the work in the background.
 */
export interface DraftingServiceOptions {
  store: DraftStore & WorkspaceStore;
  /** The Puffle account of each workspace (its key, client and campaign cache). */
  accounts: PuffleAccounts;
  clock: Clock;
  logger: Logger;
  emit: OutcomeSink;
  pollIntervalMs: number;
  turnTimeoutMs: number;
  /** Defaults to twice the turn timeout (5 min -> 10 min). */
  examplesTimeoutMs?: number;
  /** Realtime follower; absent when TRIGGER_API_URL=off. */
  subscriber?: RunSubscriber | undefined;
  /** Realtime stream reader (the reply as it is written); absent when TRIGGER_API_URL=off. */
  streams?: StreamReader | undefined;
  /** The deployment's default step (PUFFLE_CAMPAIGN_ID + PUFFLE_NODE_ID). */
  defaultStep?: { campaignId: string; nodeId: string } | undefined;
  durations?: DurationModel;
  /** The benchmark's baseline: a plain fixed poller. */
  pollMode?: "learned" | "fixed";
  /** This process among the replicas sharing the store (leases are held in its name). */
  replicaId: string;
  /** A thread's lease lapses this long after its last renewal (LEASE_TTL_MS). */
  leaseTtlMs: number;
  /** How often to look for threads no replica drives; default min(2 s, a third of the lease). */
  sweepMs?: number;
  /** Counts and durations for the operators' metrics. */
  telemetry?: DraftingTelemetry;
}

export interface DraftingLifecycle {
  /** This replica's name in leases and logs. */
  readonly replicaId: string;
  /** Starts driving: wake-ups, the sweep, and every thread with open work no replica drives. */
  start(): Promise<number>;
  /** Stops every loop and hands this replica's threads over. */
  stop(): Promise<void>;
  /** Resolves when no loop runs here (tests). */
  idle(): Promise<void>;
  busy(): boolean;
  /** Threads this replica drives now. */
  activeThreads(): number;
}

export type DraftingService = DraftIntake & DraftActions & StepCatalog & WorkspaceAdmin & DraftingLifecycle;

export function createDraftingService(options: DraftingServiceOptions): DraftingService {
  const { store, clock } = options;
  const telemetry = options.telemetry ?? NO_DRAFTING_TELEMETRY;
  const watcher = createTaskWatcher({
    clock,
    logger: options.logger.child({ component: "watcher" }),
    pollIntervalMs: options.pollIntervalMs,
    subscriber: options.subscriber,
    streams: options.streams,
    durations: options.durations ?? createDurationModel(),
    pollMode: options.pollMode ?? "learned",
    onCompletion: (detectedBy) => telemetry.taskCompleted(detectedBy),
  });
  const leases = createLeaseKeeper({
    store,
    owner: options.replicaId,
    ttlMs: options.leaseTtlMs,
    clock,
    logger: options.logger.child({ component: "leases" }),
    onTakeover: () => telemetry.leaseTakenOver(),
  });
  const engine = createTurnEngine({
    store,
    accounts: options.accounts,
    watcher,
    clock,
    leases,
    logger: options.logger.child({ component: "engine" }),
    emit: options.emit,
    turnTimeoutMs: options.turnTimeoutMs,
    examplesTimeoutMs: options.examplesTimeoutMs ?? options.turnTimeoutMs * 2,
    sweepMs: options.sweepMs ?? Math.min(2000, Math.max(100, Math.round(options.leaseTtlMs / 3))),
    streaming: Boolean(options.subscriber && options.streams),
    telemetry,
  });
  const ctx: ServiceContext = {
    store,
    accounts: options.accounts,
    clock,
    logger: options.logger.child({ component: "drafting" }),
    leases,
    emit: options.emit,
    engine,
    defaultStep: options.defaultStep,
  };
  const helpers = sharedHelpers(ctx);
  return {
    ...createIntake(ctx, helpers),
    ...createDraftActions(ctx, helpers),
    ...createStepCatalog(ctx, helpers),
    ...createWorkspaceAdmin(ctx),
    replicaId: options.replicaId,
    start: engine.start,
    stop: engine.stop,
    idle: engine.idle,
    busy: engine.busy,
    activeThreads: engine.activeThreads,
  };
}
