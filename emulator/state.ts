// In-memory Puffle: campaigns, sessions and Trigger.dev runs, and how a finished task changes a session.
// Everything here is synchronous, which is what makes the /turn claim atomic (no await between check and set).
import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { nextTimestamp } from "./outcomes.ts";
import type { ExamplesRequest, SessionPatch, TurnRequest } from "./requests.ts";
import { type Campaign, createSeedData, type Prospect, type SequenceNode } from "./seed.ts";
import type { RunStream } from "./streams.ts";
import { DEFAULT_OWNER, type Owner } from "./workspaces.ts";

export type TaskStatus = "chat_processing" | "generating_examples";
export type TaskKind = "turn" | "examples";

export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface Session {
  id: string;
  user_id: string;
  campaign_id: string;
  node_id: string;
  title: string | null;
  messages: ChatMessage[] | null;
  draft_subject: string | null;
  draft_body: string | null;
  skeleton: Record<string, unknown> | null;
  skeleton_history: unknown[] | null;
  draft_history: unknown[] | null;
  framework_version: number | null;
  generated_examples: Array<Record<string, unknown>> | null;
  task_status: TaskStatus | null;
  created_at: string;
  updated_at: string;
}

/** Trigger.dev database status names: the realtime feed sends these, not the API names. */
export type RunStatus = "PENDING" | "EXECUTING" | "COMPLETED_SUCCESSFULLY";

export interface Run {
  /** Internal id; `friendlyId` (`run_...`) is what /turn answers as runId. */
  id: string;
  friendlyId: string;
  taskIdentifier: "framework-chat-turn" | "generate-examples";
  kind: TaskKind;
  sessionId: string;
  number: number;
  status: RunStatus;
  payload: unknown;
  output: unknown;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  /** Goes up on every change of the row; the realtime feed derives its offsets from it. */
  revision: number;
  /** Realtime streams by key: a chat turn's reply (see streams.ts); none for examples runs. */
  streams: Map<string, RunStream>;
}

/** The raw accepted body, as the bot sent it (validated, so it has at least the documented shape). */
export type RecordedTurn = TurnRequest & Record<string, unknown>;
export type RecordedExamples = ExamplesRequest & Record<string, unknown>;

export class EmulatorState {
  // Campaigns and prospects are the same seed for every workspace (the API only reads them); sequence
  // nodes can be edited, so each workspace has its own copy with the same ids.
  readonly campaigns = new Map<string, Campaign>();
  /** The default workspace's nodes (see nodesIn for the others). */
  readonly nodes = new Map<string, SequenceNode>();
  readonly prospects = new Map<string, Prospect>();
  readonly sessions = new Map<string, Session>();
  /** Keyed by friendlyId (the runId the API hands out). */
  readonly runs = new Map<string, Run>();
  /** Emits an event named after the runId whenever that run's row changes (wakes held long-polls). */
  readonly runChanges = new EventEmitter().setMaxListeners(0);
  #otherNodes = new Map<string, Map<string, SequenceNode>>();
  /** Session id -> the workspace it belongs to. */
  #owners = new Map<string, string>();
  #turnRequests = new Map<string, RecordedTurn[]>();
  #examplesRequests = new Map<string, RecordedExamples[]>();
  #runNumber = 0;

  constructor() {
    this.reset();
  }

  /** Back to the seed. Held long-polls on the old runs are woken first so they answer instead of hanging. */
  reset(): void {
    const oldRunIds = [...this.runs.keys()];
    this.campaigns.clear();
    this.nodes.clear();
    this.prospects.clear();
    this.#otherNodes.clear();
    this.sessions.clear();
    this.#owners.clear();
    this.runs.clear();
    this.#turnRequests.clear();
    this.#examplesRequests.clear();
    for (const runId of oldRunIds) this.runChanges.emit(runId);

    const seed = createSeedData();
    for (const campaign of seed.campaigns) this.campaigns.set(campaign.id, campaign);
    for (const node of seed.nodes) this.nodes.set(node.id, node);
    for (const prospect of seed.prospects) this.prospects.set(prospect.id, prospect);
  }

  // ---------------------------------------------------------------- campaigns

  /** A workspace's sequence nodes, copied from the seed the first time that workspace looks. */
  nodesIn(workspaceId: string): Map<string, SequenceNode> {
    if (workspaceId === DEFAULT_OWNER.id) return this.nodes;
    let nodes = this.#otherNodes.get(workspaceId);
    if (!nodes) {
      nodes = new Map(createSeedData().nodes.map((node) => [node.id, node]));
      this.#otherNodes.set(workspaceId, nodes);
    }
    return nodes;
  }

  nodesOf(campaignId: string, workspaceId: string = DEFAULT_OWNER.id): SequenceNode[] {
    return [...this.nodesIn(workspaceId).values()]
      .filter((node) => node.campaign_id === campaignId)
      .sort((a, b) => a.position - b.position);
  }

