import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { AbortedError } from "./clock.ts";
import { CONFIG_VARIABLES, type Config, ConfigError, parseConfig } from "./config.ts";
import { createSecretScrubber, createSilentLogger } from "./logger.ts";
import { createPuffleClient } from "./puffle/client.ts";
import { CONTRACT } from "./puffle/contract.ts";
import { isPuffleError, type PuffleError } from "./puffle/errors.ts";

/**
 * `npm run doctor`: checks an operator's set-up piece by piece (config, Slack token and scopes, Socket
 * Mode or HTTP mode, Puffle key, realtime host) and says in plain words what to fix. Every check runs
 * that has what it needs, even when the config as a whole is invalid, so one run shows every problem.
 */

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure, in plain words. */
  fix?: string;
  /** Not run: a variable it needs is missing or invalid (the Config check says which and why). */
  skipped?: boolean;
  /** A failure the bot can live with (it degrades rather than stops). It still counts as a failure. */
  warning?: boolean;
}

export interface DoctorReport {
  /** True when every check passed. */
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Used for the Slack and realtime checks; the Puffle check goes through the app's own client. */
  fetch?: typeof fetch;
  /** Deadline for each network check. Default 5000 ms. */
  timeoutMs?: number;
  /** The Slack app manifest whose bot scopes the token must have. Default: the project's manifest.yml. */
  manifestPath?: string | URL;
}

type Env = Record<string, string | undefined>;
type Variable = (typeof CONFIG_VARIABLES)[number];

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MANIFEST = new URL("../manifest.yml", import.meta.url);
const SECRET_VARIABLES = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "PUFFLE_API_KEY"];

/**
 * Stand-ins for required variables that are missing or invalid, so the rest of the config can still be
 * parsed. A check never uses a stand-in: it skips when a variable it needs is in `bad`.
 */
const STAND_INS: Partial<Record<Variable, string>> = {
  SLACK_BOT_TOKEN: "xoxb-doctor-stand-in",
  SLACK_APP_TOKEN: "xapp-doctor-stand-in",
  SLACK_SIGNING_SECRET: "doctor-stand-in",
  PUFFLE_API_KEY: "doctor-stand-in",
};

export async function runDoctor(env: Env, options: DoctorOptions = {}): Promise<DoctorReport> {
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const view = inspectConfig(env);
  const ctx: Context = { env, view, fetch: fetchFn, timeoutMs, manifestPath: options.manifestPath };
  const socketMode = isSet(env.SLACK_APP_TOKEN);

  // The Puffle client's retry sleeps and AbortSignal.timeout do not hold the event loop open; in a CLI
  // with nothing else running, a wait on them alone would end the process mid-check.
  const keepAlive = setInterval(() => {}, 1000);
  let later: DoctorCheck[];
  try {
    // Independent of each other: run them at once (several timeouts do not add up), report in order.
    later = await Promise.all([
      checkSlackToken(ctx),
      socketMode ? checkSocketMode(ctx) : checkHttpMode(ctx),
      checkPuffle(ctx),
      checkRealtime(ctx),
    ]);
  } finally {
    clearInterval(keepAlive);
  }
  // Belt and braces: whatever an error message carried, no secret value reaches the report.
  const scrub = createSecretScrubber(SECRET_VARIABLES.map((name) => env[name]?.trim()));
  const checks = [view.check, ...later].map((check) => ({
    ...check,
    detail: scrub(check.detail),
    ...(check.fix === undefined ? {} : { fix: scrub(check.fix) }),
  }));
  return { ok: checks.every((check) => check.ok), checks };
}

/** The report as the CLI prints it: one line per check, an indented fix under each failure, a summary. */
export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    const [first = "", ...rest] = check.detail.split("\n");
    const mark = check.ok ? "✓" : "✗";
    lines.push(`${mark} ${check.name}: ${first}${check.warning ? " (warning)" : ""}`);
    for (const line of rest) lines.push(`    ${line}`);
    if (!check.ok && check.fix) lines.push(`    fix: ${check.fix}`);
  }
  const total = report.checks.length;
  const skipped = report.checks.filter((c) => c.skipped).length;
  const failed = report.checks.filter((c) => !c.ok && !c.skipped).length;
  lines.push("");
  if (report.ok) lines.push(`All ${total} checks passed.`);
  else {
    const parts = [`${failed} failed`, ...(skipped ? [`${skipped} skipped`] : [])];
    lines.push(`${total - failed - skipped} of ${total} checks passed, ${parts.join(", ")}.`);
  }
  return `${lines.join("\n")}\n`;
}

