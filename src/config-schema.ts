import { z } from "zod";

/** What each environment variable may hold (SPEC section 4), one zod schema; an empty value is unset. */

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

/** 32 random bytes, base64: `openssl rand -base64 32` or `node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`. */
const base64Key = (name: string) =>
  z
    .string()
    .trim()
    .refine(
      (value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, "base64").length === 32,
      `must be 32 random bytes in base64 (44 characters); make one with: openssl rand -base64 32 (${name})`,
    )
    .transform((value) => Buffer.from(value, "base64"));

export const envSchema = z.object({
  SLACK_BOT_TOKEN: optional(z.string().trim().startsWith("xoxb-", "must be a bot token starting with xoxb-")),
  SLACK_SIGNING_SECRET: optional(z.string().trim().min(8, "looks too short to be a signing secret")),
  SLACK_APP_TOKEN: optional(
    z.string().trim().startsWith("xapp-", "must be an app-level token starting with xapp- (Socket Mode)"),
  ),
  SLACK_API_URL: z.preprocess(
    emptyToUndefined,
    httpUrl("the Slack Web API").default("https://slack.com/api/"),
  ),
  PORT: z.preprocess(emptyToUndefined, integer("TCP port", 0, 65535).default(3000)),
  PUFFLE_API_KEY: optional(z.string().trim().min(8, "looks too short to be a Puffle API key")),
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
  SLACK_CLIENT_ID: optional(
    z
      .string()
      .trim()
      .regex(/^\d+\.\d+$/, "must look like 1234567890.1234567890 (Basic Information > App Credentials)"),
  ),
  SLACK_CLIENT_SECRET: optional(z.string().trim().min(8, "looks too short to be a client secret")),
  SLACK_STATE_SECRET: optional(
    z.string().trim().min(16, "must be at least 16 characters (any random string)"),
  ),
  ENCRYPTION_KEY: optional(base64Key("ENCRYPTION_KEY")),
  ENCRYPTION_KEY_PREVIOUS: optional(base64Key("ENCRYPTION_KEY_PREVIOUS")),
  PUFFLE_MAX_RPM: z.preprocess(emptyToUndefined, integer("requests per minute", 1, 100_000).default(100)),
  METRICS: z.preprocess(
    (value) => (typeof value === "string" ? emptyToUndefined(value.trim().toLowerCase()) : value),
    z.enum(["on", "off"], { error: "must be on or off" }).default("on"),
  ),
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
