// The Trigger.dev realtime run feed: Electric "shape" JSON long-polling, as trigger-realtime.md describes
// and @trigger.dev/sdk 4.8.3 (via @electric-sql/client) reads it. Details the client depends on:
// - every 200 carries electric-handle and electric-offset; non-live answers also electric-schema, live ones
//   electric-cursor (a missing one makes the SDK hang), so every answer carries all of them;
// - rows only surface from a batch that ENDS with the up-to-date control message;
// - `electric-up-to-date` stops the client from prefetching the next chunk with a non-live request;
// - timestamps have no trailing Z (the SDK appends one), metadata/output are JSON text;
// - setting completedAt is what ends subscribeToRun.
// The realtime streams a run lists in realtimeStreams are served by stream-feed.ts.
import { bearerToken, errorReply, type Handler, type Reply, type RequestContext } from "./http.ts";
import type { RunTokens } from "./run-tokens.ts";
import type { EmulatorState, Run } from "./state.ts";

export interface RealtimeFeedDeps {
  state: EmulatorState;
  tokens: RunTokens;
  /** How long a live request is held when the row does not change. */
  holdMs: number;
}

const UP_TO_DATE = { headers: { control: "up-to-date" } };

const ELECTRIC_HEADERS = [
  "electric-handle",
  "electric-offset",
  "electric-schema",
  "electric-cursor",
  "electric-up-to-date",
];

/** Columns SubscribeRunRawShape requires: skipColumns cannot remove them (Trigger.dev ignores that too). */
const REQUIRED_COLUMNS = new Set(["id", "taskIdentifier", "friendlyId", "status", "createdAt", "updatedAt"]);

export function createRealtimeFeed({ state, tokens, holdMs }: RealtimeFeedDeps): { run: Handler } {
  /** Undefined when the token does not grant this run, or the run does not exist: both are a 401. */
  const authorizedRun = (ctx: RequestContext): Run | undefined => {
    const runId = ctx.params.runId ?? "";
    const token = bearerToken(ctx.headers);
    const run = state.runs.get(runId);
    return run && token && tokens.allows(token, runId) ? run : undefined;
  };

  /** Resolves when the run's row changes, the hold ends, or the client/emulator goes away. */
  const waitForChange = (runId: string, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        state.runChanges.off(runId, done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, holdMs);
      state.runChanges.on(runId, done);
      signal.addEventListener("abort", done, { once: true });
      if (signal.aborted) done();
    });

  return {
    async run(ctx) {
      const run = authorizedRun(ctx);
      if (!run) return errorReply(401, "Unauthorized: invalid or expired public access token for this run");
      const skipped = new Set((ctx.url.searchParams.get("skipColumns") ?? "").split(","));
      const offsetParam = ctx.url.searchParams.get("offset") ?? "-1";
      if (offsetParam === "-1") return feedReply(run, [change(run, "insert", skipped)], run.revision);

      const seen = parseOffset(offsetParam);
      if (seen === undefined) return errorReply(400, `Invalid offset: ${offsetParam}`);
      if (run.revision <= seen && ctx.url.searchParams.get("live") === "true") {
        await waitForChange(run.friendlyId, ctx.signal);
      }
      const current = state.runs.get(run.friendlyId);
      if (!current || current.revision <= seen) return feedReply(run, [], seen);
      return feedReply(current, [change(current, "update", skipped)], current.revision);
    },
  };
}

function feedReply(run: Run, changes: unknown[], offset: number): Reply {
  return {
    status: 200,
    body: [...changes, UP_TO_DATE],
    headers: {
      "electric-handle": `${run.id}-handle`,
      "electric-offset": `${offset}_0`,
      "electric-schema": "{}",
      "electric-cursor": String(run.revision),
      "electric-up-to-date": "",
      "access-control-expose-headers": ELECTRIC_HEADERS.join(", "),
      "cache-control": "no-store",
    },
  };
}

function parseOffset(offset: string): number | undefined {
  const match = /^(\d+)_\d+$/.exec(offset);
  return match ? Number(match[1]) : undefined;
}

function change(run: Run, operation: "insert" | "update", skipped: Set<string>) {
  const row = Object.entries(runRow(run)).filter(
    ([column]) => REQUIRED_COLUMNS.has(column) || !skipped.has(column),
  );
  return { key: `"public"."TaskRun"/"${run.id}"`, value: Object.fromEntries(row), headers: { operation } };
}

function runRow(run: Run): Record<string, unknown> {
  const hasOutput = run.output !== undefined;
  return {
    id: run.id,
    friendlyId: run.friendlyId,
    taskIdentifier: run.taskIdentifier,
    status: run.status,
    number: run.number,
    isTest: false,
    createdAt: shapeDate(run.createdAt),
    updatedAt: shapeDate(run.updatedAt),
    queuedAt: shapeDate(run.createdAt),
    startedAt: run.startedAt && shapeDate(run.startedAt),
    completedAt: run.completedAt && shapeDate(run.completedAt),
    delayUntil: null,
    expiredAt: null,
    idempotencyKey: null,
    ttl: null,
    usageDurationMs:
      run.startedAt && run.completedAt ? run.completedAt.getTime() - run.startedAt.getTime() : 0,
    costInCents: 0,
    baseCostInCents: 0,
    payload: JSON.stringify(run.payload),
    payloadType: "application/json",
    metadata: "{}",
    metadataType: "application/json",
    output: hasOutput ? JSON.stringify(run.output) : null,
    outputType: hasOutput ? "application/json" : null,
    error: null,
    runTags: [],
    // Trigger.dev lists a stream once the task starts writing to it: here, once the run executes.
    realtimeStreams: run.status === "PENDING" ? [] : [...run.streams.keys()],
  };
}

/** Trigger.dev's raw rows carry Postgres timestamps without a zone; the SDK appends the Z itself. */
function shapeDate(date: Date): string {
  return date.toISOString().slice(0, -1);
}