/** `xoxb-… (57 chars)`: enough to tell which secret was read, never enough to use it. */
export function maskSecret(value: string): string {
  const prefix = /^(xox[a-z]-|xapp-|pk_live_|pk_test_)/.exec(value)?.[1] ?? "";
  return `${prefix}… (${value.length} chars)`;
}

// ---- 1. config ---------------------------------------------------------------------------------------

interface ConfigView {
  check: DoctorCheck;
  /** The config, with stand-ins for bad variables; undefined when the problems could not be placed. */
  config: Config | undefined;
  /** Variables that are missing (when required) or invalid. */
  bad: ReadonlySet<string>;
}

interface Context {
  env: Env;
  view: ConfigView;
  fetch: typeof fetch;
  timeoutMs: number;
  manifestPath: string | URL | undefined;
}

function inspectConfig(env: Env): ConfigView {
  try {
    const config = parseConfig(env);
    return { check: configPassed(env, config), config, bad: new Set() };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const check: DoctorCheck = {
      name: "Config",
      ok: false,
      detail: [
        `${error.problems.length} problem${error.problems.length === 1 ? "" : "s"}:`,
        ...error.problems.map((problem) => `- ${problem.variable} ${problem.message}`),
      ].join("\n"),
      fix: "edit .env (or the environment) to fix each problem listed; .env.example describes every variable",
    };
    return {
      check,
      ...partialConfig(
        env,
        error.problems.map((p) => `${p.variable} ${p.message}`),
      ),
    };
  }
}

/** Which variables the problems are about, and the config the others make. */
function partialConfig(env: Env, problems: string[]): Pick<ConfigView, "config" | "bad"> {
  // Longest names first, so a name that prefixes another cannot claim its problems.
  const names = [...CONFIG_VARIABLES].sort((a, b) => b.length - a.length);
  const bad = new Set<Variable>();
  for (const problem of problems) {
    // Every problem starts with its variable's name (config.ts builds them so).
    const name = names.find((n) => problem.startsWith(`${n} `));
    if (!name) return { config: undefined, bad: new Set(CONFIG_VARIABLES) };
    bad.add(name);
  }
  // The default step is a pair: half of it is no use.
  if (bad.has("PUFFLE_CAMPAIGN_ID") || bad.has("PUFFLE_NODE_ID")) {
    bad.add("PUFFLE_CAMPAIGN_ID");
    bad.add("PUFFLE_NODE_ID");
  }
  const repaired: Env = { ...env };
  for (const name of bad) repaired[name] = STAND_INS[name];
  try {
    return { config: parseConfig(repaired), bad };
  } catch {
    return { config: undefined, bad: new Set(CONFIG_VARIABLES) };
  }
}

function configPassed(env: Env, config: Config): DoctorCheck {
  const secrets = SECRET_VARIABLES.flatMap((name) => {
    const value = env[name]?.trim();
    return value ? [`${name} ${maskSecret(value)}`] : [];
  });
  const mode = config.slack.mode === "socket" ? "Socket Mode" : "HTTP mode";
  return {
    name: "Config",
    ok: true,
    detail: [
      `valid: ${mode}, PORT ${config.port}, Puffle ${displayUrl(config.puffle.apiUrl)}, ` +
        `realtime ${config.triggerApiUrl ? displayUrl(config.triggerApiUrl) : "off"}, store ${config.databaseUrl}`,
      secrets.join(", "),
    ].join("\n"),
  };
}

/** A skipped check when a variable it needs is bad; undefined when it has everything. */
function needs(ctx: Context, name: string, variables: Variable[]): DoctorCheck | undefined {
  const missing = ctx.view.config ? variables.filter((v) => ctx.view.bad.has(v)) : [];
  if (ctx.view.config && missing.length === 0) return undefined;
  const what = ctx.view.config
    ? missing.map((v) => (isSet(ctx.env[v]) ? `a valid ${v}` : v)).join(" and ")
    : "a valid configuration";
  return { name, ok: false, skipped: true, detail: `skipped: needs ${what} (see Config)` };
}

