import type { Config } from "../config.ts";
import { storeKindOf, storeLocationOf } from "../store/index.ts";
import { networkReason, type StartTarget } from "./start-retry.ts";

/**
 * What a start-up says before it reaches anything (SPEC 10), the secrets its logger must hide, and
 * the store as a start-up target.
 */

/** host[:port] of a URL, without credentials or path. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(unparsable URL)";
  }
}

/** The fields of the first log line: mode, where Slack, Puffle, realtime and the store are. */
export function startupFields(config: Config) {
  return {
    mode: config.slack.mode,
    workspaces: config.slack.oauth ? "oauth" : "single",
    slack: hostOf(config.slack.apiUrl),
    puffle: hostOf(config.puffle.apiUrl),
    realtime: config.triggerApiUrl ? hostOf(config.triggerApiUrl) : "off",
    store: storeKindOf(config.databaseUrl),
    storeAt: storeLocationOf(config.databaseUrl),
    port: config.port,
  };
}

/** Every secret value of the config, for the logger to blank out wherever it appears. */
export function configSecrets(config: Config): string[] {
  const values = [
    config.slack.botToken,
    config.slack.appToken,
    config.slack.signingSecret,
    config.slack.oauth?.clientSecret,
    config.slack.oauth?.stateSecret,
    config.puffle.apiKey,
    // The keys are decoded in the config; in a line they would appear as the base64 they were given in.
    config.encryption?.key.toString("base64"),
    config.encryption?.previous?.toString("base64"),
    databasePassword(config.databaseUrl),
  ];
  return values.filter((value): value is string => typeof value === "string" && value.length > 0);
}

function databasePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** PostgreSQL error codes of a server that will take connections a moment later. */
const POSTGRES_BUSY = new Set(["57P03", "53300"]);

/** The store as the start-up reaches it: a PostgreSQL server refusing or not answering is tried again. */
export function storeTarget(databaseUrl: string): StartTarget {
  const postgres = storeKindOf(databaseUrl) === "postgres";
  return {
    name: "store",
    label: postgres ? "the PostgreSQL store" : "the SQLite store",
    host: storeLocationOf(databaseUrl),
    transient(error) {
      // A SQLite file is there or it is not: waiting changes nothing.
      if (!postgres) return undefined;
      const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
      if (typeof code === "string" && POSTGRES_BUSY.has(code)) return { reason: code };
      const network = networkReason(error);
      if (network) return { reason: network };
      if (typeof message === "string" && /timeout|terminated/i.test(message)) return { reason: "timeout" };
      return undefined;
    },
  };
}
