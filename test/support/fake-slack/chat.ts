// chat.*, reactions.*, assistant.threads.setStatus and conversations.info: writing into conversations.

import type { FakeContext, MethodTable } from "./context.ts";
import { wireMessage } from "./context.ts";
import { messageContent } from "./store.ts";
import type { StoredMessage } from "./types.ts";
import {
  type Args,
  failure,
  flag,
  isStringArray,
  type Json,
  missingArgument,
  requireChannel,
  required,
  str,
} from "./wire.ts";
import { PERMALINK_HOST, type Workspace } from "./workspaces.ts";

const MAX_LOADING_MESSAGES = 10;

/** `isStreaming` tells a message still written by chat.appendStream (see streams.ts). */
export function chatMethods(
  context: FakeContext,
  isStreaming: (message: StoredMessage) => boolean,
): MethodTable {
  const { store, ids } = context;

  const postMessage = (args: Args, caller: Workspace): Json => {
    const channel = requireChannel(args);
    const content = messageContent(args);
    const message = store.store({
      channel,
      user: caller.botUserId,
      bot_id: caller.botId,
      text: content.text ?? "",
      blocks: content.blocks,
      metadata: content.metadata,
      thread_ts: str(args, "thread_ts") || undefined,
      reply_broadcast: flag(args, "reply_broadcast") || undefined,
    });
    return { ok: true, channel, ts: message.ts, message: wireMessage(context, message, caller) };
  };

  const update = (args: Args, caller: Workspace): Json => {
    const channel = requireChannel(args);
    const message = store.existing(channel, required(args, "ts"));
    if (message.user !== caller.botUserId) throw failure("cant_update_message");
    if (isStreaming(message)) throw failure("streaming_state_conflict");
    store.edit(message, messageContent(args), caller.botUserId);
    const wire = wireMessage(context, message, caller);
    return { ok: true, channel, ts: message.ts, text: message.text, message: wire };
  };

  const postEphemeral = (args: Args): Json => {
    const channel = requireChannel(args);
    const user = required(args, "user");
    const content = messageContent(args);
    const ts = ids.nextTs();
    const thread_ts = str(args, "thread_ts") || undefined;
    store.addEphemeral({ channel, user, ts, thread_ts, content, via: "chat.postEphemeral" });
    return { ok: true, message_ts: ts };
  };

  const remove = (args: Args, caller: Workspace): Json => {
    const channel = requireChannel(args);
    const message = store.existing(channel, required(args, "ts"));
    if (message.user !== caller.botUserId) throw failure("cant_delete_message");
    message.deleted = true;
    return { ok: true, channel, ts: message.ts };
  };

  const permalink = (args: Args): Json => {
    const channel = requireChannel(args);
    const message = store.existing(channel, required(args, "message_ts"));
    const path = `${PERMALINK_HOST}/archives/${channel}/p${message.ts.replace(".", "")}`;
    const isReply = message.thread_ts !== undefined && message.thread_ts !== message.ts;
    const link = isReply ? `${path}?thread_ts=${message.thread_ts}&cid=${channel}` : path;
    return { ok: true, channel, permalink: link };
  };

  const setStatus = (args: Args): Json => {
    const channel = required(args, "channel_id");
    const threadTs = required(args, "thread_ts");
    const status = str(args, "status");
    if (status === undefined) throw missingArgument("status");
    const loading = args.loading_messages;
    if (loading !== undefined && (!isStringArray(loading) || loading.length > MAX_LOADING_MESSAGES)) {
      throw failure("invalid_arguments", [
        `[ERROR] loading_messages must be an array of at most ${MAX_LOADING_MESSAGES} strings [json-pointer:/loading_messages]`,
      ]);
    }
    store.setStatus(channel, threadTs, { status, ...(loading ? { loading_messages: loading } : {}) });
    return { ok: true };
  };

  const reactionTarget = (args: Args): { message: StoredMessage; name: string } => {
    const channel = requireChannel(args);
    const message = store.existing(channel, required(args, "timestamp"));
    return { message, name: required(args, "name") };
  };

  const addReaction = (args: Args, caller: Workspace): Json => {
    const { message, name } = reactionTarget(args);
    const reaction = message.reactions.find((r) => r.name === name);
    if (reaction?.users.includes(caller.botUserId)) throw failure("already_reacted");
    if (reaction) reaction.users.push(caller.botUserId);
    else message.reactions.push({ name, users: [caller.botUserId] });
    return { ok: true };
  };

  const removeReaction = (args: Args, caller: Workspace): Json => {
    const { message, name } = reactionTarget(args);
    const reaction = message.reactions.find((r) => r.name === name);
    if (!reaction?.users.includes(caller.botUserId)) throw failure("no_reaction");
    reaction.users = reaction.users.filter((user) => user !== caller.botUserId);
    if (reaction.users.length === 0) message.reactions = message.reactions.filter((r) => r !== reaction);
    return { ok: true };
  };

  return [
    ["chat.postMessage", postMessage],
    ["chat.update", update],
    ["chat.postEphemeral", postEphemeral],
    ["chat.delete", remove],
    ["chat.getPermalink", permalink],
    ["assistant.threads.setStatus", setStatus],
    ["reactions.add", addReaction],
    ["reactions.remove", removeReaction],
    ["conversations.info", conversationInfo],
  ];
}

function conversationInfo(args: Args, caller: Workspace): Json {
  const id = requireChannel(args);
  const isIm = id.startsWith("D");
  const isPrivate = isIm || id.startsWith("G");
  return {
    ok: true,
    channel: {
      id,
      ...(isIm ? {} : { name: id.toLowerCase(), name_normalized: id.toLowerCase() }),
      is_channel: id.startsWith("C"),
      is_group: id.startsWith("G"),
      is_im: isIm,
      is_mpim: false,
      is_private: isPrivate,
      is_archived: false,
      is_general: false,
      is_member: true,
      is_ext_shared: false,
      created: 1_700_000_000,
      context_team_id: caller.teamId,
    },
  };
}