// ---- 2. Slack token ----------------------------------------------------------------------------------

const TOKEN_FIX =
  "copy the Bot User OAuth Token (xoxb-...) from your Slack app's OAuth & Permissions page into " +
  "SLACK_BOT_TOKEN (install or reinstall the app to the workspace if there is none, or it was revoked)";

async function checkSlackToken(ctx: Context): Promise<DoctorCheck> {
  const name = "Slack token";
  const skip = needs(ctx, name, ["SLACK_BOT_TOKEN", "SLACK_API_URL"]);
  if (skip || !ctx.view.config) return skip ?? unreachable(name);
  const { apiUrl } = ctx.view.config.slack;
  const botToken = ctx.view.config.slack.botToken ?? "";
  const token = `SLACK_BOT_TOKEN ${maskSecret(botToken)}`;
  const answer = await callSlack(ctx, apiUrl, "auth.test", botToken);
  if (!answer.ok) {
    const fix = answer.slackError ? TOKEN_FIX : answer.fix;
    return { name, ok: false, detail: `${answer.detail}; ${token}`, fix };
  }
  const body = answer.body;
  const who =
    `team ${str(body.team) ?? "?"} (${str(body.team_id) ?? "?"}), ` +
    `bot user @${str(body.user) ?? "?"} (${str(body.user_id) ?? "?"})`;

  const wanted = readManifestScopes(ctx.manifestPath ?? DEFAULT_MANIFEST);
  const header = answer.headers.get("x-oauth-scopes");
  if (typeof wanted === "string") return { name, ok: true, detail: `${who}; scopes not compared: ${wanted}` };
  if (header === null) {
    return {
      name,
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
    return {
      name,
      ok: false,
      detail: `${who}; missing scope${missing.length === 1 ? "" : "s"} that manifest.yml asks for: ${missing.join(", ")}`,
      fix: `add the scope${missing.length === 1 ? "" : "s"} ${missing.join(", ")} in OAuth & Permissions and reinstall the app`,
    };
  }
  return { name, ok: true, detail: `${who}; all ${wanted.length} bot scopes of manifest.yml granted` };
}

/** The bot scopes the manifest asks for, or why they could not be read. */
function readManifestScopes(path: string | URL): string[] | string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return `could not read ${path instanceof URL ? path.pathname : path}`;
  }
  return parseManifestBotScopes(text) ?? "manifest.yml has no oauth_config.scopes.bot list";
}

/**
 * Reads `oauth_config.scopes.bot` from a Slack app manifest. A tiny reader rather than the `yaml`
 * package: that one is a devDependency, and the doctor must run on a production install
 * (`npm ci --omit=dev`). It knows block mappings, block lists (indented or not), a one-line flow
 * list, quotes and comments: what manifests use. A test keeps it in step with `yaml` on manifest.yml.
 */
export function parseManifestBotScopes(text: string): string[] | undefined {
  const path = ["oauth_config", "scopes", "bot"];
  const indents: number[] = [];
  let found = false;
  const scopes: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trimEnd();
    if (line.trim() === "") continue;
    const indent = line.length - line.trimStart().length;
    const content = line.trim();
    if (found) {
      const keyIndent = indents[path.length - 1] ?? 0;
      const item = /^-\s+(.*)$/.exec(content);
      // A list may sit at its key's own indentation ("bot:\n- a") or deeper.
      if (item && indent >= keyIndent) {
        scopes.push(unquote(item[1] ?? ""));
        continue;
      }
      break;
    }
    // Leave the levels this line is not inside of.
    while (indents.length > 0 && indent <= (indents.at(-1) ?? 0)) indents.pop();
    const depth = indents.length;
    if (depth === 0 && indent !== 0) continue;
    const pair = /^("[^"]*"|'[^']*'|[^\s:][^:]*):(?:\s+(.*))?$/.exec(content);
    if (!pair || unquote(pair[1] ?? "") !== path[depth]) continue;
    indents.push(indent);
    if (indents.length < path.length) continue;
    const inline = pair[2]?.trim();
    if (inline) {
      const flow = /^\[(.*)\]$/.exec(inline);
      if (!flow) return undefined;
      return (flow[1] ?? "")
        .split(",")
        .map((s) => unquote(s.trim()))
        .filter(Boolean);
    }
    found = true;
  }
  return found ? scopes : undefined;
}

