// Fault injection: what can go wrong, which requests or tasks a fault applies to, and when it is used up.
//
// Three families, each consumed at a different moment:
// - request faults shape the answer to the next matching request (checked when the request arrives);
// - point faults act inside a handler where the real server would fail (dispatch_500 after the busy
//   check, create_returns_existing when a create would insert), so a 404/409 does not use them up;
// - task faults shape the next task that STARTS on a matching session.
// Unscoped request faults apply to Puffle API routes only: the run feed lives on another host in production,
// and a background realtime poll must not steal a fault meant for an API call. Realtime routes are hit only
// by realtime_* and stream_* kinds or by faults that name a realtime route.
//
// The kinds:
// - request, API routes by default: status (any status, optional Retry-After), rate_limit (429 +
//   Retry-After), malformed_json, wrong_shape, delay_response, drop_connection (the last four optionally
//   `afterProcessing`: the request takes effect, only the answer is broken);
// - request, the run feed (realtime.run) by default: realtime_401, realtime_500, realtime_hang (no answer
//   until the client or the emulator goes away);
// - request, realtime streams (realtime.stream) by default: stream_401, stream_404, stream_hang (200 and
//   the event-stream headers, then silence until the reader gives up), stream_cut (after `afterChunks`
//   data chunks the response stops: `how: "drop"` (default) destroys the connection, so a reader sees an
//   error and may resume with Last-Event-ID; `how: "end"` ends it cleanly, so the reader takes the cut
//   text for the whole reply);
// - point: dispatch_500 (/turn and /generate-examples), create_returns_existing (session create);
// - task: slow_task, never_finish (timing); no_assistant_message, scripted_reply (content); no_streams
//   (the next chat turn's run declares no stream: realtimeStreams stays empty and the key is a 404).
//   One of each family can shape the same task.
import { z } from "zod";
import { isRealtimeRoute, ROUTE_NAMES, type RouteName } from "./routes.ts";

export type FaultMatch = { route?: RouteName; sessionId?: string };

export type ScriptedReply = {
  kind: "scripted_reply";
  assistant?: string;
  draft_subject?: string;
  draft_body?: string;
  skeleton?: Record<string, unknown> | null;
};

export type FaultBehaviour =
  | { kind: "status"; status: number; error?: string; retryAfterSeconds?: number }
  | { kind: "rate_limit"; retryAfterSeconds: number }
  | { kind: "dispatch_500" }
  | { kind: "malformed_json"; afterProcessing?: boolean }
  | { kind: "wrong_shape"; afterProcessing?: boolean }
  | { kind: "delay_response"; ms: number; afterProcessing?: boolean }
  | { kind: "drop_connection"; afterProcessing?: boolean }
  | { kind: "slow_task"; delayMs: number }
  | { kind: "never_finish" }
  | { kind: "no_assistant_message" }
  | ScriptedReply
  | { kind: "create_returns_existing" }
  | { kind: "realtime_401" }
  | { kind: "realtime_hang" }
  | { kind: "realtime_500" }
  | { kind: "stream_401" }
  | { kind: "stream_404" }
  | { kind: "stream_hang" }
  | { kind: "stream_cut"; afterChunks: number; how?: "drop" | "end" }
  | { kind: "no_streams" };

/** `times` defaults to 1; Infinity keeps the fault forever (send -1 over JSON). */
export type Fault = FaultMatch & { times?: number } & FaultBehaviour;

export type FaultKind = FaultBehaviour["kind"];
export type RequestFault = Extract<
  Fault,
  {
    kind:
      | "status"
      | "rate_limit"
      | "malformed_json"
      | "wrong_shape"
      | "delay_response"
      | "drop_connection"
      | "realtime_401"
      | "realtime_hang"
      | "realtime_500"
      | "stream_401"
      | "stream_404"
      | "stream_hang"
      | "stream_cut";
  }
>;
export type TimingFault = Extract<Fault, { kind: "slow_task" | "never_finish" }>;
export type ContentFault = Extract<Fault, { kind: "no_assistant_message" | "scripted_reply" }>;
export type TaskRoute = "sessions.turn" | "sessions.examples";

const REQUEST_KINDS = new Set<FaultKind>([
  "status",
  "rate_limit",
  "malformed_json",
  "wrong_shape",
  "delay_response",
  "drop_connection",
  "realtime_401",
  "realtime_hang",
  "realtime_500",
  "stream_401",
  "stream_404",
  "stream_hang",
  "stream_cut",
]);

/** Routes a fault applies to when it names none. */
function defaultScope(kind: FaultKind, route: RouteName): boolean {
  switch (kind) {
    case "realtime_401":
    case "realtime_hang":
    case "realtime_500":
      return route === "realtime.run";
    case "stream_401":
    case "stream_404":
    case "stream_hang":
    case "stream_cut":
      return route === "realtime.stream";
    case "no_streams":
      return route === "sessions.turn";
    case "dispatch_500":
      return route === "sessions.turn" || route === "sessions.examples";
    case "create_returns_existing":
      return route === "sessions.create";
    default:
      return !isRealtimeRoute(route);
  }
}

interface PendingFault {
  fault: Fault;
  remaining: number;
}

export class FaultControl {
  #pending: PendingFault[] = [];

  inject(fault: Fault): void {
    const remaining = fault.times ?? 1;
    if (!(remaining >= 1)) throw new RangeError("fault.times must be at least 1 (or Infinity)");
    this.#pending.push({ fault, remaining });
  }

  clear(): void {
    this.#pending = [];
  }

