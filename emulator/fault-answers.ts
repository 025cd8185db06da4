// How a request fault turns into an answer: replaced, delayed, dropped, or let through with the request
// taking effect first (`afterProcessing`).
import { malformedBody, wrongShapeBody } from "./fault-bodies.ts";
import { errorReply, type Reply } from "./http.ts";
import type { RouteName } from "./routes.ts";
import type { RequestFault } from "./scenarios.ts";
import type { EmulatorSettings } from "./settings.ts";
import { type StreamCut, streamHeaders } from "./stream-feed.ts";

/** The answer is to destroy the socket without a response. */
export const DROP = Symbol("drop connection");
export type Outcome = Reply | typeof DROP;

export interface FaultAnswerDeps {
  settings: EmulatorSettings;
  /** Waits `ms` unless the emulator closes first (then false: the connection is going away anyway). */
  pause: (ms: number) => Promise<boolean>;
}

/** `handle` runs the route's handler; a stream handler takes the cut of a stream_cut fault. */
export function createFaultAnswers({ settings, pause }: FaultAnswerDeps) {
  return async (
    fault: RequestFault | undefined,
    route: RouteName,
    signal: AbortSignal,
    handle: (cut?: StreamCut) => Promise<Reply>,
  ): Promise<Outcome> => {
    switch (fault?.kind) {
      case undefined:
        return handle();
      case "status":
        return errorReply(fault.status, fault.error, retryAfter(fault.retryAfterSeconds));
      case "rate_limit":
        return errorReply(429, "Rate limit exceeded", retryAfter(fault.retryAfterSeconds));
      case "realtime_401":
      case "stream_401":
        return errorReply(401, "Unauthorized");
      case "realtime_500":
        return errorReply(500, "Internal server error");
      case "stream_404":
        return errorReply(404, "No such stream");
      case "realtime_hang":
        await aborted(signal);
        return DROP;
      case "stream_hang":
        // The worst kind of hang: the answer starts (200, event-stream headers), then nothing comes.
        return {
          status: 200,
          headers: streamHeaders(settings.streamVersion),
          stream: async (_write, gone) => {
            await aborted(gone);
            return "end";
          },
        };
      case "stream_cut":
        return route === "realtime.stream" ? handle(fault) : handle();
      case "drop_connection":
        if (fault.afterProcessing) await handle();
        return DROP;
      case "delay_response": {
        if (!fault.afterProcessing) return (await pause(fault.ms)) ? handle() : DROP;
        const reply = await handle();
        return (await pause(fault.ms)) ? reply : DROP;
      }
      case "malformed_json":
        if (fault.afterProcessing) await handle();
        return { status: 200, rawBody: malformedBody(route) };
      case "wrong_shape":
        if (fault.afterProcessing) await handle();
        return { status: 200, body: wrongShapeBody(route) };
    }
  };
}

export function retryAfter(seconds: number | undefined): Record<string, string> | undefined {
  return seconds === undefined ? undefined : { "retry-after": String(Math.ceil(seconds)) };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => resolve(), { once: true });
    if (signal.aborted) resolve();
  });
}
