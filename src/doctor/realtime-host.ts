import { type DoctorCheck, type DoctorContext, needs } from "./check.ts";
import { displayUrl, networkProblem } from "./words.ts";

/**
 * The realtime check: TRIGGER_API_URL answers at all. Run feeds are authorised per run, so any HTTP
 * answer will do; an unreachable host is a warning, since the bot then reads Puffle by polling alone.
 */
export async function checkRealtime(ctx: DoctorContext): Promise<DoctorCheck> {
  const name = "Realtime host";
  if (ctx.env.TRIGGER_API_URL?.trim() === "off")
    return { name, ok: true, detail: "realtime off: polling only" };
  const { config, skip } = needs(ctx, name, ["TRIGGER_API_URL"]);
  if (skip) return skip;
  const url = config.triggerApiUrl;
  if (!url) return { name, ok: true, detail: "realtime off: polling only" };
  try {
    const response = await ctx.fetch(`${url}/`, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
    await response.body?.cancel();
    return {
      name,
      ok: true,
      detail: `${displayUrl(url)} is reachable (it answered HTTP ${response.status}; any answer will do)`,
    };
  } catch (error) {
    return {
      name,
      ok: false,
      warning: true,
      detail:
        `cannot reach TRIGGER_API_URL (${displayUrl(url)}): ${networkProblem(error, ctx.timeoutMs)}; ` +
        "the bot still works, reading Puffle by polling only",
      fix: "set TRIGGER_API_URL=off to rely on polling, or allow outbound HTTPS to it",
    };
  }
}
