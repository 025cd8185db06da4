// Admin endpoints for a stand-alone emulator (`npm run emulator`): the same controls tests get in-process.
// Protected by the API keys (any key the emulator accepts).
import { errorReply, jsonReply, parseJson, type Reply, type RequestContext } from "./http.ts";
import { describeIssues } from "./requests.ts";
import { type FaultControl, faultToJson, parseFault } from "./scenarios.ts";
import { type EmulatorSettings, type SettingsChange, SettingsPatch } from "./settings.ts";
import type { EmulatorState } from "./state.ts";
import type { KeyStatsSnapshot } from "./stats.ts";
import type { Workspaces } from "./workspaces.ts";

export interface AdminDeps {
  state: EmulatorState;
  faults: FaultControl;
  workspaces: Workspaces;
  stats: () => unknown;
  keyStats: () => KeyStatsSnapshot;
  reset: () => void;
  finishTask: (sessionId: string) => boolean;
  configure: (change: SettingsChange) => EmulatorSettings;
  addKey: (key: string) => string;
}

/** For GET / : what each admin route does. */
export const ADMIN_ROUTES = [
  ["GET", "/__admin/state", "Sessions (with their key's label), runs, pending faults, request stats"],
  ["POST", "/__admin/faults", "Inject a fault (JSON; kinds in emulator/scenarios.ts); times -1 = forever"],
  ["GET", "/__admin/faults", "Pending faults"],
  ["DELETE", "/__admin/faults", "Clear every pending fault"],
  ["GET", "/__admin/config", "Live settings: streams, streamKey, streamVersion, chunkShape, ..."],
  ["POST", "/__admin/config", "Change live settings (any subset), e.g. { streamVersion: 'v1' }"],
  ["GET", "/__admin/keys", "Accepted keys by label, with requests, max per minute and 429s"],
  ["POST", "/__admin/keys", "Accept one more key { key }: a new, empty Puffle workspace"],
  ["POST", "/__admin/reset", "Back to the seed: no sessions, faults or running tasks; fresh stats"],
  ["POST", "/__admin/sessions/{id}/finish", "End that session's running task now"],
].map(([method, path, description]) => ({ method, path, description }));

export function createAdminHandler(deps: AdminDeps) {
  const { state, faults, workspaces, stats, keyStats, reset, finishTask, configure, addKey } = deps;
  const pending = () => faults.pending().map(faultToJson);
  const keys = () => {
    const counted = keyStats().keys;
    return workspaces.list().map(({ label }) => ({
      label,
      ...(counted[label] ?? { requests: 0, maxPerMinute: 0, rateLimited: 0 }),
    }));
  };

  return (ctx: RequestContext): Reply => {
    const { method } = ctx;
    const path = ctx.url.pathname;
    if (path === "/__admin/faults" && method === "POST") {
      const parsed = parseFault(parseJson(ctx.rawBody));
      if ("error" in parsed) return errorReply(400, `Invalid fault: ${describeIssues(parsed.error)}`);
      faults.inject(parsed.fault);
      return jsonReply({ pending: pending() }, 201);
    }
    if (path === "/__admin/faults" && method === "GET") return jsonReply({ pending: pending() });
    if (path === "/__admin/faults" && method === "DELETE") {
      faults.clear();
      return jsonReply({ success: true });
    }
    if (path === "/__admin/state" && method === "GET") {
      const sessions = [...state.sessions.values()].map((session) => ({
        id: session.id,
        key: workspaces.labelOf(state.ownerOf(session.id) ?? ""),
        campaign_id: session.campaign_id,
        node_id: session.node_id,
        task_status: session.task_status,
        framework_version: session.framework_version,
        message_count: session.messages?.length ?? 0,
        updated_at: session.updated_at,
      }));
      return jsonReply({ sessions, runs: state.runs.size, faults: pending(), stats: stats(), keys: keys() });
    }
    if (path === "/__admin/config" && method === "GET") return jsonReply({ settings: configure({}) });
    if (path === "/__admin/config" && method === "POST") {
      const change = SettingsPatch.safeParse(parseJson(ctx.rawBody));
      if (!change.success) return errorReply(400, `Invalid settings: ${describeIssues(change.error)}`);
      return jsonReply({ settings: configure(change.data) });
    }
    if (path === "/__admin/keys" && method === "GET") return jsonReply({ keys: keys() });
    if (path === "/__admin/keys" && method === "POST") {
      const body = parseJson(ctx.rawBody) as { key?: unknown } | null;
      const key = body?.key;
      if (typeof key !== "string" || !/^\S+$/.test(key))
        return errorReply(400, "Send { key }: a non-empty string without spaces");
      return jsonReply({ label: addKey(key) }, 201);
    }
    if (path === "/__admin/reset" && method === "POST") {
      reset();
      return jsonReply({ success: true });
    }
    const finish = /^\/__admin\/sessions\/([^/]+)\/finish$/.exec(path);
    if (finish && method === "POST") return jsonReply({ finished: finishTask(finish[1] ?? "") });
    return errorReply(404, `No admin route for ${method} ${path}`);
  };
}
