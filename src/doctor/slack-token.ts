import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { type DoctorCheck, type DoctorContext, needs, skipped } from "./check.ts";
import { callSlack } from "./slack-api.ts";
import { isRecord, maskSecret, plural, str } from "./words.ts";

/**
 * The Slack token check: in one-workspace mode, SLACK_BOT_TOKEN works (auth.test) and has every bot scope
 * manifest.yml asks for. In OAuth mode there is no such token: each workspace's comes with its install.
 */

export const DEFAULT_MANIFEST = new URL("../../manifest.yml", import.meta.url);

const NAME = "Slack token";

const TOKEN_FIX =
  "copy the Bot User OAuth Token (xoxb-...) from your Slack app's OAuth & Permissions page into " +
  "SLACK_BOT_TOKEN (install or reinstall the app to the workspace if there is none, or it was revoked)";

export async function checkSlackToken(ctx: DoctorContext): Promise<DoctorCheck> {
  if (ctx.view.config?.slack.oauth) {
    return skipped(
      NAME,
      "not used with OAuth installs: each workspace's bot token comes with its install (/slack/install)",
    );
  }
  const { config, skip } = needs(ctx, NAME, ["SLACK_BOT_TOKEN", "SLACK_API_URL"]);
  if (skip) return skip;
  const botToken = config.slack.botToken ?? "";
  const token = `SLACK_BOT_TOKEN ${maskSecret(botToken)}`;
  const answer = await callSlack(ctx, config.slack.apiUrl, "auth.test", botToken);
  if (!answer.ok) {
    const fix = answer.slackError ? TOKEN_FIX : answer.fix;
    return { name: NAME, ok: false, detail: `${answer.detail}; ${token}`, fix };
  }
  const body = answer.body;
  const who =
    `team ${str(body.team) ?? "?"} (${str(body.team_id) ?? "?"}), ` +
    `bot user @${str(body.user) ?? "?"} (${str(body.user_id) ?? "?"})`;

  const wanted = readManifestScopes(ctx.manifestPath);
  if (typeof wanted === "string")
    return { name: NAME, ok: true, detail: `${who}; scopes not compared: ${wanted}` };
  const header = answer.headers.get("x-oauth-scopes");
  if (header === null) {
    return {
      name: NAME,
      ok: true,
      detail: `${who}; Slack did not report the token's scopes, so they were not compared`,
    };
  }
  const granted = new Set(
    header
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const missing = wanted.filter((scope) => !granted.has(scope));
  if (missing.length > 0) {
    const scopes = missing.length === 1 ? "scope" : "scopes";
    return {
      name: NAME,
      ok: false,
      detail: `${who}; missing ${scopes} that manifest.yml asks for: ${missing.join(", ")}`,
      fix: `add the ${scopes} ${missing.join(", ")} in OAuth & Permissions and reinstall the app`,
    };
  }
  return {
    name: NAME,
    ok: true,
    detail: `${who}; all ${plural(wanted.length, "bot scope")} of manifest.yml granted`,
  };
}

/** The bot scopes the manifest asks for, or why they could not be read. */
function readManifestScopes(path: string | URL): string[] | string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return `could not read ${path instanceof URL ? path.pathname : path}`;
  }
  let manifest: unknown;
  try {
    manifest = parse(text);
  } catch (error) {
    const why = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    return `manifest.yml is not valid YAML (${why})`;
  }
  return botScopesOf(manifest) ?? "manifest.yml has no oauth_config.scopes.bot list";
}

/** `oauth_config.scopes.bot` of a Slack app manifest (YAML text), or undefined when it has none. */
export function parseManifestBotScopes(text: string): string[] | undefined {
  try {
    return botScopesOf(parse(text));
  } catch {
    return undefined;
  }
}

function botScopesOf(manifest: unknown): string[] | undefined {
  const oauth = isRecord(manifest) ? manifest.oauth_config : undefined;
  const scopes = isRecord(oauth) ? oauth.scopes : undefined;
  const bot = isRecord(scopes) ? scopes.bot : undefined;
  return Array.isArray(bot) && bot.every((scope) => typeof scope === "string") ? bot : undefined;
}