function unquote(value: string): string {
  const v = value.trim();
  return /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v;
}

// ---- 3. Socket Mode or HTTP mode ---------------------------------------------------------------------

const APP_TOKEN_FIX =
  "create an app-level token with connections:write under Basic Information > App-Level Tokens, put it " +
  "in SLACK_APP_TOKEN, and make sure Socket Mode is on (Settings > Socket Mode)";

async function checkSocketMode(ctx: Context): Promise<DoctorCheck> {
  const name = "Socket Mode";
  const skip = needs(ctx, name, ["SLACK_APP_TOKEN", "SLACK_API_URL"]);
  if (skip || !ctx.view.config) return skip ?? unreachable(name);
  const { config } = ctx.view;
  const appToken = config.slack.appToken ?? "";
  const token = `SLACK_APP_TOKEN ${maskSecret(appToken)}`;
  const answer = await callSlack(ctx, config.slack.apiUrl, "apps.connections.open", appToken);
  if (!answer.ok) {
    const fix = answer.slackError ? APP_TOKEN_FIX : answer.fix;
    return { name, ok: false, detail: `${answer.detail}; ${token}`, fix };
  }
  // Bolt also serves /healthz and /readyz on PORT in Socket Mode: a taken port stops the start there too.
  if (ctx.view.bad.has("PORT")) {
    return {
      name,
      ok: true,
      detail: `Slack opened a connection for ${token}; PORT not checked (see Config)`,
    };
  }
  const port = await probePort(config.port);
  if (!port.ok) {
    return {
      name,
      ok: false,
      detail: `Slack opened a connection for ${token}, but ${port.detail} (the bot serves /healthz and /readyz on it)`,
      fix: port.fix,
    };
  }
  return {
    name,
    ok: true,
    detail: `Slack opened a connection for ${token}; ${port.detail} for /healthz and /readyz`,
  };
}

async function checkHttpMode(ctx: Context): Promise<DoctorCheck> {
  const name = "HTTP mode";
  const skip = needs(ctx, name, ["PORT"]);
  if (skip || !ctx.view.config) return skip ?? unreachable(name);
  const { config } = ctx.view;
  const reminder =
    "Slack's Request URL (Event Subscriptions, Interactivity, and /draft) must be " +
    "https://<public host>/slack/events, forwarded to this port";
  const problems: string[] = [];
  const fixes: string[] = [];
  const secret = ctx.env.SLACK_SIGNING_SECRET?.trim();
  if (ctx.view.bad.has("SLACK_SIGNING_SECRET") || !secret) {
    problems.push("SLACK_SIGNING_SECRET is missing or invalid (see Config)");
    fixes.push(
      "copy the Signing Secret from Basic Information > App Credentials into SLACK_SIGNING_SECRET " +
        "(or set SLACK_APP_TOKEN to use Socket Mode)",
    );
  }
  const port = await probePort(config.port);
  if (!port.ok) {
    problems.push(port.detail);
    fixes.push(port.fix);
  }
  if (problems.length > 0) {
    return { name, ok: false, detail: problems.join("; "), fix: fixes.join("; ") };
  }
  return {
    name,
    ok: true,
    detail: `SLACK_SIGNING_SECRET set (${secret?.length ?? 0} chars); ${port.detail}\n${reminder}`,
  };
}

type PortProbe = { ok: true; detail: string } | { ok: false; detail: string; fix: string };

/** Listens on the port the way Bolt does (every interface) and closes again. */
function probePort(port: number): Promise<PortProbe> {
  if (port === 0) return Promise.resolve({ ok: true, detail: "PORT 0: a free port is picked at each start" });
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      const why =
        error.code === "EADDRINUSE"
          ? `port ${port} is already in use (another program, or the bot already running?)`
          : error.code === "EACCES"
            ? `port ${port} needs more privileges than this user has (ports below 1024 usually do)`
            : `cannot listen on port ${port} (${error.code ?? error.message})`;
      resolve({
        ok: false,
        detail: why,
        fix: `stop whatever listens on port ${port}, or set PORT to a free port (e.g. 3000 or 8080)`,
      });
    });
    server.listen(port, () => {
      server.close(() => resolve({ ok: true, detail: `port ${port} is free to listen on` }));
    });
  });
}

