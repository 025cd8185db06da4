// Interactivity response_urls served by the fake: up to 5 posts each, like Slack's.

import { slackError } from "../block-kit-limits.ts";
import type { FakeContext } from "./context.ts";
import { isEphemeral, type MessageContent, messageContent, replaceContent } from "./store.ts";
import type { EphemeralMessage, ResponseUrlContext, StoredMessage } from "./types.ts";
import { ApiFailure, type Args, flag, type Json, str } from "./wire.ts";
import type { Workspace } from "./workspaces.ts";

const RESPONSE_URL_MAX_USES = 5;

export class ResponseUrls {
  readonly #context: FakeContext;
  readonly #urls = new Map<string, { context: ResponseUrlContext; uses: number }>();

  constructor(context: FakeContext) {
    this.#context = context;
  }

  /** A fresh id for `${origin}/respond/${id}`. */
  create(context: ResponseUrlContext): string {
    const id = String(this.#context.ids.next());
    this.#urls.set(id, { context, uses: 0 });
    return id;
  }

  post(id: string, args: Args): Json {
    const target = this.#urls.get(id);
    if (!target) throw new ApiFailure(slackError("expired_url"), 404);
    if (target.uses >= RESPONSE_URL_MAX_USES) throw new ApiFailure(slackError("used_url"), 404);
    target.uses += 1;
    const { context } = target;
    const { store, ids } = this.#context;
    const bot = this.#bot(context);
    if (flag(args, "delete_original")) {
      const original = this.#original(context);
      if (original) original.deleted = true;
      return { ok: true };
    }
    const content = messageContent(args);
    // Without a known original (e.g. a slash command's response_url) Slack shows the reply as a new message.
    const original = flag(args, "replace_original") ? this.#original(context) : undefined;
    if (original && isEphemeral(original)) replaceContent(original, content);
    else if (original) store.edit(original, content, bot.botUserId, "response_url");
    else if (args.response_type === "in_channel") this.#postInChannel(context, args, content);
    else {
      const thread_ts = str(args, "thread_ts") || context.threadTs;
      store.addEphemeral({
        channel: context.channel,
        user: context.user,
        ts: ids.nextTs(),
        thread_ts,
        content,
        via: "response_url",
      });
    }
    return { ok: true };
  }

  #bot(context: ResponseUrlContext): Workspace {
    const { workspaces } = this.#context;
    return (context.teamId ? workspaces.get(context.teamId) : undefined) ?? workspaces.default;
  }

  /** The message a response_url's interaction came from, in the channel or among the ephemerals. */
  #original(context: ResponseUrlContext): StoredMessage | EphemeralMessage | undefined {
    const { channel, messageTs } = context;
    if (!channel || !messageTs) return undefined;
    const { store } = this.#context;
    return store.message(channel, messageTs) ?? store.ephemeralList.find((e) => e.ts === messageTs);
  }

  #postInChannel(context: ResponseUrlContext, args: Args, content: MessageContent): void {
    if (!context.channel) throw new ApiFailure(slackError("channel_not_found"), 404);
    const bot = this.#bot(context);
    this.#context.store.store(
      {
        channel: context.channel,
        user: bot.botUserId,
        bot_id: bot.botId,
        text: content.text ?? "",
        blocks: content.blocks,
        thread_ts: str(args, "thread_ts") || context.threadTs,
      },
      "response_url",
    );
  }
}