  /** Faults not used up yet, in injection order, with `times` = what is left. */
  pending(): Fault[] {
    return this.#pending.map(({ fault, remaining }) => ({ ...fault, times: remaining }));
  }

  takeRequestFault(route: RouteName, sessionId: string | undefined): RequestFault | undefined {
    return this.#take(route, sessionId, (fault): fault is RequestFault => REQUEST_KINDS.has(fault.kind));
  }

  takeDispatchFailure(route: TaskRoute, sessionId: string): boolean {
    return this.#take(route, sessionId, (fault) => fault.kind === "dispatch_500") !== undefined;
  }

  takeCreateReturnsExisting(): boolean {
    return (
      this.#take("sessions.create", undefined, (fault) => fault.kind === "create_returns_existing") !==
      undefined
    );
  }

  /** At most one fault of each family, so `slow_task`, `scripted_reply` and `no_streams` can combine. */
  takeTaskFaults(
    route: TaskRoute,
    sessionId: string,
  ): { timing?: TimingFault; content?: ContentFault; noStreams: boolean } {
    const timing = this.#take(
      route,
      sessionId,
      (fault): fault is TimingFault => fault.kind === "slow_task" || fault.kind === "never_finish",
    );
    const content = this.#take(
      route,
      sessionId,
      (fault): fault is ContentFault =>
        fault.kind === "no_assistant_message" || fault.kind === "scripted_reply",
    );
    const noStreams =
      route === "sessions.turn" &&
      this.#take(route, sessionId, (fault) => fault.kind === "no_streams") !== undefined;
    return { timing, content, noStreams };
  }

  #take<T extends Fault>(
    route: RouteName,
    sessionId: string | undefined,
    isWanted: (fault: Fault) => fault is T,
  ): T | undefined;
  #take(
    route: RouteName,
    sessionId: string | undefined,
    isWanted: (fault: Fault) => boolean,
  ): Fault | undefined;
  #take(
    route: RouteName,
    sessionId: string | undefined,
    isWanted: (fault: Fault) => boolean,
  ): Fault | undefined {
    const index = this.#pending.findIndex(({ fault }) => {
      if (!isWanted(fault)) return false;
      if (fault.sessionId !== undefined && fault.sessionId !== sessionId) return false;
      return fault.route !== undefined ? fault.route === route : defaultScope(fault.kind, route);
    });
    const entry = this.#pending[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#pending.splice(index, 1);
    return entry.fault;
  }
}

// ---------------------------------------------------------------- faults over JSON (admin endpoint)

const matchShape = {
  route: z.enum(ROUTE_NAMES).optional(),
  sessionId: z.string().optional(),
  times: z
    .number()
    .int()
    .refine((n) => n === -1 || n >= 1, "times must be -1 (forever) or at least 1")
    .optional(),
};
const afterProcessing = z.boolean().optional();

const FaultSchema = z.discriminatedUnion("kind", [
  z.object({
    ...matchShape,
    kind: z.literal("status"),
    status: z.number().int().min(100).max(599),
    error: z.string().optional(),
    retryAfterSeconds: z.number().nonnegative().optional(),
  }),
  z.object({ ...matchShape, kind: z.literal("rate_limit"), retryAfterSeconds: z.number().nonnegative() }),
  z.object({ ...matchShape, kind: z.literal("dispatch_500") }),
  z.object({ ...matchShape, kind: z.literal("malformed_json"), afterProcessing }),
  z.object({ ...matchShape, kind: z.literal("wrong_shape"), afterProcessing }),
  z.object({
    ...matchShape,
    kind: z.literal("delay_response"),
    ms: z.number().nonnegative(),
    afterProcessing,
  }),
  z.object({ ...matchShape, kind: z.literal("drop_connection"), afterProcessing }),
  z.object({ ...matchShape, kind: z.literal("slow_task"), delayMs: z.number().nonnegative() }),
  z.object({ ...matchShape, kind: z.literal("never_finish") }),
  z.object({ ...matchShape, kind: z.literal("no_assistant_message") }),
  z.object({
    ...matchShape,
    kind: z.literal("scripted_reply"),
    assistant: z.string().optional(),
    draft_subject: z.string().optional(),
    draft_body: z.string().optional(),
    skeleton: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
  z.object({ ...matchShape, kind: z.literal("create_returns_existing") }),
  z.object({ ...matchShape, kind: z.literal("realtime_401") }),
  z.object({ ...matchShape, kind: z.literal("realtime_hang") }),
  z.object({ ...matchShape, kind: z.literal("realtime_500") }),
  z.object({ ...matchShape, kind: z.literal("stream_401") }),
  z.object({ ...matchShape, kind: z.literal("stream_404") }),
  z.object({ ...matchShape, kind: z.literal("stream_hang") }),
  z.object({
    ...matchShape,
    kind: z.literal("stream_cut"),
    afterChunks: z.number().int().nonnegative(),
    how: z.enum(["drop", "end"]).optional(),
  }),
  z.object({ ...matchShape, kind: z.literal("no_streams") }),
]);

export function parseFault(json: unknown): { fault: Fault } | { error: z.ZodError } {
  const parsed = FaultSchema.safeParse(json);
  if (!parsed.success) return { error: parsed.error };
  const { times, ...rest } = parsed.data;
  const fault: Fault = times === undefined ? rest : { ...rest, times: times === -1 ? Infinity : times };
  return { fault };
}

/** JSON has no Infinity: report "forever" as -1, the same spelling the endpoint accepts. */
export function faultToJson(fault: Fault): Fault {
  return fault.times === Infinity ? { ...fault, times: -1 } : fault;
}