// ---- 4. Puffle ---------------------------------------------------------------------------------------

const KEY_FIX =
  "put a valid Puffle API key (pk_live_...) in PUFFLE_API_KEY; Puffle shows a key only once, so create a " +
  "new one if it is lost (or use the key `npm run emulator` prints, with its PUFFLE_API_URL)";

async function checkPuffle(ctx: Context): Promise<DoctorCheck> {
  const name = "Puffle key";
  const skip = needs(ctx, name, ["PUFFLE_API_KEY", "PUFFLE_API_URL"]);
  if (skip || !ctx.view.config) return skip ?? unreachable(name);
  const { apiUrl, defaultStep } = ctx.view.config.puffle;
  const apiKey = ctx.view.config.puffle.apiKey ?? "";
  const where = displayUrl(apiUrl);
  const reachFix =
    `check PUFFLE_API_URL (now ${where}; default https://app.puffle.ai) and that this machine can ` +
    "make outbound HTTPS requests to it";
  // One retry (not the app's four attempts): an operator waiting at a terminal wants the answer now.
  const client = createPuffleClient({
    baseUrl: apiUrl,
    apiKey,
    logger: createSilentLogger(),
    retry: { maxAttempts: 2 },
  });
  // The client keeps its normal per-attempt timeout; this bounds the whole check.
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  try {
    let campaignCount: number;
    try {
      campaignCount = (await client.listCampaigns({ signal })).length;
    } catch (error) {
      return { name, ...puffleFailure(error, apiKey, where, ctx.timeoutMs, reachFix) };
    }
    const accepted =
      `PUFFLE_API_KEY ${maskSecret(apiKey)} accepted by ${where}: ` +
      `${campaignCount} campaign${campaignCount === 1 ? "" : "s"}`;
    if (ctx.view.bad.has("PUFFLE_CAMPAIGN_ID")) {
      return { name, ok: true, detail: `${accepted}; default step not checked (see Config)` };
    }
    if (!defaultStep) return { name, ok: true, detail: `${accepted}; no default step set` };
    const step = await checkDefaultStep(client, defaultStep, signal);
    if (step.ok) return { name, ok: true, detail: `${accepted}; ${step.detail}` };
    if (step.error) {
      const failed = puffleFailure(step.error, apiKey, where, ctx.timeoutMs, reachFix);
      return {
        name,
        ok: false,
        detail: `${accepted}; reading the default step: ${failed.detail}`,
        fix: failed.fix,
      };
    }
    return { name, ok: false, detail: `${accepted}; ${step.detail}`, fix: step.fix };
  } finally {
    await client.close();
  }
}

type StepCheck = { ok: true; detail: string } | { ok: false; detail: string; fix?: string; error?: unknown };

async function checkDefaultStep(
  client: ReturnType<typeof createPuffleClient>,
  step: { campaignId: string; nodeId: string },
  signal: AbortSignal,
): Promise<StepCheck> {
  const clear = "or clear PUFFLE_CAMPAIGN_ID and PUFFLE_NODE_ID to pick a step per channel";
  let detail: Awaited<ReturnType<typeof client.getCampaign>>;
  try {
    detail = await client.getCampaign(step.campaignId, { signal });
  } catch (error) {
    if (isPuffleError(error) && error.code === "not_found") {
      return {
        ok: false,
        detail: `PUFFLE_CAMPAIGN_ID ${step.campaignId} is not a campaign this key can see`,
        fix: `set PUFFLE_CAMPAIGN_ID to the id of one of your Puffle campaigns, ${clear}`,
      };
    }
    return { ok: false, detail: "", error };
  }
  const draftable: readonly string[] = CONTRACT.draftableNodeTypes;
  const campaign = `"${detail.campaign.name}"`;
  const choices = detail.sequence_nodes
    .filter((node) => draftable.includes(node.type))
    .map((node) => `${node.id} (${node.type}, step ${node.position + 1})`);
  const fix = choices.length
    ? `set PUFFLE_NODE_ID to one of its ${draftable.join(" or ")} steps: ${choices.join(", ")}; ${clear}`
    : `this campaign has no ${draftable.join(" or ")} step: pick another campaign, ${clear}`;
  const node = detail.sequence_nodes.find((n) => n.id.toLowerCase() === step.nodeId);
  if (!node) {
    return { ok: false, detail: `PUFFLE_NODE_ID ${step.nodeId} is not a step of campaign ${campaign}`, fix };
  }
  if (!draftable.includes(node.type)) {
    return {
      ok: false,
      detail: `PUFFLE_NODE_ID is a ${node.type} step of campaign ${campaign}; drafts need an ${draftable.join(" or ")} step`,
      fix,
    };
  }
  return { ok: true, detail: `default step: the ${node.type} step ${node.position + 1} of ${campaign}` };
}

