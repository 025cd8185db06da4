// Admin endpoints for a stand-alone emulator (`npm run emulator`): the same controls tests get in-process.
// Protected by the same bearer key as the API.
import { errorReply, jsonReply, parseJson, type Reply, type RequestContext } from "./http.ts";
import { describeIssues } from "./requests.ts";
import { type FaultControl, faultToJson, parseFault } from "./scenarios.ts";
import { type EmulatorSettings, type SettingsChange, SettingsPatch } from "./settings.ts";
import type { EmulatorState } from "./state.ts";

export interface AdminDeps {
  state: EmulatorState;
  faults: FaultControl;
  stats: () => unknown;
  reset: () => void;
  finishTask: (sessionId: string) => boolean;
  configure: (change: SettingsChange) => EmulatorSettings;
}

export function createAdminHandler({ state, faults, stats, reset, finishTask, configure }: AdminDeps) {
  const pending = () => faults.pending().map(faultToJson);

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
        campaign_id: session.campaign_id,
        node_id: session.node_id,
        task_status: session.task_status,
        framework_version: session.framework_version,
        message_count: session.messages?.length ?? 0,
        updated_at: session.updated_at,
      }));
      return jsonReply({ sessions, runs: state.runs.size, faults: pending(), stats: stats() });
    }
    if (path === "/__admin/config" && method === "GET") return jsonReply({ settings: configure({}) });
    if (path === "/__admin/config" && method === "POST") {
      const change = SettingsPatch.safeParse(parseJson(ctx.rawBody));
      if (!change.success) return errorReply(400, `Invalid settings: ${describeIssues(change.error)}`);
      return jsonReply({ settings: configure(change.data) });
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
