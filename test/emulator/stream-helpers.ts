// Helpers for the realtime stream tests: dispatching a turn, reading a stream with the real SDK, and
// reading the raw event stream with fetch.
import { auth, streams } from "@trigger.dev/sdk";
import type { Emulator } from "../../emulator/server.ts";
import { call, SESSIONS } from "./helpers.ts";

export interface Dispatched {
  runId: string;
  publicAccessToken: string;
}

export async function dispatchTurn(emu: Emulator, sessionId: string, message = "intro email for VPs") {
  const response = await call<Dispatched>(emu, "POST", `${SESSIONS}/${sessionId}/turn`, { message });
  if (response.status !== 200) throw new Error(`turn failed: ${response.status} ${response.text}`);
  return response.body;
}

/** The text a defensive reader takes from a chunk (the shapes SPEC 9 names); undefined = not text. */
export function textOf(chunk: unknown): string | undefined {
  if (typeof chunk === "string") return chunk;
  if (typeof chunk !== "object" || chunk === null) return undefined;
  const record = chunk as Record<string, unknown>;
  if (record.type === "text-delta" && typeof record.delta === "string") return record.delta;
  if (record.type !== undefined) return undefined;
  if (typeof record.delta === "string") return record.delta;
  if (typeof record.text === "string") return record.text;
  return undefined;
}

export interface SdkRead {
  chunks: unknown[];
  /** performance.now() when each chunk arrived. */
  times: number[];
  text: string;
}

/** Reads one stream to its end with @trigger.dev/sdk's streams.read, authenticated by the run's token. */
export async function readWithSdk(
  emu: Emulator,
  { runId, publicAccessToken }: Dispatched,
  key: string,
  options: { signal?: AbortSignal; timeoutInSeconds?: number; startIndex?: number } = {},
): Promise<SdkRead> {
  const signal = options.signal ?? AbortSignal.timeout(10_000);
  const stream = await auth.withAuth({ baseURL: emu.url, accessToken: publicAccessToken }, () =>
    streams.read<unknown>(runId, key, {
      signal,
      timeoutInSeconds: options.timeoutInSeconds ?? 10,
      ...(options.startIndex !== undefined && { startIndex: options.startIndex }),
    }),
  );
  const chunks: unknown[] = [];
  const times: number[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    times.push(performance.now());
  }
  return { chunks, times, text: chunks.map((chunk) => textOf(chunk) ?? "").join("") };
}

export interface SseEvent {
  event?: string;
  id?: string;
  data: string;
}

/** Splits an event-stream body into events (enough of the SSE grammar for what the emulator sends). */
export function parseSse(body: string): SseEvent[] {
  return body
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event: SseEvent = { data: "" };
      for (const line of block.split("\n")) {
        const colon = line.indexOf(":");
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event.event = value;
        if (field === "id") event.id = value;
        if (field === "data") event.data = event.data ? `${event.data}\n${value}` : value;
      }
      return event;
    });
}

export function streamUrl(emu: Emulator, runId: string, key: string): string {
  return `${emu.url}/realtime/v1/streams/${runId}/${key}`;
}

/** A raw GET of the stream; `headers` adds Last-Event-ID, Timeout-Seconds and so on. */
export function fetchStream(
  emu: Emulator,
  { runId, publicAccessToken }: Dispatched,
  key: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(streamUrl(emu, runId, key), {
    headers: { accept: "text/event-stream", authorization: `Bearer ${publicAccessToken}`, ...headers },
    ...(signal && { signal }),
  });
}

export interface V2Record {
  body: string;
  seq_num: number;
  timestamp: number;
  headers: Array<[string, string]>;
}

/** The records of every `batch` event, in order. */
export function v2Records(events: SseEvent[]): V2Record[] {
  return events
    .filter((event) => event.event === "batch")
    .flatMap((event) => (JSON.parse(event.data) as { records: V2Record[] }).records);
}

export function lastAssistant(emu: Emulator, sessionId: string): string | undefined {
  const messages = emu.state.sessions.get(sessionId)?.messages ?? [];
  return messages.filter((message) => message.role === "assistant").at(-1)?.content;
}
