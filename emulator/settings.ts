// Settings that can change while the emulator runs (emu.configure(), POST /__admin/config): how runs
// stream their replies and the per-key request budget. Start-up options give the first values.
import { z } from "zod";

export const STREAM_VERSIONS = ["v1", "v2"] as const;
export const CHUNK_SHAPES = ["text-delta", "string", "delta", "text", "mixed"] as const;

export type StreamVersion = (typeof STREAM_VERSIONS)[number];
export type ChunkShape = (typeof CHUNK_SHAPES)[number];

export interface EmulatorSettings {
  /** Chat turn runs write their reply to a realtime stream. Default true. */
  streams: boolean;
  /** The key the reply stream is listed under in the run's realtimeStreams. Default "reply". */
  streamKey: string;
  /** Framing of stream responses (X-Stream-Version), read per request. Default "v2". */
  streamVersion: StreamVersion;
  /** What each word chunk looks like (see streams.ts). Default "text-delta". */
  chunkShape: ChunkShape;
  /** Mix chunks that carry no text (tool calls, a finish marker) into the stream. Default false. */
  nonTextChunks: boolean;
  /** Requests per API key per 60 s before answering 429; null = no limit. Default null. */
  rateLimitPerMinute: number | null;
}

export const DEFAULT_SETTINGS: EmulatorSettings = {
  streams: true,
  streamKey: "reply",
  streamVersion: "v2",
  chunkShape: "text-delta",
  nonTextChunks: false,
  rateLimitPerMinute: null,
};

/** A change over JSON (POST /__admin/config): any subset; unknown keys are a 400. */
export const SettingsPatch = z.strictObject({
  streams: z.boolean().optional(),
  streamKey: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "a stream key is 1 to 64 of A-Z a-z 0-9 _ . -")
    .optional(),
  streamVersion: z.enum(STREAM_VERSIONS).optional(),
  chunkShape: z.enum(CHUNK_SHAPES).optional(),
  nonTextChunks: z.boolean().optional(),
  rateLimitPerMinute: z.number().int().positive().nullable().optional(),
});

export type SettingsChange = z.infer<typeof SettingsPatch>;

/** Applies a validated change in place (everyone holding the object sees it) and returns a copy. */
export function applySettings(settings: EmulatorSettings, change: SettingsChange): EmulatorSettings {
  const parsed = SettingsPatch.parse(change);
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== undefined) Object.assign(settings, { [key]: value });
  }
  return { ...settings };
}
