import { type CONFIG_VARIABLES, type Config, NOT_SET_PLACEHOLDER } from "../config.ts";

export { NOT_SET_PLACEHOLDER };

/** What the doctor found about one piece of the set-up. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure or a warning, in plain words. */
  fix?: string;
  /** Not run: a variable it needs is missing or invalid, or the mode does not use it. */
  skipped?: boolean;
  /** A problem the bot can live with (it degrades rather than stops): it does not fail the run. */
  warning?: boolean;
}

export interface DoctorReport {
  /** True when nothing failed: warnings and skipped checks do not count against it. */
  ok: boolean;
  checks: DoctorCheck[];
}

export type Env = Record<string, string | undefined>;
export type Variable = (typeof CONFIG_VARIABLES)[number];

/** The config as the checks see it, even when it is invalid as a whole. */
export interface ConfigView {
  check: DoctorCheck;
  /** The config, with stand-ins for bad variables; undefined when it could not be pieced together. */
  config: Config | undefined;
  /** Variables that are missing (when required) or invalid. */
  bad: ReadonlySet<string>;
  /** Variables still holding their `.env.example` placeholder: they count as unset. */
  placeholders: ReadonlySet<string>;
}

export interface DoctorContext {
  env: Env;
  view: ConfigView;
  fetch: typeof fetch;
  /** Deadline for each network check. */
  timeoutMs: number;
  manifestPath: string | URL;
}

/** A check's outcome in one word: what the report's mark shows. */
export type CheckStatus = "passed" | "failed" | "warning" | "skipped";

export function statusOf(check: DoctorCheck): CheckStatus {
  if (check.ok) return "passed";
  if (check.skipped) return "skipped";
  return check.warning ? "warning" : "failed";
}

/** Set to a real value: not empty, and not the placeholder copied from `.env.example`. */
export function isSet(ctx: Pick<DoctorContext, "env" | "view">, name: string): boolean {
  return Boolean(ctx.env[name]?.trim()) && !ctx.view.placeholders.has(name);
}

export function skipped(name: string, why: string): DoctorCheck {
  return { name, ok: false, skipped: true, detail: `skipped: ${why}` };
}

/** The config when a check has every variable it needs; otherwise the skipped check that says what is missing. */
export function needs(
  ctx: DoctorContext,
  name: string,
  variables: Variable[],
): { config: Config; skip?: undefined } | { config?: undefined; skip: DoctorCheck } {
  const { config, bad } = ctx.view;
  if (!config) return { skip: skipped(name, "needs a valid configuration (see Config)") };
  const missing = variables.filter((v) => bad.has(v));
  if (missing.length === 0) return { config };
  const placeholder = missing.find((v) => ctx.view.placeholders.has(v));
  if (placeholder) return { skip: skipped(name, `needs ${placeholder}, which is ${NOT_SET_PLACEHOLDER}`) };
  const what = missing.map((v) => (isSet(ctx, v) ? `a valid ${v}` : v)).join(" and ");
  return { skip: skipped(name, `needs ${what} (see Config)`) };
}
