// `npm run emulator`: a stand-alone Puffle emulator for trying the bot in a real Slack workspace.
// Options: --port N (or EMULATOR_PORT, default 4010), --host H (default 127.0.0.1),
// --task-delay-ms N (or EMULATOR_TASK_DELAY_MS, default 4000), --api-key K, --extra-keys K1,K2,
// --stream-version v1|v2, --chunk-shape S, --no-streams, --rate-limit N (per key per minute), --quiet.
import { parseArgs } from "node:util";
import { bannerText } from "./banner.ts";
import { DEFAULT_API_KEY, startEmulator } from "./server.ts";
import { CHUNK_SHAPES, type ChunkShape, STREAM_VERSIONS, type StreamVersion } from "./settings.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "task-delay-ms": { type: "string" },
    "api-key": { type: "string", default: DEFAULT_API_KEY },
    "extra-keys": { type: "string" },
    "stream-version": { type: "string" },
    "chunk-shape": { type: "string" },
    "no-streams": { type: "boolean", default: false },
    "rate-limit": { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function numberOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`${name} must be a non-negative integer, got "${text}"`);
  return value;
}

function oneOf<T extends string>(
  name: string,
  text: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) fail(`${name} must be one of ${allowed.join(", ")}`);
  return text as T;
}

const port = numberOption("port", values.port ?? process.env.EMULATOR_PORT, 4010);
const taskDelayMs = numberOption(
  "task delay",
  values["task-delay-ms"] ?? process.env.EMULATOR_TASK_DELAY_MS,
  4000,
);
const rateLimit =
  values["rate-limit"] === undefined ? undefined : numberOption("rate limit", values["rate-limit"], 0);
if (rateLimit === 0) fail("rate limit must be at least 1");
const streamVersion = oneOf<StreamVersion>("stream version", values["stream-version"], STREAM_VERSIONS);
const chunkShape = oneOf<ChunkShape>("chunk shape", values["chunk-shape"], CHUNK_SHAPES);
const extraKeys = (values["extra-keys"] ?? "").split(",").filter((key) => key.trim() !== "");

const emulator = await startEmulator({
  port,
  host: values.host,
  apiKey: values["api-key"],
  apiKeys: [values["api-key"], ...extraKeys],
  taskDelayMs,
  // Examples take longer than a turn, and longer with more leads, as in Puffle.
  examplesDelayMs: Math.round(taskDelayMs * 1.5),
  examplesPerLeadMs: Math.round(taskDelayMs / 8),
  realtimeHoldMs: 20_000,
  ...(values["no-streams"] && { streams: false }),
  ...(streamVersion && { streamVersion }),
  ...(chunkShape && { chunkShape }),
  ...(rateLimit !== undefined && { rateLimitPerMinute: rateLimit }),
  ...(!values.quiet && { log: (line: string) => console.log(line) }),
});

console.log(
  bannerText({
    url: emulator.url,
    apiKey: emulator.apiKey,
    keyCount: new Set([emulator.apiKey, ...extraKeys]).size,
    taskDelayMs,
    settings: emulator.configure({}),
  }),
);

const shutdown = (signal: string) => {
  console.log(`${signal}: stopping the emulator`);
  void emulator.close().then(() => process.exit(0));
};
process.once("SIGINT", () => shutdown("SIGINT"));
process.once("SIGTERM", () => shutdown("SIGTERM"));
