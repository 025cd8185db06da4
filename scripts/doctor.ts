// `npm run doctor`: checks the set-up (config, Slack, Puffle, realtime, store) and says what to fix.
// Reads the environment like `npm start` does: the process environment merged over ./.env.
// Exits 1 when a check failed; warnings (the bot runs, degraded) and skipped checks exit 0.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { readEnvironment } from "../src/config.ts";
import { formatReport, runDoctor } from "../src/doctor/index.ts";

const envFile = ".env";
const source = existsSync(envFile)
  ? `the environment and ${resolve(envFile)}`
  : `the environment (no .env in ${process.cwd()})`;
process.stdout.write(`Puffle Drafter doctor: reading ${source}\n\n`);

const report = await runDoctor(readEnvironment(envFile));
process.stdout.write(formatReport(report));
process.exitCode = report.ok ? 0 : 1;
