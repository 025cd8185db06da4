import { type DoctorCheck, type DoctorReport, statusOf } from "./check.ts";
import { plural } from "./words.ts";

/** The mark before each check: passed, failed, a warning (the bot runs, degraded), skipped. */
const MARKS = { passed: "✓", failed: "✗", warning: "!", skipped: "–" } as const;

/** Nothing failed: warnings and skipped checks do not fail the run. */
export function reportOf(checks: DoctorCheck[]): DoctorReport {
  return { ok: checks.every((check) => statusOf(check) !== "failed"), checks };
}

/** The report as the CLI prints it: one line per check, an indented fix under each problem, a summary. */
export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    const status = statusOf(check);
    const [first = "", ...rest] = check.detail.split("\n");
    lines.push(`${MARKS[status]} ${check.name}: ${first}${status === "warning" ? " (warning)" : ""}`);
    for (const line of rest) lines.push(`    ${line}`);
    if ((status === "failed" || status === "warning") && check.fix) lines.push(`    fix: ${check.fix}`);
  }
  lines.push("", summary(report.checks));
  return `${lines.join("\n")}\n`;
}

function summary(checks: DoctorCheck[]): string {
  const count = (status: ReturnType<typeof statusOf>) => checks.filter((c) => statusOf(c) === status).length;
  const total = checks.length;
  const passed = count("passed");
  if (passed === total) return `All ${total} checks passed.`;
  const failed = count("failed");
  const warnings = count("warning");
  const skipped = count("skipped");
  const parts = [
    ...(failed ? [`${failed} failed`] : []),
    ...(warnings ? [plural(warnings, "warning")] : []),
    ...(skipped ? [`${skipped} skipped`] : []),
  ];
  return `${passed} of ${total} checks passed, ${parts.join(", ")}.`;
}