function puffleFailure(
  error: unknown,
  apiKey: string,
  where: string,
  timeoutMs: number,
  reachFix: string,
): { ok: false; detail: string; fix: string } {
  const fail = (detail: string, fix: string) => ({ ok: false as const, detail, fix });
  if (error instanceof AbortedError) {
    return fail(`cannot reach PUFFLE_API_URL (${where}): no answer within ${timeoutMs} ms`, reachFix);
  }
  if (!isPuffleError(error)) {
    return fail(`unexpected error talking to ${where}: ${String(error)}`, reachFix);
  }
  switch (error.code) {
    case "unauthorized":
      return fail(
        `Puffle did not accept PUFFLE_API_KEY ${maskSecret(apiKey)} (HTTP 401 from ${where})`,
        KEY_FIX,
      );
    case "forbidden":
      return fail(
        `Puffle refused PUFFLE_API_KEY ${maskSecret(apiKey)} access to campaigns (HTTP 403)`,
        KEY_FIX,
      );
    case "connection":
    case "timeout":
      return fail(`cannot reach PUFFLE_API_URL (${where}): ${causeOf(error)}`, reachFix);
    case "not_found":
    case "bad_response":
      return fail(
        `${where} did not answer like the Puffle API (${error.message})`,
        "set PUFFLE_API_URL to Puffle's base URL, without /api (default https://app.puffle.ai)",
      );
    case "out_of_credits":
      return fail(error.message, "add credits to the Puffle workspace");
    default:
      return fail(`${error.message} (${where})`, "try again in a minute; if it persists, contact Puffle");
  }
}

/** "ECONNREFUSED" rather than "Could not reach Puffle": the detail already says that much. */
function causeOf(error: PuffleError): string {
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  return typeof cause?.code === "string" ? cause.code : error.message;
}

// ---- 5. realtime -------------------------------------------------------------------------------------

async function checkRealtime(ctx: Context): Promise<DoctorCheck> {
  const name = "Realtime host";
  if (ctx.env.TRIGGER_API_URL === "off") {
    return { name, ok: true, detail: "realtime off: polling only" };
  }
  const skip = needs(ctx, name, ["TRIGGER_API_URL"]);
  if (skip || !ctx.view.config) return skip ?? unreachable(name);
  const url = ctx.view.config.triggerApiUrl;
  if (!url) return { name, ok: true, detail: "realtime off: polling only" };
  try {
    const response = await ctx.fetch(`${url}/`, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
    await response.body?.cancel();
    // Any HTTP answer will do: the host is reachable; run feeds are authorised per run, not here.
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

// ---- helpers -----------------------------------------------------------------------------------------

type SlackAnswer =
  | { ok: true; body: Record<string, unknown>; headers: Headers }
  | { ok: false; detail: string; fix: string; slackError?: string };

/**
 * One Web API call with fetch (not the WebClient: the doctor wants the raw `x-oauth-scopes` header and
 * no retries).
 */
async function callSlack(ctx: Context, apiUrl: string, method: string, token: string): Promise<SlackAnswer> {
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

function networkProblem(error: unknown, timeoutMs: number): string {
  const e = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `no answer within ${timeoutMs} ms`;
  if (typeof e?.cause?.code === "string") return e.cause.code;
  if (typeof e?.cause?.message === "string") return e.cause.message;
  return typeof e?.message === "string" ? e.message : String(error);
}

/** A URL for people: no user:password part, no trailing slash noise. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

function unreachable(name: string): DoctorCheck {
  return { name, ok: false, skipped: true, detail: "skipped: needs a valid configuration (see Config)" };
}

function isSet(value: string | undefined): boolean {
  return Boolean(value?.trim());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
