import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { z } from "zod";

/**
 * The one place that reads the environment. Everything else receives a typed `Config`.
 * Names are those of SPEC section 4; an empty value counts as unset.
 */

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const emptyToUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyToUndefined, schema.optional());

const httpUrl = (what: string) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        const url = new URL(value);
        return url.protocol === "http:" || url.protocol === "https:";
      } catch {
        return false;
      }
    }, `must be an http(s) URL for ${what}, e.g. https://example.com`);

const integer = (what: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number (${what})`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max} (${what})`);

const uuid = z
  .string()
  .trim()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    "must be a UUID like 3f2c8a1e-0b7d-4e59-9c1a-2d4e6f8a0b1c",
  );

const envSchema = z.object({
  SLACK_BOT_TOKEN: z.preprocess(
    emptyToUndefined,
    z
      .string({
        error: "is required: the bot token from your Slack app's OAuth & Permissions page (xoxb-...)",
      })
      .trim()
      .startsWith("xoxb-", "must be a bot token starting with xoxb-"),
  ),
  SLACK_SIGNING_SECRET: optional(z.string().trim().min(8, "looks too short to be a signing secret")),
  SLACK_APP_TOKEN: optional(
    z.string().trim().startsWith("xapp-", "must be an app-level token starting with xapp- (Socket Mode)"),
  ),
  SLACK_API_URL: z.preprocess(
    emptyToUndefined,
    httpUrl("the Slack Web API").default("https://slack.com/api/"),
  ),
  PORT: z.preprocess(emptyToUndefined, integer("TCP port", 0, 65535).default(3000)),
  PUFFLE_API_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string({ error: "is required: a Puffle API key (pk_live_...), or the key `npm run emulator` prints" })
      .trim(),
  ),
  PUFFLE_API_URL: z.preprocess(emptyToUndefined, httpUrl("the Puffle API").default("https://app.puffle.ai")),
  PUFFLE_CAMPAIGN_ID: optional(uuid),
  PUFFLE_NODE_ID: optional(uuid),
  TRIGGER_API_URL: z.preprocess(
    emptyToUndefined,
    z
      .union([z.literal("off"), httpUrl("Trigger.dev realtime (or the word off)")])
      .default("https://api.trigger.dev"),
  ),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .refine(
        (value) =>
          (value.startsWith("sqlite:") && value.length > "sqlite:".length) ||
          /^postgres(ql)?:\/\/[^/]/i.test(value),
        "must be sqlite:<path> (e.g. sqlite:./data/puffle-drafter.db), sqlite::memory:, or postgres://user:password@host:5432/db for several replicas",
      )
      .default("sqlite:./data/puffle-drafter.db"),
  ),
  LOG_LEVEL: z.preprocess(
    (value) => (typeof value === "string" ? emptyToUndefined(value.toLowerCase()) : value),
    z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  ),
  POLL_INTERVAL_MS: z.preprocess(emptyToUndefined, integer("milliseconds", 50, 60_000).default(2000)),
  TURN_TIMEOUT_MS: z.preprocess(emptyToUndefined, integer("milliseconds", 1000, 3_600_000).default(300_000)),
  LEASE_TTL_MS: z.preprocess(emptyToUndefined, integer("milliseconds", 1000, 600_000).default(15_000)),
  ALLOWED_CHANNEL_IDS: optional(
    z
      .string()
      .transform((value) =>
        value
          .split(",")
          .map((id) => id.trim())
          .filter(Boolean),
      )
      .refine(
        (ids) => ids.every((id) => /^[CGD][A-Z0-9]{2,}$/.test(id)),
        "must be a comma-separated list of channel ids like C0123ABCD",
      ),
  ),
});

export interface Config {
  slack: {
    botToken: string;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string;
    mode: "socket" | "http";
  };
  port: number;
  puffle: {
    apiKey: string;
    apiUrl: string;
    defaultStep: { campaignId: string; nodeId: string } | undefined;
  };
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

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Configuration is not valid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Parses an environment-like record. Throws a ConfigError listing every problem at once. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  // Never echo a value in a problem: it may be a secret.
  const problems = parsed.success
    ? []
    : parsed.error.issues.map(
        (issue) => `${issue.path.map(String).join(".") || "environment"} ${issue.message}`,
      );
  problems.push(...crossFieldProblems(env));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL.endsWith("/") ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
      mode: e.SLACK_APP_TOKEN ? "socket" : "http",
    },
    port: e.PORT,
    puffle: {
      apiKey: e.PUFFLE_API_KEY,
      apiUrl: e.PUFFLE_API_URL.replace(/\/+$/, ""),
      defaultStep:
        e.PUFFLE_CAMPAIGN_ID && e.PUFFLE_NODE_ID
          ? { campaignId: e.PUFFLE_CAMPAIGN_ID.toLowerCase(), nodeId: e.PUFFLE_NODE_ID.toLowerCase() }
          : undefined,
    },
    triggerApiUrl: e.TRIGGER_API_URL === "off" ? undefined : e.TRIGGER_API_URL.replace(/\/+$/, ""),
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    turnTimeoutMs: e.TURN_TIMEOUT_MS,
    leaseTtlMs: e.LEASE_TTL_MS,
    allowedChannelIds: e.ALLOWED_CHANNEL_IDS?.length ? new Set(e.ALLOWED_CHANNEL_IDS) : undefined,
  };
}

/** Rules between variables, checked on the raw values so they are reported with the rest. */
function crossFieldProblems(env: Record<string, string | undefined>): string[] {
  const set = (name: string) => Boolean(env[name]?.trim());
  const problems: string[] = [];
  if (!set("SLACK_APP_TOKEN") && !set("SLACK_SIGNING_SECRET")) {
    problems.push(
      "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode): find it under Basic Information > App Credentials",
    );
  }
  if (set("PUFFLE_CAMPAIGN_ID") !== set("PUFFLE_NODE_ID")) {
    const missing = set("PUFFLE_CAMPAIGN_ID") ? "PUFFLE_NODE_ID" : "PUFFLE_CAMPAIGN_ID";
    problems.push(
      `${missing} must be set together with the other one (PUFFLE_CAMPAIGN_ID and PUFFLE_NODE_ID form the default step)`,
    );
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