  prospectsOf(campaignId: string): Prospect[] {
    return [...this.prospects.values()].filter((prospect) => prospect.campaign_id === campaignId);
  }

  updateNode(node: SequenceNode, changes: Partial<SequenceNode>): void {
    Object.assign(node, changes, { updated_at: nextTimestamp(node.updated_at) });
  }

  // ---------------------------------------------------------------- sessions

  createSession(campaignId: string, nodeId: string, owner: Owner = DEFAULT_OWNER): Session {
    const now = new Date().toISOString();
    const session: Session = {
      id: randomUUID(),
      user_id: owner.userId,
      campaign_id: campaignId,
      node_id: nodeId,
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
      created_at: now,
      updated_at: now,
    };
    this.sessions.set(session.id, session);
    this.#owners.set(session.id, owner.id);
    return session;
  }

  /** The workspace a session belongs to (undefined once deleted). */
  ownerOf(sessionId: string): string | undefined {
    return this.#owners.get(sessionId);
  }

  /** Oldest first (the map keeps creation order); only that workspace's when one is named. */
  sessionsOf(campaignId: string, workspaceId?: string): Session[] {
    return [...this.sessions.values()].filter(
      (session) =>
        session.campaign_id === campaignId &&
        (workspaceId === undefined || this.#owners.get(session.id) === workspaceId),
    );
  }

  latestSessionFor(campaignId: string, nodeId: string, workspaceId?: string): Session | undefined {
    return this.sessionsOf(campaignId, workspaceId)
      .filter((session) => session.node_id === nodeId)
      .at(-1);
  }

  /** Like Puffle: no task_status check; a new skeleton makes the old examples meaningless. */
  patchSession(session: Session, patch: SessionPatch): void {
    if (patch.skeleton !== undefined) session.generated_examples = null;
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined) Object.assign(session, { [key]: value });
    }
    session.updated_at = nextTimestamp(session.updated_at);
  }

  deleteSession(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.#owners.delete(sessionId);
  }

  /** Check-and-set in one synchronous step: the atomic claim that makes parallel /turn calls get 409. */
  claim(session: Session, status: TaskStatus): boolean {
    if (session.task_status !== null) return false;
    session.task_status = status;
    return true;
  }

  /** Undoes a claim whose dispatch failed: the session is exactly as before the request. */
  releaseClaim(session: Session): void {
    session.task_status = null;
  }

  recordTurnRequest(sessionId: string, body: RecordedTurn): void {
    this.#turnRequests.set(sessionId, [...this.turnRequests(sessionId), body]);
  }

  recordExamplesRequest(sessionId: string, body: RecordedExamples): void {
    this.#examplesRequests.set(sessionId, [...this.examplesRequests(sessionId), body]);
  }

  /** Every accepted /turn body for the session, in order (kept after a delete, for assertions). */
  turnRequests(sessionId: string): RecordedTurn[] {
    return this.#turnRequests.get(sessionId) ?? [];
  }

  examplesRequests(sessionId: string): RecordedExamples[] {
    return this.#examplesRequests.get(sessionId) ?? [];
  }

  // ---------------------------------------------------------------- runs

  createRun(session: Session, kind: TaskKind, request: TurnRequest | ExamplesRequest): Run {
    const id = `cm${randomAlphanumeric(23)}`;
    const now = new Date();
    this.#runNumber += 1;
    const run: Run = {
      id,
      friendlyId: `run_${id}`,
      taskIdentifier: kind === "turn" ? "framework-chat-turn" : "generate-examples",
      kind,
      sessionId: session.id,
      number: this.#runNumber,
      status: "PENDING",
      payload: { sessionId: session.id, ...request },
      output: undefined,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      completedAt: null,
      revision: 1,
      streams: new Map(),
    };
    this.runs.set(run.friendlyId, run);
    return run;
  }

  markRunExecuting(run: Run): void {
    if (run.status !== "PENDING") return;
    run.status = "EXECUTING";
    run.startedAt = new Date();
    this.#touchRun(run);
  }

  /** A task that produced no assistant message still succeeds: Puffle documents no failure shape. */
  completeRun(run: Run): void {
    const now = new Date();
    run.status = "COMPLETED_SUCCESSFULLY";
    run.startedAt ??= now;
    run.completedAt = now;
    run.output = { sessionId: run.sessionId, success: true };
    this.#touchRun(run);
  }

  #touchRun(run: Run): void {
    run.updatedAt = new Date();
    run.revision += 1;
    this.runChanges.emit(run.friendlyId);
  }
}

const ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyz";

function randomAlphanumeric(length: number): string {
  return [...randomBytes(length)].map((byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join("");
}
