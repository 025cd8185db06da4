// `npm run emulator`: a stand-alone Puffle emulator for trying the bot in a real Slack workspace.
// Options: --port N (or EMULATOR_PORT, default 4010), --host H (default 127.0.0.1),
// --task-delay-ms N (or EMULATOR_TASK_DELAY_MS, default 4000), --api-key K, --quiet.
import { parseArgs } from "node:util";
import { SEED } from "./seed.ts";
import { DEFAULT_API_KEY, startEmulator } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "task-delay-ms": { type: "string" },
    "api-key": { type: "string", default: DEFAULT_API_KEY },
    quiet: { type: "boolean", default: false },
  },
});

function numberOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const port = numberOption("port", values.port ?? process.env.EMULATOR_PORT, 4010);
const taskDelayMs = numberOption(
  "task delay",
  values["task-delay-ms"] ?? process.env.EMULATOR_TASK_DELAY_MS,
  4000,
);

const emulator = await startEmulator({
  port,
  host: values.host,
  apiKey: values["api-key"],
  taskDelayMs,
  // Examples take longer than a turn, and longer with more leads, as in Puffle.
  examplesDelayMs: Math.round(taskDelayMs * 1.5),
  examplesPerLeadMs: Math.round(taskDelayMs / 8),
  realtimeHoldMs: 20_000,
  ...(!values.quiet && { log: (line: string) => console.log(line) }),
});

const draft = SEED.draftCampaign;
const row = (label: string, id: string) => `  ${label.padEnd(52)} ${id}`;
console.log(
  [
    `Puffle emulator listening on ${emulator.url}`,
    `API key (Bearer): ${emulator.apiKey}`,
    `Turns take ${taskDelayMs} ms; the realtime run feed is at ${emulator.url}/realtime/v1`,
    "",
    "Seed campaigns and steps:",
    row(`${draft.name} (draft, email)`, draft.id),
    row("  step 1: email, position 0", draft.emailNodeId),
    row("  step 2: ai, position 2", draft.aiNodeId),
    row("  step 3: email, position 4", draft.secondEmailNodeId),
    row(`${SEED.activeCampaign.name} (active, email)`, SEED.activeCampaign.id),
    row("  step 1: email, position 0", SEED.activeCampaign.emailNodeId),
    row(`${SEED.pausedCampaign.name} (paused, linkedin)`, SEED.pausedCampaign.id),
    "",
    "For .env:",
    `PUFFLE_API_URL=${emulator.url}`,
    `PUFFLE_API_KEY=${emulator.apiKey}`,
    `PUFFLE_CAMPAIGN_ID=${draft.id}`,
    `PUFFLE_NODE_ID=${draft.emailNodeId}`,
    `TRIGGER_API_URL=${emulator.url}`,
    "",
    "Admin (same bearer key): POST|GET|DELETE /__admin/faults, GET /__admin/state, POST /__admin/reset,",
    "POST /__admin/sessions/{id}/finish",
    "",
  ].join("\n"),
);

const shutdown = (signal: string) => {
  console.log(`${signal}: stopping the emulator`);
  void emulator.close().then(() => process.exit(0));
};
process.once("SIGINT", () => shutdown("SIGINT"));
process.once("SIGTERM", () => shutdown("SIGTERM"));
