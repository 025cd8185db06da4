// The answers of the malformed_json and wrong_shape faults, per route: plausible enough that a client
// gets as far as parsing them, wrong enough that it must notice.
import type { RouteName } from "./routes.ts";

const TOP_LEVEL_KEY: Record<RouteName, string> = {
  "sessions.create": "session",
  "sessions.list": "sessions",
  "sessions.get": "session",
  "sessions.patch": "session",
  "sessions.delete": "success",
  "sessions.turn": "runId",
  "sessions.examples": "runId",
  "campaigns.list": "campaigns",
  "campaigns.get": "campaign",
  "campaigns.leads": "prospects",
  "nodes.update": "node",
  "realtime.run": "headers",
  "realtime.stream": "error",
};

/** The start of a plausible answer, cut off mid-value: what a truncated proxy response looks like. */
export function malformedBody(route: RouteName): string {
  const start = `{"${TOP_LEVEL_KEY[route]}": `;
  return route === "realtime.run" ? `[${start}` : start;
}

/** Valid JSON that breaks the documented schema in the most ordinary way (wrong types, missing keys). */
export function wrongShapeBody(route: RouteName): unknown {
  switch (route) {
    case "sessions.create":
    case "sessions.get":
    case "sessions.patch":
      return { session: { id: 42 } };
    case "sessions.list":
      return { sessions: [{ id: 42 }] };
    case "sessions.delete":
      return { success: "yes" };
    case "sessions.turn":
    case "sessions.examples":
      return { runId: null, publicAccessToken: 7 };
    case "campaigns.list":
      return { campaigns: "none" };
    case "campaigns.get":
      return { campaign: null, sequence_nodes: {} };
    case "campaigns.leads":
      return { prospects: null, total: "many" };
    case "nodes.update":
      return { node: { id: 42 } };
    case "realtime.run":
      return [
        { key: "run", value: { id: 42 }, headers: { operation: "insert" } },
        { headers: { control: "up-to-date" } },
      ];
    case "realtime.stream":
      return { unexpected: true };
  }
}
