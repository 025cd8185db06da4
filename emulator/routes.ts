// The route table: one name per endpoint. Faults and stats refer to these names, so they are public API.

export const API_ROUTE_NAMES = [
  "sessions.create",
  "sessions.list",
  "sessions.get",
  "sessions.patch",
  "sessions.delete",
  "sessions.turn",
  "sessions.examples",
  "campaigns.list",
  "campaigns.get",
  "campaigns.leads",
  "nodes.update",
] as const;

export const REALTIME_ROUTE_NAMES = ["realtime.run", "realtime.stream"] as const;

export const ROUTE_NAMES = [...API_ROUTE_NAMES, ...REALTIME_ROUTE_NAMES] as const;

export type ApiRouteName = (typeof API_ROUTE_NAMES)[number];
export type RealtimeRouteName = (typeof REALTIME_ROUTE_NAMES)[number];
export type RouteName = ApiRouteName | RealtimeRouteName;

export interface RouteMatch {
  name: RouteName;
  params: Record<string, string>;
}

interface RouteSpec {
  method: string;
  segments: string[];
  name: RouteName;
}

const SESSIONS = "/api/campaigns/ai-chat-sessions";

// Order matters: the literal `ai-chat-sessions` must win over the `:campaignId` placeholder.
const ROUTES: RouteSpec[] = [
  route("POST", SESSIONS, "sessions.create"),
  route("GET", SESSIONS, "sessions.list"),
  route("GET", `${SESSIONS}/:sessionId`, "sessions.get"),
  route("PATCH", `${SESSIONS}/:sessionId`, "sessions.patch"),
  route("DELETE", `${SESSIONS}/:sessionId`, "sessions.delete"),
  route("POST", `${SESSIONS}/:sessionId/turn`, "sessions.turn"),
  route("POST", `${SESSIONS}/:sessionId/generate-examples`, "sessions.examples"),
  route("GET", "/api/campaigns", "campaigns.list"),
  route("GET", "/api/campaigns/:campaignId", "campaigns.get"),
  route("GET", "/api/campaigns/:campaignId/leads", "campaigns.leads"),
  route("PUT", "/api/campaigns/:campaignId/sequence/nodes/:nodeId", "nodes.update"),
  route("GET", "/realtime/v1/runs/:runId", "realtime.run"),
  route("GET", "/realtime/v1/streams/:runId/:streamKey", "realtime.stream"),
];

function route(method: string, path: string, name: RouteName): RouteSpec {
  return { method, segments: splitPath(path), name };
}

function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment.length > 0);
}

export function matchRoute(method: string, pathname: string): RouteMatch | undefined {
  const segments = splitPath(pathname);
  for (const spec of ROUTES) {
    if (spec.method !== method || spec.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = spec.segments.every((expected, i) => {
      const actual = segments[i] ?? "";
      if (!expected.startsWith(":")) return expected === actual;
      params[expected.slice(1)] = safeDecode(actual);
      return true;
    });
    if (matches) return { name: spec.name, params };
  }
  return undefined;
}

/** A malformed escape is just an id that matches nothing (a 404), not a crash. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function isRealtimeRoute(name: RouteName): name is RealtimeRouteName {
  return name.startsWith("realtime.");
}
