import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { envSchema, type LOG_LEVELS } from "./config-schema.ts";

/**
 * The one place that reads the environment. Everything else receives a typed `Config`.
 * Names are those of SPEC section 4; an empty value counts as unset. What each variable may hold is
 * in config-schema.ts; how they go together (modes, pairs, placeholders) is here.
 */

export { LOG_LEVELS } from "./config-schema.ts";

export interface Config {
  slack: {
    /** Single-workspace mode: the bot token. Undefined in OAuth mode (each installation has its own). */
    botToken: string | undefined;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string;
    mode: "socket" | "http";
    /** OAuth mode (installs in many workspaces): on when the three OAuth variables are set. */
    oauth: { clientId: string; clientSecret: string; stateSecret: string } | undefined;
  };
  port: number;
  puffle: {
    /** The key for workspaces without their own (required in single-workspace mode). */
    apiKey: string | undefined;
    apiUrl: string;
    defaultStep: { campaignId: string; nodeId: string } | undefined;
    /** Requests per minute per Puffle key, shared by all replicas. */
    maxRpm: number;
  };
  /** Encrypts tokens and keys at rest (OAuth mode); `previous` still decrypts older rows. */
  encryption: { key: Buffer; previous: Buffer | undefined } | undefined;
  /** GET /metrics on PORT. */
  metrics: boolean;
  /** Trigger.dev realtime base URL, or undefined when realtime is off. */
  triggerApiUrl: string | undefined;
  databaseUrl: string;
  logLevel: (typeof LOG_LEVELS)[number];
  pollIntervalMs: number;
  turnTimeoutMs: number;
  /** How long a replica's hold on a thread lasts without renewal. */
  leaseTtlMs: number;
  allowedChannelIds: ReadonlySet<string> | undefined;
}

/** Problems listed in the order the variables are documented (stable for people and tests). */
function inVariableOrder(problems: ConfigProblem[]): ConfigProblem[] {
  const order = Object.keys(envSchema.shape);
  const rank = (p: ConfigProblem) => {
    const index = order.indexOf(p.variable);
    return index === -1 ? order.length : index;
  };
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => rank(a.problem) - rank(b.problem) || a.index - b.index)
    .map(({ problem }) => problem);
}

/** One thing wrong with the configuration: which variable, and what (never its value). */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`Configuration is not valid:\n${problems.map((p) => `  - ${p.variable} ${p.message}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * The values `.env.example` ships with. A variable still holding one was copied, not filled in: it
 * counts as unset, so the bot says so instead of trying it against Slack or Puffle. A test keeps this
 * map equal to the file's values (`placeholdersIn`).
 */
export const PLACEHOLDERS: Readonly<Record<string, string>> = {
  SLACK_BOT_TOKEN: "xoxb-your-bot-token",
  SLACK_APP_TOKEN: "xapp-your-app-token",
  PUFFLE_API_KEY: "pk_live_your-key",
};

/** How a variable still holding its placeholder is named, by the config error and the doctor alike. */
export const NOT_SET_PLACEHOLDER = "not set (still the .env.example placeholder)";

/** The placeholders of an `.env.example` text: each variable it gives a value, with that value. */
export function placeholdersIn(exampleText: string): Record<string, string> {
  const placeholders: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseEnv(exampleText))) {
    if (value?.trim()) placeholders[name] = value.trim();
  }
  return placeholders;
}

/** The variables of `env` still holding their placeholder, in the order of `env`. */
export function placeholderVariables(
  env: Record<string, string | undefined>,
  placeholders: Readonly<Record<string, string>> = PLACEHOLDERS,
): string[] {
  return Object.keys(env).filter((name) => {
    const placeholder = placeholders[name];
    return placeholder !== undefined && env[name]?.trim() === placeholder;
  });
}

export interface ParseOptions {
  /** Values that count as unset (default: the ones `.env.example` ships with). */
  placeholders?: Readonly<Record<string, string>>;
}

/** Parses an environment-like record. Throws a ConfigError listing every problem at once. */
export function parseConfig(env: Record<string, string | undefined>, options: ParseOptions = {}): Config {
  const held = new Set(placeholderVariables(env, options.placeholders));
  const effective = held.size === 0 ? env : { ...env };
  for (const name of held) effective[name] = undefined;
  const parsed = envSchema.safeParse(effective);
  // Never echo a value in a problem: it may be a secret.
  const problems: ConfigProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        variable: issue.path.map(String).join(".") || "environment",
        message: issue.message,
      }));
  problems.push(...crossFieldProblems(effective, held));
  if (!parsed.success || problems.length > 0) {
    const named = problems.map((problem) =>
      held.has(problem.variable)
        ? { ...problem, message: `is ${NOT_SET_PLACEHOLDER}; it ${problem.message}` }
        : problem,
    );
    throw new ConfigError(inVariableOrder(named));
  }
  const e = parsed.data;
  return {
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL.endsWith("/") ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
      mode: e.SLACK_APP_TOKEN ? "socket" : "http",
      oauth:
        e.SLACK_CLIENT_ID && e.SLACK_CLIENT_SECRET && e.SLACK_STATE_SECRET
          ? {
              clientId: e.SLACK_CLIENT_ID,
              clientSecret: e.SLACK_CLIENT_SECRET,
              stateSecret: e.SLACK_STATE_SECRET,
            }
          : undefined,
    },
    port: e.PORT,
    puffle: {
      apiKey: e.PUFFLE_API_KEY,
      apiUrl: e.PUFFLE_API_URL.replace(/\/+$/, ""),
      defaultStep:
        e.PUFFLE_CAMPAIGN_ID && e.PUFFLE_NODE_ID
          ? { campaignId: e.PUFFLE_CAMPAIGN_ID.toLowerCase(), nodeId: e.PUFFLE_NODE_ID.toLowerCase() }
          : undefined,
      maxRpm: e.PUFFLE_MAX_RPM,
    },
    encryption: e.ENCRYPTION_KEY ? { key: e.ENCRYPTION_KEY, previous: e.ENCRYPTION_KEY_PREVIOUS } : undefined,
    metrics: e.METRICS === "on",
    triggerApiUrl: e.TRIGGER_API_URL === "off" ? undefined : e.TRIGGER_API_URL.replace(/\/+$/, ""),
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    turnTimeoutMs: e.TURN_TIMEOUT_MS,
    leaseTtlMs: e.LEASE_TTL_MS,
    allowedChannelIds: e.ALLOWED_CHANNEL_IDS?.length ? new Set(e.ALLOWED_CHANNEL_IDS) : undefined,
  };
}

