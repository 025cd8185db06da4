// startEmulator's options and how they become task timing, live settings and the accepted keys.
import {
  applySettings,
  type ChunkShape,
  DEFAULT_SETTINGS,
  type EmulatorSettings,
  type StreamVersion,
} from "./settings.ts";
import type { TaskTiming } from "./tasks.ts";

export const DEFAULT_API_KEY = "pk_test_emulator_key";

export interface EmulatorOptions {
  /** 0 = a random free port (default). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** The default key (emu.apiKey). Default: apiKeys[0], else "pk_test_emulator_key". */
  apiKey?: string;
  /** Keys accepted besides apiKey, each its own Puffle workspace (more with emu.addKey()). */
  apiKeys?: string[];
  /** How long a chat turn task takes. Default 1500. */
  taskDelayMs?: number;
  /** A random extra per turn, uniform in [0, taskJitterMs). Default 0 (every turn takes taskDelayMs). */
  taskJitterMs?: number;
  /** Seed for the jitter, so a run can be repeated. Default 1. */
  seed?: number;
  /** How long an examples task takes. Default 2500. */
  examplesDelayMs?: number;
  /** Added to examplesDelayMs for each lead sent. Default 0. */
  examplesPerLeadMs?: number;
  /** How long a live long-poll is held with no change. Default 20000 (tests use ~1000). */
  realtimeHoldMs?: number;
  /** A run goes PENDING -> EXECUTING after this. Default min(50, taskDelayMs / 4). */
  executingAfterMs?: number;
  /** Chat turn runs write their reply word by word to a realtime stream. Default true. */
  streams?: boolean;
  /** The reply stream's key in the run's realtimeStreams. Default "reply". */
  streamKey?: string;
  /** Stream framing (X-Stream-Version). Default "v2"; emu.configure() changes it at run time. */
  streamVersion?: StreamVersion;
  /** Shape of the word chunks: "text-delta" (default), "string", "delta", "text" or "mixed". */
  chunkShape?: ChunkShape;
  /** Mix tool-call and finish chunks (no text) into reply streams. Default false. */
  nonTextChunks?: boolean;
  /** Requests per key per 60 s before 429 + Retry-After. Default: no limit. */
  rateLimitPerMinute?: number;
  /** Request log, one line per answered request. Default silent. */
  log?: (line: string) => void;
}

/** The default key first, then the others, each once. */
export function keysFrom(options: EmulatorOptions): string[] {
  const first = options.apiKey ?? options.apiKeys?.[0] ?? DEFAULT_API_KEY;
  return [...new Set([first, ...(options.apiKeys ?? [])])];
}

export function timingFrom(options: EmulatorOptions): TaskTiming {
  const taskDelayMs = options.taskDelayMs ?? 1500;
  return {
    taskDelayMs,
    taskJitterMs: options.taskJitterMs ?? 0,
    random: seededRandom(options.seed ?? 1),
    examplesDelayMs: options.examplesDelayMs ?? 2500,
    examplesPerLeadMs: options.examplesPerLeadMs ?? 0,
    executingAfterMs: options.executingAfterMs ?? Math.min(50, taskDelayMs / 4),
  };
}

/** The settings among the options; the ones left out keep their defaults. */
export function settingsFrom(options: EmulatorOptions): EmulatorSettings {
  const { streams, streamKey, streamVersion, chunkShape, nonTextChunks, rateLimitPerMinute } = options;
  const given = { streams, streamKey, streamVersion, chunkShape, nonTextChunks, rateLimitPerMinute };
  // Validated like a change over the admin endpoint: a bad option fails at start, not on first use.
  return applySettings({ ...DEFAULT_SETTINGS }, given);
}

/** mulberry32: a tiny seeded PRNG, so jittered task durations repeat from run to run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
