import { createSecretScrubber } from "../logger.ts";
import type { DoctorCheck, DoctorContext, DoctorReport, Env } from "./check.ts";
import { inspectConfig, readPlaceholders, SECRET_VARIABLES } from "./config.ts";
import { checkPuffle } from "./puffle-key.ts";
import { checkRealtime } from "./realtime-host.ts";
import { formatReport, reportOf } from "./report.ts";
import { checkSlackMode } from "./slack-mode.ts";
import { checkSlackToken, DEFAULT_MANIFEST, parseManifestBotScopes } from "./slack-token.ts";
import { checkStore } from "./store.ts";
import { maskSecret } from "./words.ts";

/**
 * `npm run doctor`: checks an operator's set-up piece by piece (config, Slack token and scopes, Socket
 * Mode or HTTP mode, Puffle key and default step, realtime host, store) and says in plain words what to
 * fix. Every check runs that has what it needs, even when the config as a whole is invalid, so one run
 * shows every problem. No secret is ever printed.
 */

export type { CheckStatus, DoctorCheck, DoctorReport } from "./check.ts";
export { statusOf } from "./check.ts";
export { formatReport, maskSecret, parseManifestBotScopes };

export interface DoctorOptions {
  /** Used for the Slack and realtime checks; the Puffle check goes through the app's own client. */
  fetch?: typeof fetch;
  /** Deadline for each network check. Default 5000 ms. */
  timeoutMs?: number;
  /** The Slack app manifest whose bot scopes the token must have. Default: the project's manifest.yml. */
  manifestPath?: string | URL;
  /** Where the placeholders come from. Default: the project's .env.example. */
  examplePath?: string | URL;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_EXAMPLE = new URL("../../.env.example", import.meta.url);

export async function runDoctor(env: Env, options: DoctorOptions = {}): Promise<DoctorReport> {
  const view = inspectConfig(env, readPlaceholders(options.examplePath ?? DEFAULT_EXAMPLE));
  const ctx: DoctorContext = {
    env,
    view,
    fetch: options.fetch ?? fetch,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    manifestPath: options.manifestPath ?? DEFAULT_MANIFEST,
  };

  // The Puffle client's retry sleeps and AbortSignal.timeout do not hold the event loop open; in a CLI
  // with nothing else running, a wait on them alone would end the process mid-check.
  const keepAlive = setInterval(() => {}, 1000);
  let later: DoctorCheck[];
  try {
    // Independent of each other: run them at once (several timeouts do not add up), report in order.
    later = await Promise.all([
      checkSlackToken(ctx),
      checkSlackMode(ctx),
      checkPuffle(ctx),
      checkRealtime(ctx),
      checkStore(ctx),
    ]);
  } finally {
    clearInterval(keepAlive);
  }
  // Belt and braces: whatever an error message carried, no secret value reaches the report.
  const scrub = createSecretScrubber([
    ...SECRET_VARIABLES.map((name) => env[name]?.trim()),
    databasePassword(env.DATABASE_URL),
  ]);
  const checks = [view.check, ...later].map((check) => ({
    ...check,
    detail: scrub(check.detail),
    ...(check.fix === undefined ? {} : { fix: scrub(check.fix) }),
  }));
  return reportOf(checks);
}

function databasePassword(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url.trim()).password) || undefined : undefined;
  } catch {
    return undefined;
  }
}
