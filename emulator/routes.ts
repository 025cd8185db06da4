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
  path: string;
  segments: string[];
  name: RouteName;
  description: string;
}

const SESSIONS = "/api/campaigns/ai-chat-sessions";

// Order matters: the literal `ai-chat-sessions` must win over the `:campaignId` placeholder.
const ROUTES: RouteSpec[] = [
  route("POST", SESSIONS, "sessions.create", "Create an empty chat session for { campaign_id, node_id }"),
  route("GET", SESSIONS, "sessions.list", "This key's sessions of ?campaign_id=, oldest first"),
  route("GET", `${SESSIONS}/:sessionId`, "sessions.get", "One session: poll it until task_status is null"),
  route("PATCH", `${SESSIONS}/:sessionId`, "sessions.patch", "Change writable fields (title, draft_*, ...)"),
  route(
    "DELETE",
    `${SESSIONS}/:sessionId`,
    "sessions.delete",
    "Delete a session (a running task still ends)",
  ),
  route(
    "POST",
    `${SESSIONS}/:sessionId/turn`,
    "sessions.turn",
    "Send { message, hints? }: 409 while busy, else { runId, publicAccessToken }",
  ),
  route(
    "POST",
    `${SESSIONS}/:sessionId/generate-examples`,
    "sessions.examples",
    "Write per-lead examples for { leads (3-10), isFirstBatch }",
  ),
  route("GET", "/api/campaigns", "campaigns.list", "The seed campaigns, with node_count"),
  route("GET", "/api/campaigns/:campaignId", "campaigns.get", "A campaign and its sequence nodes"),
  route("GET", "/api/campaigns/:campaignId/leads", "campaigns.leads", "Prospects, ?page=&limit=&status="),
  route(
    "PUT",
    "/api/campaigns/:campaignId/sequence/nodes/:nodeId",
    "nodes.update",
    "Update a node's { subject, body } (draft campaigns only)",
  ),
  route(
    "GET",
    "/realtime/v1/runs/:runId",
    "realtime.run",
    "Trigger.dev run feed (Electric long-polling), Bearer publicAccessToken",
  ),
  route(
    "GET",
    "/realtime/v1/streams/:runId/:streamKey",
    "realtime.stream",
    "A run's realtime stream (server-sent events, v1 or v2), Bearer publicAccessToken",
  ),
];

function route(method: string, path: string, name: RouteName, description: string): RouteSpec {
  return { method, path, segments: splitPath(path), name, description };
}

/** The route table as documentation (GET / lists it). */
export function describeRoutes(): Array<{
  name: RouteName;
  method: string;
  path: string;
  description: string;
}> {
  return ROUTES.map(({ name, method, path, description }) => ({ name, method, path, description }));
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