const OAUTH_VARIABLES = ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET"] as const;

/** Rules between variables, checked on the raw values so they are reported with the rest. */
function crossFieldProblems(
  env: Record<string, string | undefined>,
  held: ReadonlySet<string>,
): ConfigProblem[] {
  const set = (name: string) => Boolean(env[name]?.trim());
  const problems: ConfigProblem[] = [];
  const oauthSet = OAUTH_VARIABLES.filter(set);
  const oauth = oauthSet.length > 0;
  if (oauth && set("SLACK_BOT_TOKEN")) {
    problems.push({
      variable: "SLACK_BOT_TOKEN",
      message:
        "and the OAuth variables are both set: choose one. SLACK_BOT_TOKEN runs the bot in one workspace; " +
        "SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET let any workspace install it. Unset the other.",
    });
  } else if (!oauth && !set("SLACK_BOT_TOKEN")) {
    problems.push({
      variable: "SLACK_BOT_TOKEN",
      message:
        "is required: the bot token from your Slack app's OAuth & Permissions page (xoxb-...). " +
        "(Or set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET to install in many workspaces.)",
    });
  }
  if (oauth) {
    for (const name of OAUTH_VARIABLES)
      if (!set(name))
        problems.push({
          variable: name,
          message: "is required with the other OAuth variables (installs in many workspaces)",
        });
    if (set("SLACK_APP_TOKEN"))
      problems.push({
        variable: "SLACK_APP_TOKEN",
        message:
          "cannot be used with OAuth installs: distributed apps use HTTP (unset SLACK_APP_TOKEN and set SLACK_SIGNING_SECRET)",
      });
    if (!set("ENCRYPTION_KEY"))
      problems.push({
        variable: "ENCRYPTION_KEY",
        message:
          "is required with OAuth installs (tokens and Puffle keys are encrypted at rest): openssl rand -base64 32",
      });
  } else if (!set("PUFFLE_API_KEY")) {
    problems.push({
      variable: "PUFFLE_API_KEY",
      message: "is required: a Puffle API key (pk_live_...), or the key `npm run emulator` prints",
    });
  }
  if (!set("SLACK_APP_TOKEN") && !set("SLACK_SIGNING_SECRET") && held.has("SLACK_APP_TOKEN") && !oauth) {
    // .env copied as it is: the shipped manifest is a Socket Mode app, so the token is what is missing.
    problems.push({
      variable: "SLACK_APP_TOKEN",
      message:
        "is needed: manifest.yml as shipped uses Socket Mode, so put the app-level token (xapp-..., Basic " +
        "Information > App-Level Tokens, scope connections:write) here; or set SLACK_SIGNING_SECRET for HTTP mode",
    });
  } else if (!set("SLACK_APP_TOKEN") && !set("SLACK_SIGNING_SECRET")) {
    problems.push({
      variable: "SLACK_SIGNING_SECRET",
      message:
        "is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode): find it under Basic Information > App Credentials",
    });
  }
  if (set("ENCRYPTION_KEY_PREVIOUS") && !set("ENCRYPTION_KEY"))
    problems.push({
      variable: "ENCRYPTION_KEY",
      message: "is required when ENCRYPTION_KEY_PREVIOUS is set (the new key)",
    });
  if (set("PUFFLE_CAMPAIGN_ID") !== set("PUFFLE_NODE_ID")) {
    const missing = set("PUFFLE_CAMPAIGN_ID") ? "PUFFLE_NODE_ID" : "PUFFLE_CAMPAIGN_ID";
    problems.push({
      variable: missing,
      message:
        "must be set together with the other one (PUFFLE_CAMPAIGN_ID and PUFFLE_NODE_ID form the default step)",
    });
  }
  return problems;
}

/**
 * The process environment merged over `.env` (when present): a variable set in the
 * environment wins, like most dotenv loaders.
 */
export function readEnvironment(
  envFile = ".env",
  processEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [name, value] of Object.entries(processEnv)) {
    if (value !== undefined && value !== "") merged[name] = value;
  }
  return merged;
}

export function loadConfig(envFile = ".env"): Config {
  return parseConfig(readEnvironment(envFile));
}

/** Every variable the app reads, for docs and for the test that keeps .env.example honest. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];
