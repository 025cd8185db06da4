// The fake Trigger.dev tasks: a dispatched turn or examples run goes PENDING -> EXECUTING -> completed,
// and the session changes in the same synchronous step as task_status is cleared and the run completes.
import type { EventEmitter } from "node:events";
import type { ExamplesRequest, TurnRequest } from "./requests.ts";
import type { RunTokens } from "./run-tokens.ts";
import type { ContentFault, FaultControl, TaskRoute } from "./scenarios.ts";
import type { EmulatorState, Run, Session, TaskKind } from "./state.ts";

export interface TaskTiming {
  taskDelayMs: number;
  /** Each chat turn takes taskDelayMs plus a uniform random extra in [0, taskJitterMs): real turns vary. */
  taskJitterMs: number;
  /** [0, 1) source for the jitter; seeded so a benchmark run can be repeated. */
  random: () => number;
  examplesDelayMs: number;
  /** Added to examplesDelayMs per lead: Puffle's examples take longer with more leads. */
  examplesPerLeadMs: number;
  executingAfterMs: number;
}

/** Payload of the "task.started" and "task.completed" events. */
export interface TaskEvent {
  sessionId: string;
  runId: string;
  kind: TaskKind;
  /** performance.now(); for "task.completed", the moment task_status was cleared. */
  at: number;
}

export interface DispatchedRun {
  runId: string;
  publicAccessToken: string;
}

export interface TaskRunner {
  /** The caller has already claimed the session. */
  dispatch(session: Session, work: TaskWork): DispatchedRun;
  /** Finishes the session's running task now; false when none is running. */
  finish(sessionId: string): boolean;
  cancelAll(): void;
}

export type TaskWork =
  | { kind: "turn"; request: TurnRequest }
  | { kind: "examples"; request: ExamplesRequest };

interface RunningTask {
  run: Run;
  work: TaskWork;
  content: ContentFault | undefined;
  timers: NodeJS.Timeout[];
}

export interface TaskRunnerDeps {
  state: EmulatorState;
  faults: FaultControl;
  events: EventEmitter;
  tokens: RunTokens;
  timing: TaskTiming;
}

export function createTaskRunner({ state, faults, events, tokens, timing }: TaskRunnerDeps): TaskRunner {
  // Keyed by session: the claim guarantees at most one task per session.
  const running = new Map<string, RunningTask>();

  const durationOf = (work: TaskWork): number =>
    work.kind === "turn"
      ? timing.taskDelayMs + Math.floor(timing.random() * timing.taskJitterMs)
      : timing.examplesDelayMs + timing.examplesPerLeadMs * work.request.leads.length;

  const finish = (sessionId: string): boolean => {
    const task = running.get(sessionId);
    if (!task) return false;
    running.delete(sessionId);
    for (const timer of task.timers) clearTimeout(timer);
    // A deleted session's task "finishes into the void": the run still completes.
    const session = state.sessions.get(sessionId);
    if (session && task.work.kind === "turn") state.completeTurn(session, task.work.request, task.content);
    if (session && task.work.kind === "examples")
      state.completeExamples(session, task.work.request, task.content);
    const at = performance.now();
    state.completeRun(task.run);
    const event: TaskEvent = { sessionId, runId: task.run.friendlyId, kind: task.run.kind, at };
    events.emit("task.completed", event);
    return true;
  };

  const dispatch = (session: Session, work: TaskWork): DispatchedRun => {
    const route: TaskRoute = work.kind === "turn" ? "sessions.turn" : "sessions.examples";
    const faulted = faults.takeTaskFaults(route, session.id);
    const run = state.createRun(session, work.kind, work.request);
    const duration =
      faulted.timing?.kind === "never_finish"
        ? Infinity
        : faulted.timing?.kind === "slow_task"
          ? faulted.timing.delayMs
          : durationOf(work);
    const timers = [
      setTimeout(() => state.markRunExecuting(run), Math.min(timing.executingAfterMs, duration)),
    ];
    if (duration !== Infinity) timers.push(setTimeout(() => finish(session.id), duration));
    running.set(session.id, { run, work, content: faulted.content, timers });

    const event: TaskEvent = {
      sessionId: session.id,
      runId: run.friendlyId,
      kind: work.kind,
      at: performance.now(),
    };
    events.emit("task.started", event);
    return { runId: run.friendlyId, publicAccessToken: tokens.issue(run.friendlyId) };
  };

  return {
    dispatch,
    finish,
    cancelAll() {
      for (const task of running.values()) for (const timer of task.timers) clearTimeout(timer);
      running.clear();
    },
  };
}
