// conversations.replies (and, later, conversations.history): reading conversations back.

import { type FakeContext, type MethodTable, wireMessage } from "./context.ts";
import { type Args, failure, type Json, requireChannel, required } from "./wire.ts";
import type { Workspace } from "./workspaces.ts";

export function readMethods(context: FakeContext): MethodTable {
  const { store } = context;

  const replies = (args: Args, caller: Workspace): Json => {
    const channel = requireChannel(args);
    const ts = required(args, "ts");
    const threadTs = store.message(channel, ts)?.thread_ts ?? ts;
    const messages = store.thread(channel, threadTs);
    if (messages.length === 0) throw failure("thread_not_found");
    return {
      ok: true,
      messages: messages.map((m) => wireMessage(context, m, caller)),
      has_more: false,
      response_metadata: { next_cursor: "" },
    };
  };

  return [["conversations.replies", replies]];
}
