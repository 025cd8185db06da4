// Trigger.dev realtime streams: `GET /realtime/v1/streams/{runId}/{key}`, server-sent events, read the
// way @trigger.dev/core 4.8.3's SSEStreamSubscription reads them (the SDK's streams.read):
// - auth is the run's public access token, as for the run feed;
// - `X-Stream-Version` picks the framing. v1: one event per chunk, `id: <seq>` and `data: <chunk JSON>`
//   (that reader yields the parsed data as it is: no envelope in v1). v2: `event: batch` events whose
//   data is `{ records: [{ body, seq_num, timestamp, headers }], tail }`, where body is the JSON text of
//   `{ data: <chunk>, id }` and a record whose first header name is empty is a command (skipped);
// - `Last-Event-ID: n` resumes after record n; `Timeout-Seconds` bounds how long one response waits for
//   more (then it ends cleanly, and that reader takes a clean end as the end of the stream);
// - the response ends when the writer ends, after the last chunk.
import { bearerToken, errorReply, type Reply, type RequestContext } from "./http.ts";
import type { RunTokens } from "./run-tokens.ts";
import type { EmulatorSettings, StreamVersion } from "./settings.ts";
import type { EmulatorState } from "./state.ts";
import type { RunStream, StreamRecord } from "./streams.ts";

export interface StreamFeedDeps {
  state: EmulatorState;
  tokens: RunTokens;
  settings: EmulatorSettings;
}

/** The stream_cut fault: stop after this many data chunks, by dropping the connection or ending cleanly. */
export interface StreamCut {
  afterChunks: number;
  how?: "drop" | "end";
}

const DEFAULT_TIMEOUT_SECONDS = 60;
const MAX_TIMEOUT_SECONDS = 600;

export function streamHeaders(version: StreamVersion): Record<string, string> {
  return { "x-stream-version": version, "access-control-expose-headers": "x-stream-version" };
}

export function createStreamFeed({ state, tokens, settings }: StreamFeedDeps) {
  /** Resolves at `time`, when the run changes (the task finished early), or when the reader leaves. */
  const waitUntil = (time: number, runId: string, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        state.runChanges.off(runId, done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, time - Date.now()));
      state.runChanges.on(runId, done);
      signal.addEventListener("abort", done, { once: true });
      if (signal.aborted) done();
    });

  return {
    serve(ctx: RequestContext, cut?: StreamCut): Reply {
      const runId = ctx.params.runId ?? "";
      const token = bearerToken(ctx.headers);
      if (!token || !tokens.allows(token, runId))
        return errorReply(401, "Unauthorized: invalid or expired public access token for this run");
      const run = state.runs.get(runId);
      if (!run) return errorReply(404, "No such run");
      const key = ctx.params.streamKey ?? "";
      const stream = run.streams.get(key);
      if (!stream) return errorReply(404, `No such stream: ${key}`);

      const version = settings.streamVersion;
      const after = lastEventId(ctx.headers["last-event-id"]);
      const deadline = Date.now() + timeoutSeconds(ctx.headers["timeout-seconds"]) * 1000;
      return {
        status: 200,
        headers: streamHeaders(version),
        stream: async (write, signal) => {
          let next = after + 1;
          let chunksLeft = cut ? cut.afterChunks : Infinity;
          const records = stream.records();
          for (;;) {
            // A reset forgets the run: its readers end instead of waiting for a writer that is gone.
            if (state.runs.get(runId) !== run || signal.aborted) return "end";
            const now = Date.now();
            const due: StreamRecord[] = [];
            for (const record of records.slice(next)) {
              if (stream.writtenAt(record) > now || chunksLeft <= 0) break;
              due.push(record);
              if (record.chunk !== undefined) chunksLeft -= 1;
            }
            if (due.length > 0) {
              write(frame(version, stream, due, writtenCount(stream, records, now)));
              next = (due.at(-1)?.seq ?? next) + 1;
            }
            if (cut && chunksLeft <= 0) return cut.how === "end" ? "end" : "drop";
            if (next >= records.length && now >= stream.endsAt()) return "end";
            if (now >= deadline) return "end";
            const upcoming = records[next];
            const wakeAt = upcoming ? stream.writtenAt(upcoming) : stream.endsAt();
            await waitUntil(Math.min(wakeAt, stream.endsAt(), deadline), runId, signal);
          }
        },
      };
    },
  };
}

function frame(version: StreamVersion, stream: RunStream, records: StreamRecord[], written: number): string {
  if (version === "v1") {
    return records
      .filter((record) => record.chunk !== undefined)
      .map((record) => `id: ${record.seq}\ndata: ${JSON.stringify(record.chunk)}\n\n`)
      .join("");
  }
  const batch = {
    records: records.map((record) =>
      record.chunk === undefined
        ? { body: "", seq_num: record.seq, timestamp: stream.writtenAt(record), headers: [["", "fence"]] }
        : {
            body: JSON.stringify({ data: record.chunk, id: record.id }),
            seq_num: record.seq,
            timestamp: stream.writtenAt(record),
            headers: [],
          },
    ),
    tail: { seq_num: written, timestamp: Date.now() },
  };
  return `event: batch\ndata: ${JSON.stringify(batch)}\n\n`;
}

/** How many records the writer has written by now: the tail's next seq_num. */
function writtenCount(stream: RunStream, records: StreamRecord[], now: number): number {
  let count = 0;
  while (count < records.length && stream.writtenAt(records[count] as StreamRecord) <= now) count += 1;
  return count;
}

/** The seq to resume after; -1 (from the start) when absent or not a number. */
function lastEventId(header: string | string[] | undefined): number {
  const text = Array.isArray(header) ? header[0] : header;
  return text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : -1;
}

function timeoutSeconds(header: string | string[] | undefined): number {
  const value = Number(Array.isArray(header) ? header[0] : header);
  if (header === undefined || !Number.isFinite(value) || value <= 0) return DEFAULT_TIMEOUT_SECONDS;
  return Math.min(value, MAX_TIMEOUT_SECONDS);
}
