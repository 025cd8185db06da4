import type { DoctorContext } from "./check.ts";
import { displayUrl, isRecord, networkProblem, str } from "./words.ts";

export type SlackAnswer =
  | { ok: true; body: Record<string, unknown>; headers: Headers }
  | { ok: false; detail: string; fix: string; slackError?: string };

/**
 * One Web API call with fetch (not the WebClient: the doctor wants the raw `x-oauth-scopes` header and
 * no retries). A Slack error (`ok: false`) comes back as `slackError`, for the check to say what to do.
 */
export async function callSlack(
  ctx: DoctorContext,
  apiUrl: string,
  method: string,
  token: string,
): Promise<SlackAnswer> {
  const where = displayUrl(apiUrl);
  let response: Response;
  try {
    response = await ctx.fetch(`${apiUrl}${method}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "",
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
  } catch (error) {
    return {
      ok: false,
      detail: `cannot reach SLACK_API_URL (${where}): ${networkProblem(error, ctx.timeoutMs)}`,
      fix: "check SLACK_API_URL (default https://slack.com/api/) and that this machine can make outbound HTTPS requests to it",
    };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (response.status === 429) {
    const retry = response.headers.get("retry-after");
    return {
      ok: false,
      detail: `Slack is rate limiting ${method}${retry ? ` (retry after ${retry} s)` : ""}`,
      fix: "wait a minute and run the doctor again",
    };
  }
  if (!isRecord(body) || typeof body.ok !== "boolean") {
    return {
      ok: false,
      detail: `${where}/${method} answered HTTP ${response.status} without Slack's JSON`,
      fix: "check SLACK_API_URL (default https://slack.com/api/); if it is right, see https://slack-status.com",
    };
  }
  if (!body.ok) {
    const code = str(body.error) ?? "unknown_error";
    return { ok: false, detail: `Slack answered ${method} with ${code}`, fix: "", slackError: code };
  }
  return { ok: true, body, headers: response.headers };
}
