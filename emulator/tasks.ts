// The fake Trigger.dev tasks: a dispatched turn or examples run goes PENDING -> EXECUTING -> completed,
// and the session changes in the same synchronous step as task_status is cleared and the run completes.
// A turn's reply is decided when its task starts (see outcomes.ts) and saved when it ends.
import type { EventEmitter } from "node:events";
import { applyExamples, applyTurn, planTurn, type TurnPlan } from "./outcomes.ts";
import type { ExamplesRequest, TurnRequest } from "./requests.ts";
import type { RunTokens } from "./run-tokens.ts";
import type { ContentFault, FaultControl, TaskRoute } from "./scenarios.ts";
import type { EmulatorSettings } from "./settings.ts";
import type { EmulatorState, Run, Session, TaskKind } from "./state.ts";
import { RunStream } from "./streams.ts";

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
  /** A turn's outcome, decided when it starts. */
  plan: TurnPlan | undefined;
  timers: NodeJS.Timeout[];
}

export interface TaskRunnerDeps {
  state: EmulatorState;
  faults: FaultControl;
  events: EventEmitter;
  tokens: RunTokens;
  timing: TaskTiming;
  settings: EmulatorSettings;
}

export function createTaskRunner(deps: TaskRunnerDeps): TaskRunner {
  const { state, faults, events, tokens, timing, settings } = deps;
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
    // The writer is done before the session is saved: a reader has the whole reply before task_status clears.
    for (const stream of task.run.streams.values()) stream.finish(Date.now());
    // A deleted session's task "finishes into the void": the run still completes.
    const session = state.sessions.get(sessionId);
    if (session && task.work.kind === "turn" && task.plan) applyTurn(session, task.work.request, task.plan);
    if (session && task.work.kind === "examples") applyExamples(session, task.work.request, task.content);
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
    // The start is when the task's timers are armed (planning the reply below takes time under load).
    const startedAt = performance.now();
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
    const plan = work.kind === "turn" ? planTurn(session, work.request, faulted.content) : undefined;
    // Our choice: examples runs write no stream (their result is a list, not prose to watch being written).
    if (plan && settings.streams && !faulted.noStreams) {
      // A task that never finishes still writes its reply over the usual time, then hangs unfinished.
      const writing = duration === Infinity ? timing.taskDelayMs : duration;
      run.streams.set(settings.streamKey, replyStream(plan.assistant ?? "", writing, duration === Infinity));
    }
    running.set(session.id, { run, work, content: faulted.content, plan, timers });

    const event: TaskEvent = {
      sessionId: session.id,
      runId: run.friendlyId,
      kind: work.kind,
      at: startedAt,
    };
    events.emit("task.started", event);
    return { runId: run.friendlyId, publicAccessToken: tokens.issue(run.friendlyId) };
  };

  /**
   * The reply, word by word, from when the run starts executing until just before the task ends (the
   * task saves the session after the model has finished writing).
   */
  const replyStream = (text: string, writingMs: number, neverEnds: boolean): RunStream => {
    const now = Date.now();
    const startAt = now + Math.min(timing.executingAfterMs, writingMs);
    const endAt = Math.max(startAt, now + writingMs - Math.min(writingMs * 0.1, 300));
    return new RunStream({
      key: settings.streamKey,
      text,
      shape: settings.chunkShape,
      nonText: settings.nonTextChunks,
      startAt,
      endAt,
      endsAt: neverEnds ? Infinity : endAt,
    });
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
