import { readFileSync } from "node:fs";
import {
  CONFIG_VARIABLES,
  type Config,
  ConfigError,
  type ConfigProblem,
  PLACEHOLDERS,
  parseConfig,
  placeholdersIn,
  placeholderVariables,
} from "../config.ts";
import { type ConfigView, type Env, NOT_SET_PLACEHOLDER, type Variable } from "./check.ts";
import { displayUrl, maskSecret, plural } from "./words.ts";

/**
 * The Config check, and the config the other checks work from. An invalid config is pieced together
 * from its good variables (stand-ins take the place of bad ones), so every check that has what it
 * needs still runs and one run shows every problem. A check never uses a stand-in: it skips when a
 * variable it needs is bad.
 */

export const SECRET_VARIABLES = [
  "SLACK_BOT_TOKEN",
  "SLACK_APP_TOKEN",
  "SLACK_SIGNING_SECRET",
  "PUFFLE_API_KEY",
  "SLACK_CLIENT_SECRET",
  "SLACK_STATE_SECRET",
  "ENCRYPTION_KEY",
  "ENCRYPTION_KEY_PREVIOUS",
] as const;

const OAUTH_VARIABLES = ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET"] as const;

/** The placeholders `.env.example` ships with, read from the file itself (the built-in list if it is gone). */
export function readPlaceholders(examplePath: string | URL): Readonly<Record<string, string>> {
  try {
    return placeholdersIn(readFileSync(examplePath, "utf8"));
  } catch {
    return PLACEHOLDERS;
  }
}

export function inspectConfig(env: Env, placeholders: Readonly<Record<string, string>>): ConfigView {
  const held = new Set(placeholderVariables(env, placeholders));
  try {
    const config = parseConfig(env, { placeholders });
    return { check: configPassed(env, config, held), config, bad: new Set(), placeholders: held };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      check: {
        name: "Config",
        ok: false,
        detail: [
          `${plural(error.problems.length, "problem")}:`,
          ...error.problems.map((problem) => `- ${problem.variable} ${problem.message}`),
        ].join("\n"),
        fix: "edit .env (or the environment) to fix each problem listed; .env.example describes every variable",
      },
      ...partialConfig(env, error.problems, placeholders),
      placeholders: held,
    };
  }
}

/** Which variables the problems are about, and the config the others make. */
function partialConfig(
  env: Env,
  problems: readonly ConfigProblem[],
  placeholders: Readonly<Record<string, string>>,
): Pick<ConfigView, "config" | "bad"> {
  const known: readonly string[] = CONFIG_VARIABLES;
  const nothing = { config: undefined, bad: new Set<string>(CONFIG_VARIABLES) };
  if (problems.some((problem) => !known.includes(problem.variable))) return nothing;
  const bad = new Set(problems.map((problem) => problem.variable));
  // The default step is a pair: half of it is no use.
  if (bad.has("PUFFLE_CAMPAIGN_ID") || bad.has("PUFFLE_NODE_ID")) {
    bad.add("PUFFLE_CAMPAIGN_ID");
    bad.add("PUFFLE_NODE_ID");
  }
  const isSet = (name: string) => Boolean(env[name]?.trim()) && env[name]?.trim() !== placeholders[name];
  const oauth = OAUTH_VARIABLES.some(isSet);
  const repaired: Env = { ...env };
  for (const name of bad) repaired[name] = standIn(name as Variable, oauth);
  try {
    return { config: parseConfig(repaired, { placeholders }), bad };
  } catch {
    return nothing;
  }
}

/** A value that passes validation in the mode the operator chose (undefined: leave it unset). */
function standIn(name: Variable, oauth: boolean): string | undefined {
  switch (name) {
    case "SLACK_BOT_TOKEN":
      return oauth ? undefined : "xoxb-doctor-stand-in";
    case "SLACK_APP_TOKEN":
      return oauth ? undefined : "xapp-doctor-stand-in";
    case "PUFFLE_API_KEY":
      return oauth ? undefined : "doctor-stand-in";
    case "SLACK_SIGNING_SECRET":
    case "SLACK_CLIENT_SECRET":
      return "doctor-stand-in";
    case "SLACK_CLIENT_ID":
      return "1.1";
    case "SLACK_STATE_SECRET":
      return "doctor-stand-in-state-secret";
    case "ENCRYPTION_KEY":
      return Buffer.alloc(32).toString("base64");
    default:
      return undefined;
  }
}

function configPassed(
  env: Env,
  config: Config,
  held: ReadonlySet<string>,
): { name: string; ok: true; detail: string } {
  const secrets = SECRET_VARIABLES.flatMap((name) => {
    if (held.has(name)) return [`${name} ${NOT_SET_PLACEHOLDER}`];
    const value = env[name]?.trim();
    return value ? [`${name} ${maskSecret(value)}`] : [];
  });
  const transport = config.slack.mode === "socket" ? "Socket Mode" : "HTTP mode";
  const workspaces = config.slack.oauth
    ? "OAuth installs in many workspaces (client id, secret, state secret and ENCRYPTION_KEY set)"
    : "one workspace (SLACK_BOT_TOKEN)";
  return {
    name: "Config",
    ok: true,
    detail: [
      `valid: ${transport}, ${workspaces}, PORT ${config.port}, Puffle ${displayUrl(config.puffle.apiUrl)}, ` +
        `realtime ${config.triggerApiUrl ? displayUrl(config.triggerApiUrl) : "off"}, store ${storeKind(config.databaseUrl)}`,
      secrets.join(", "),
    ].join("\n"),
  };
}

/** The store without its URL: a postgres:// URL may hold a password. */
function storeKind(databaseUrl: string): string {
  return databaseUrl.startsWith("sqlite:") ? databaseUrl : "PostgreSQL (see Store)";
}
