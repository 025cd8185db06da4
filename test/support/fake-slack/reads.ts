// conversations.replies and conversations.history: reading conversations back, with Slack's cursor
// pagination, time bounds and `include_all_metadata`.
//
// Simplifications: `oldest`/`latest` and `limit` apply to the thread's parent like to any reply (the parent
// is simply the first message of the thread, so it is on the first page only); limits are clamped to 1..1000.

import { type FakeContext, type MethodTable, wireMessage } from "./context.ts";
import type { StoredMessage } from "./types.ts";
import { type Args, failure, flag, type Json, requireChannel, required, str } from "./wire.ts";
import type { Workspace } from "./workspaces.ts";

const DEFAULT_LIMIT = { replies: 1000, history: 100 } as const;
const MAX_LIMIT = 1000;

export function readMethods(context: FakeContext): MethodTable {
  const { store } = context;

  const page = (args: Args, caller: Workspace, ordered: StoredMessage[], defaultLimit: number): Json => {
    const inclusive = flag(args, "inclusive");
    const oldest = str(args, "oldest");
    const latest = str(args, "latest");
    const inRange = ordered.filter(
      (m) =>
        (oldest === undefined ||
          compareTs(m.ts, oldest) > 0 ||
          (inclusive && compareTs(m.ts, oldest) === 0)) &&
        (latest === undefined || compareTs(m.ts, latest) < 0 || (inclusive && compareTs(m.ts, latest) === 0)),
    );
    const cursor = str(args, "cursor");
    const start = cursor ? inRange.findIndex((m) => m.ts === decodeCursor(cursor)) : 0;
    if (start < 0) throw failure("invalid_cursor");
    const limit = clampLimit(args.limit, defaultLimit);
    const shown = inRange.slice(start, start + limit);
    const next = inRange[start + limit];
    const metadata = flag(args, "include_all_metadata");
    return {
      ok: true,
      messages: shown.map((m) => wireMessage(context, m, caller, metadata)),
      has_more: next !== undefined,
      response_metadata: { next_cursor: next ? encodeCursor(next.ts) : "" },
    };
  };

  const replies = (args: Args, caller: Workspace): Json => {
    const channel = requireChannel(args);
    const ts = required(args, "ts");
    const threadTs = store.message(channel, ts)?.thread_ts ?? ts;
    const messages = store.thread(channel, threadTs);
    if (messages.length === 0) throw failure("thread_not_found");
    return page(args, caller, messages, DEFAULT_LIMIT.replies);
  };

  const history = (args: Args, caller: Workspace): Json => {
    const channel = requireChannel(args);
    // The channel's top level, newest first: roots, unthreaded messages and broadcast replies.
    const topLevel = store
      .messages(channel)
      .filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.reply_broadcast)
      .reverse();
    return page(args, caller, topLevel, DEFAULT_LIMIT.history);
  };

  return [
    ["conversations.replies", replies],
    ["conversations.history", history],
  ];
}

function clampLimit(value: unknown, fallback: number): number {
  const limit = Number(value ?? fallback);
  if (!Number.isFinite(limit) || limit <= 0) return fallback;
  return Math.min(Math.floor(limit), MAX_LIMIT);
}

/** Slack's cursors are opaque; this one is base64 of "next_ts:<ts>", like the ones Slack hands out. */
function encodeCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`).toString("base64");
}

function decodeCursor(cursor: string): string | undefined {
  const decoded = Buffer.from(cursor, "base64").toString("utf8");
  return decoded.startsWith("next_ts:") ? decoded.slice("next_ts:".length) : undefined;
}

/** Orders Slack timestamps ("seconds.micros") exactly, without floating point. */
export function compareTs(a: string, b: string): number {
  const value = (ts: string) => {
    const [seconds = "0", fraction = ""] = ts.split(".");
    return (
      BigInt(seconds.replace(/\D/g, "") || "0") * 1_000_000n +
      BigInt(fraction.replace(/\D/g, "").padEnd(6, "0").slice(0, 6) || "0")
    );
  };
  const diff = value(a) - value(b);
  return diff === 0n ? 0 : diff > 0n ? 1 : -1;
}
