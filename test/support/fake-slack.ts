// A stateful fake of the Slack Web API (and of interactivity response_urls) over real localhost HTTP.
// Point the real WebClient at it (`slackApiUrl: fake.url`), then assert on what a person would see in a
// thread: messages, edits, ephemerals, modals, statuses, reactions. It answers like Slack: HTTP 200 with
// `{ ok: false, error }` for failures, HTTP 429 + Retry-After for rate limits, Block Kit limits enforced.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { type SlackErrorBody, slackError, validateMessage, validateView } from "./block-kit-limits.ts";

export interface FakeSlackOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** The only bot token the fake accepts. Default "xoxb-test-token". */
  token?: string;
  /** The only app-level token (Socket Mode) the fake accepts, for apps.connections.open. Default "xapp-test-token". */
  appToken?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  /** Sent back in `x-oauth-scopes`. Default: the bot scopes of slack-notes.md. */
  scopes?: string[];
}

export const DEFAULT_BOT_SCOPES = [
  "app_mentions:read",
  "channels:history",
  "groups:history",
  "im:history",
  "chat:write",
  "commands",
  "reactions:write",
  "chat:write.public",
  "users:read",
  "mpim:history",
];

/** A message as stored: `text`/`blocks`/`metadata` are the current version, `edits` the earlier ones. */
export interface StoredMessage {
  channel: string;
  ts: string;
  /** Set on replies, and on a root once it has replies (as Slack does). */
  thread_ts?: string;
  user: string;
  /** Set on messages posted by the bot. */
  bot_id?: string;
  text: string;
  blocks?: unknown[];
  metadata?: unknown;
  reply_broadcast?: boolean;
  edited?: { user: string; ts: string };
  edits: MessageVersion[];
  deleted: boolean;
  reactions: Reaction[];
}

export interface MessageVersion {
  text: string;
  blocks?: unknown[];
  metadata?: unknown;
  /** performance.now() when this version was replaced. */
  at: number;
}

export interface Reaction {
  name: string;
  users: string[];
}

/** An ephemeral message, seen only by `user`: from chat.postEphemeral or an ephemeral response_url post. */
export interface EphemeralMessage {
  channel?: string;
  user?: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  via: "chat.postEphemeral" | "response_url";
  edits: MessageVersion[];
  deleted: boolean;
}

export interface StoredView {
  id: string;
  /** The view exactly as Slack answered it (id, hash, state, blocks, title, ...). */
  view: Record<string, unknown>;
  /** The method that last changed it. */
  via: "views.open" | "views.update" | "views.push" | "views.publish";
  trigger_id?: string;
  /** The Home tab's owner, for views.publish. */
  user_id?: string;
}

export interface StatusUpdate {
  status: string;
  loading_messages?: string[];
  at: number;
}

export interface RecordedCall {
  /** A Web API method name, or "response_url" for posts to a response_url. */
  method: string;
  /** Arguments as decoded (JSON-valued form fields parsed), without the token. */
  args: Record<string, unknown>;
  /** performance.now() when the request arrived. */
  at: number;
  ok: boolean;
  error?: string;
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was awaited, for the timeout error. */
  message?: string;
}

/** Where an interaction happened, so posts to its response_url land in the right place. */
export interface ResponseUrlContext {
  channel?: string;
  user?: string;
  /** The message the interaction came from: target of replace_original / delete_original. */
  messageTs?: string;
  threadTs?: string;
}

export interface HumanMessageInput {
  channel: string;
  user: string;
  text: string;
  thread_ts?: string;
  blocks?: unknown[];
}

export interface RateLimitOptions {
  retryAfterSeconds: number;
  times?: number;
}

export interface FakeSlack {
  /** Where apps.connections.open sends Socket Mode clients; set by startFakeSocketMode. */
  socketModeUrl: string | undefined;
  /** Web API base URL, ending in "/api/": pass it as `slackApiUrl`. */
  readonly url: string;
  /** "http://127.0.0.1:PORT". */
  readonly origin: string;
  readonly token: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;

  /** Every call so far, in arrival order. */
  readonly calls: readonly RecordedCall[];
  callsTo(method: string): RecordedCall[];
  resetCalls(): void;

  /** Non-deleted messages of a channel (roots and replies), in ts order. Live records: do not mutate. */
  messages(channel: string): StoredMessage[];
  /** The root (when known) and its replies, in ts order, current versions, deleted ones left out. */
  thread(channel: string, threadTs: string): StoredMessage[];
  /** One message, deleted or not. */
  message(channel: string, ts: string): StoredMessage | undefined;
  ephemerals(channel?: string, user?: string): EphemeralMessage[];
  /** Views in the order they were last opened/updated/pushed/published: most recent last. */
  views(): StoredView[];
  /** Every assistant.threads.setStatus for a thread, in order. */
  statuses(channel: string, threadTs: string): StatusUpdate[];
  /** The status a person sees under the thread now: "" once cleared or after the bot posted a reply. */
  currentStatus(channel: string, threadTs: string): string;
  reactions(channel: string, ts: string): Reaction[];

  /** Stores a message from a person (with a fresh ts, coherent with the bot's) and returns it. */
  addHumanMessage(input: HumanMessageInput): StoredMessage;
  /** Gives a user a real name for users.info and render(). */
  addUser(id: string, realName: string): void;
  /** Makes views.open/views.push answer `expired_trigger_id` for this trigger. */
  expireTrigger(triggerId: string): void;
  /** A fresh response_url served by the fake (up to 5 posts, like Slack's). */
  responseUrl(context?: ResponseUrlContext): string;

  /** The next `times` calls to `method` get HTTP 429 with Retry-After. */
  rateLimit(method: string, options: RateLimitOptions): void;
  /** The next `times` calls to `method` answer `{ ok: false, error }`. */
  failNext(method: string, error: string, times?: number): void;
  /** Every later call to `method` waits `ms` before answering; 0 removes the delay. */
  delay(method: string, ms: number): void;

  /** Resolves with the probe's first truthy value; a probe that throws counts as "not yet". */
  waitFor<T>(probe: () => T | undefined | null | false, options?: WaitForOptions): Promise<T>;
  /** The thread (or, without threadTs, the channel's top level) as plain text, as a person reads it. */
  render(channel: string, threadTs?: string): string;
  close(): Promise<void>;
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return new FakeSlackServer(server, `http://127.0.0.1:${port}`, options);
}

type Args = Record<string, unknown>;
type Json = Record<string, unknown>;
type Handler = (args: Args) => Json;
type MessageContent = { text?: string; blocks?: unknown[]; metadata?: unknown };

/** Thrown by handlers: becomes the HTTP answer. `status` undefined means the caller's default. */
class ApiFailure extends Error {
  constructor(
    readonly body: SlackErrorBody,
    readonly status?: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error);
  }
}

const failure = (error: string, messages?: string[]) => new ApiFailure(slackError(error, messages));
const missingArgument = (name: string) =>
  failure("invalid_arguments", [`[ERROR] missing required field: ${name}`]);

/** Form fields the WebClient sends as JSON strings. */
const JSON_FIELDS = new Set(["blocks", "attachments", "metadata", "view", "loading_messages"]);
const RESPONSE_URL_MAX_USES = 5;
const MAX_LOADING_MESSAGES = 10;
const PERMALINK_HOST = "https://fake.slack.test";
const RECENT_CALLS_IN_REPORT = 20;
/** Methods Slack serves only with an app-level token (xapp-...). */
const APP_TOKEN_METHODS = new Set(["apps.connections.open"]);

class FakeSlackServer implements FakeSlack {
  readonly origin: string;
  readonly url: string;
  readonly token: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  readonly #server: Server;
  readonly #scopes: string[];
  readonly #startedAt = performance.now();
  readonly #faults = new Faults();
  readonly #methods: ReadonlyMap<string, Handler>;
  readonly #channels = new Map<string, StoredMessage[]>();
  readonly #ephemerals: EphemeralMessage[] = [];
  readonly #views = new Map<string, StoredView>();
  readonly #statuses = new Map<string, StatusUpdate[]>();
  readonly #shownStatus = new Map<string, string>();
  readonly #users = new Map<string, string>();
  readonly #expiredTriggers = new Set<string>();
  readonly #responseUrls = new Map<string, { context: ResponseUrlContext; uses: number }>();
  #calls: RecordedCall[] = [];
  #sequence = 0;

  constructor(server: Server, origin: string, options: FakeSlackOptions) {
    this.#server = server;
    this.origin = origin;
    this.url = `${origin}/api/`;
    this.token = options.token ?? "xoxb-test-token";
    this.appToken = options.appToken ?? "xapp-test-token";
    this.teamId = options.teamId ?? "T0TEAM";
    this.botUserId = options.botUserId ?? "U0BOT";
    this.botId = options.botId ?? "B0BOT";
    this.appId = options.appId ?? "A0APP";
    this.#scopes = options.scopes ?? DEFAULT_BOT_SCOPES;
    this.#users.set(this.botUserId, "Bot");
    this.#methods = this.#methodTable();
    server.on("request", (req, res) => {
      // Only a client hanging up mid-request gets here: drop the socket.
      this.#handle(req, res).catch(() => res.destroy());
    });
  }

  #methodTable(): Map<string, Handler> {
    return new Map<string, Handler>([
      ["auth.test", () => this.#authTest()],
      ["apps.connections.open", () => this.#openConnection()],
      ["chat.postMessage", (args) => this.#postMessage(args)],
      ["chat.update", (args) => this.#update(args)],
      ["chat.postEphemeral", (args) => this.#postEphemeral(args)],
      ["chat.delete", (args) => this.#delete(args)],
      ["chat.getPermalink", (args) => this.#permalink(args)],
      ["views.open", (args) => this.#openView(args, "views.open")],
      ["views.push", (args) => this.#openView(args, "views.push")],
      ["views.update", (args) => this.#updateView(args)],
      ["views.publish", (args) => this.#publishView(args)],
      ["assistant.threads.setStatus", (args) => this.#setStatus(args)],
      ["reactions.add", (args) => this.#addReaction(args)],
      ["reactions.remove", (args) => this.#removeReaction(args)],
      ["conversations.info", (args) => this.#conversationInfo(args)],
      ["conversations.replies", (args) => this.#replies(args)],
      ["users.info", (args) => this.#userInfo(args)],
    ]);
  }

  // ---- queries -------------------------------------------------------------------------------------

  get calls(): readonly RecordedCall[] {
    return this.#calls;
  }

  callsTo(method: string): RecordedCall[] {
    return this.#calls.filter((call) => call.method === method);
  }

  resetCalls(): void {
    this.#calls = [];
  }

  messages(channel: string): StoredMessage[] {
    return this.#channel(channel).filter((m) => !m.deleted);
  }

  thread(channel: string, threadTs: string): StoredMessage[] {
    return this.messages(channel).filter((m) => m.ts === threadTs || m.thread_ts === threadTs);
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.#channel(channel).find((m) => m.ts === ts);
  }

  ephemerals(channel?: string, user?: string): EphemeralMessage[] {
    return this.#ephemerals.filter(
      (e) =>
        !e.deleted &&
        (channel === undefined || e.channel === channel) &&
        (user === undefined || e.user === user),
    );
  }

  views(): StoredView[] {
    return [...this.#views.values()];
  }

  statuses(channel: string, threadTs: string): StatusUpdate[] {
    return this.#statuses.get(threadKey(channel, threadTs)) ?? [];
  }

  currentStatus(channel: string, threadTs: string): string {
    return this.#shownStatus.get(threadKey(channel, threadTs)) ?? "";
  }

  reactions(channel: string, ts: string): Reaction[] {
    return this.message(channel, ts)?.reactions ?? [];
  }

  // ---- test setup ----------------------------------------------------------------------------------

  addHumanMessage(input: HumanMessageInput): StoredMessage {
    return this.#store({ ...input });
  }

  addUser(id: string, realName: string): void {
    this.#users.set(id, realName);
  }

  expireTrigger(triggerId: string): void {
    this.#expiredTriggers.add(triggerId);
  }

  responseUrl(context: ResponseUrlContext = {}): string {
    const id = String(this.#next());
    this.#responseUrls.set(id, { context, uses: 0 });
    return `${this.origin}/respond/${id}`;
  }

  rateLimit(method: string, { retryAfterSeconds, times = 1 }: RateLimitOptions): void {
    const headers = { "retry-after": String(retryAfterSeconds) };
    this.#faults.add(method, times, new ApiFailure(slackError("ratelimited"), 429, headers));
  }

  failNext(method: string, error: string, times = 1): void {
    this.#faults.add(method, times, failure(error));
  }

  delay(method: string, ms: number): void {
    this.#faults.setDelay(method, ms);
  }

  async waitFor<T>(probe: () => T | undefined | null | false, options: WaitForOptions = {}): Promise<T> {
    const { timeoutMs = 5000, intervalMs = 10, message } = options;
    const deadline = performance.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = probe();
        if (value) return value;
      } catch (error) {
        lastError = error;
      }
      if (performance.now() >= deadline) throw new Error(this.#timeoutReport(timeoutMs, message, lastError));
      await sleep(intervalMs);
    }
  }

  render(channel: string, threadTs?: string): string {
    const shown =
      threadTs === undefined
        ? this.messages(channel).filter(
            (m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.reply_broadcast,
          )
        : this.thread(channel, threadTs);
    return renderMessages(shown, (id) => this.#nameOf(id));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error ? reject(error) : resolve()));
      // fetch keeps connections alive; without this close() waits for them to time out.
      this.#server.closeAllConnections();
    });
  }

  // ---- HTTP ----------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const path = new URL(req.url ?? "/", this.origin).pathname;
    const raw = await readBody(req);
    const args = parseArgs(raw, req.headers["content-type"]);
    if (req.method === "POST" && path.startsWith("/api/")) {
      const method = path.slice("/api/".length);
      const token = bearerToken(req.headers.authorization) ?? takeToken(args);
      await this.#answer(res, method, args ?? { raw }, at, 200, () => {
        const handler = this.#methods.get(method);
        if (!handler) throw failure("unknown_method");
        this.#authenticate(token, method);
        this.#faults.check(method);
        return handler(parsed(args));
      });
    } else if (req.method === "POST" && path.startsWith("/respond/")) {
      const id = path.slice("/respond/".length);
      // Slack's response_url answers failures with an HTTP error status (Bolt's respond() throws on them).
      await this.#answer(res, "response_url", args ?? { raw }, at, 400, () => {
        this.#faults.check("response_url");
        return this.#responseUrlPost(id, parsed(args));
      });
    } else {
      send(res, 404, slackError("not_found"));
    }
  }

  /** Runs one call (after any delay), records it, and writes Slack's answer. */
  async #answer(
    res: ServerResponse,
    method: string,
    args: Args,
    at: number,
    errorStatus: number,
    run: () => Json,
  ) {
    await this.#faults.wait(method);
    const { status, body, headers } = settle(run, errorStatus);
    const call: RecordedCall = { method, args, at, ok: body.ok === true };
    if (body.ok !== true) call.error = String(body.error);
    this.#calls.push(call);
    send(res, status, body, { "x-oauth-scopes": this.#scopes.join(","), ...headers });
  }

  #authenticate(token: string | undefined, method: string): void {
    if (!token) throw failure("not_authed");
    const expected = APP_TOKEN_METHODS.has(method) ? this.appToken : this.token;
    if (token === expected) return;
    // Like Slack: a known token of the wrong kind (bot vs app-level) is told apart from an unknown one.
    if (token === this.token || token === this.appToken) throw failure("not_allowed_token_type");
    throw failure("invalid_auth");
  }

  // ---- Web API methods -----------------------------------------------------------------------------

  #authTest(): Json {
    return {
      ok: true,
      url: `${PERMALINK_HOST}/`,
      team: "Fake Team",
      user: "bot",
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    };
  }

  /** Where apps.connections.open sends Socket Mode clients (see fake-socket-mode.ts). */
  socketModeUrl: string | undefined;

  /** Socket Mode's handshake: a WebSocket URL to connect to. */
  #openConnection(): Json {
    const url = this.socketModeUrl ?? "wss://wss.fake.slack.test/link/";
    return { ok: true, url: `${url}?ticket=${this.#next()}&app_id=${this.appId}` };
  }

  #postMessage(args: Args): Json {
    const channel = requireChannel(args);
    const content = this.#content(args);
    const message = this.#store({
      channel,
      user: this.botUserId,
      bot_id: this.botId,
      text: content.text ?? "",
      blocks: content.blocks,
      metadata: content.metadata,
      thread_ts: str(args, "thread_ts") || undefined,
      reply_broadcast: flag(args, "reply_broadcast") || undefined,
    });
    return { ok: true, channel, ts: message.ts, message: this.#wire(message) };
  }

  #update(args: Args): Json {
    const channel = requireChannel(args);
    const message = this.#existing(channel, required(args, "ts"));
    if (message.user !== this.botUserId) throw failure("cant_update_message");
    this.#edit(message, this.#content(args));
    return { ok: true, channel, ts: message.ts, text: message.text, message: this.#wire(message) };
  }

  #postEphemeral(args: Args): Json {
    const channel = requireChannel(args);
    const user = required(args, "user");
    const content = this.#content(args);
    const ts = this.#nextTs();
    const thread_ts = str(args, "thread_ts") || undefined;
    this.#addEphemeral({ channel, user, ts, thread_ts, content, via: "chat.postEphemeral" });
    return { ok: true, message_ts: ts };
  }

  #delete(args: Args): Json {
    const channel = requireChannel(args);
    const message = this.#existing(channel, required(args, "ts"));
    if (message.user !== this.botUserId) throw failure("cant_delete_message");
    message.deleted = true;
    return { ok: true, channel, ts: message.ts };
  }

  #permalink(args: Args): Json {
    const channel = requireChannel(args);
    const message = this.#existing(channel, required(args, "message_ts"));
    const path = `${PERMALINK_HOST}/archives/${channel}/p${message.ts.replace(".", "")}`;
    const isReply = message.thread_ts !== undefined && message.thread_ts !== message.ts;
    const permalink = isReply ? `${path}?thread_ts=${message.thread_ts}&cid=${channel}` : path;
    return { ok: true, channel, permalink };
  }

  #openView(args: Args, via: "views.open" | "views.push"): Json {
    const triggerId = required(args, "trigger_id");
    if (this.#expiredTriggers.has(triggerId)) throw failure("expired_trigger_id");
    const input = checkedView(args.view, "modal");
    return { ok: true, view: this.#saveView(input, undefined, { via, trigger_id: triggerId }) };
  }

  #updateView(args: Args): Json {
    const viewId = str(args, "view_id");
    const externalId = str(args, "external_id");
    if (!viewId && !externalId) throw missingArgument("view_id");
    const existing = this.views().find((v) => (viewId ? v.id === viewId : v.view.external_id === externalId));
    if (!existing) throw failure("not_found");
    checkHash(args, existing);
    const input = checkedView(args.view, String(existing.view.type));
    return { ok: true, view: this.#saveView(input, existing, { via: "views.update" }) };
  }

  #publishView(args: Args): Json {
    const userId = required(args, "user_id");
    const existing = this.views().find((v) => v.user_id === userId);
    if (existing) checkHash(args, existing);
    const input = checkedView(args.view, "home");
    return { ok: true, view: this.#saveView(input, existing, { via: "views.publish", user_id: userId }) };
  }

  #saveView(input: Json, existing: StoredView | undefined, meta: Omit<StoredView, "id" | "view">): Json {
    const externalId = str(input, "external_id");
    const clash = externalId && this.views().find((v) => v.view.external_id === externalId && v !== existing);
    if (clash) throw failure("duplicate_external_id");
    const id = existing?.id ?? `V${String(this.#next()).padStart(8, "0")}`;
    const view: Json = {
      ...input,
      id,
      team_id: this.teamId,
      private_metadata: input.private_metadata ?? "",
      callback_id: input.callback_id ?? "",
      external_id: externalId ?? "",
      state: { values: {} },
      hash: this.#nextHash(),
      clear_on_close: input.clear_on_close ?? false,
      notify_on_close: input.notify_on_close ?? false,
      close: input.close ?? null,
      submit: input.submit ?? null,
      previous_view_id: null,
      root_view_id: existing?.view.root_view_id ?? id,
      app_id: this.appId,
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
    // Re-inserting moves the view to the end: views() lists the most recently touched last.
    this.#views.delete(id);
    this.#views.set(id, { id, view, ...meta });
    return view;
  }

  #setStatus(args: Args): Json {
    const key = threadKey(required(args, "channel_id"), required(args, "thread_ts"));
    const status = str(args, "status");
    if (status === undefined) throw missingArgument("status");
    const loading = args.loading_messages;
    if (loading !== undefined && (!isStringArray(loading) || loading.length > MAX_LOADING_MESSAGES)) {
      throw failure("invalid_arguments", [
        `[ERROR] loading_messages must be an array of at most ${MAX_LOADING_MESSAGES} strings [json-pointer:/loading_messages]`,
      ]);
    }
    const history = this.#statuses.get(key) ?? [];
    history.push({ status, ...(loading ? { loading_messages: loading } : {}), at: performance.now() });
    this.#statuses.set(key, history);
    this.#shownStatus.set(key, status);
    return { ok: true };
  }

  #addReaction(args: Args): Json {
    const { message, name } = this.#reactionTarget(args);
    const reaction = message.reactions.find((r) => r.name === name);
    if (reaction?.users.includes(this.botUserId)) throw failure("already_reacted");
    if (reaction) reaction.users.push(this.botUserId);
    else message.reactions.push({ name, users: [this.botUserId] });
    return { ok: true };
  }

  #removeReaction(args: Args): Json {
    const { message, name } = this.#reactionTarget(args);
    const reaction = message.reactions.find((r) => r.name === name);
    if (!reaction?.users.includes(this.botUserId)) throw failure("no_reaction");
    reaction.users = reaction.users.filter((user) => user !== this.botUserId);
    if (reaction.users.length === 0) message.reactions = message.reactions.filter((r) => r !== reaction);
    return { ok: true };
  }

  #reactionTarget(args: Args): { message: StoredMessage; name: string } {
    const channel = requireChannel(args);
    const message = this.#existing(channel, required(args, "timestamp"));
    return { message, name: required(args, "name") };
  }

  #conversationInfo(args: Args): Json {
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
        context_team_id: this.teamId,
      },
    };
  }

  #replies(args: Args): Json {
    const channel = requireChannel(args);
    const ts = required(args, "ts");
    const threadTs = this.message(channel, ts)?.thread_ts ?? ts;
    const messages = this.thread(channel, threadTs);
    if (messages.length === 0) throw failure("thread_not_found");
    return {
      ok: true,
      messages: messages.map((m) => this.#wire(m)),
      has_more: false,
      response_metadata: { next_cursor: "" },
    };
  }

  #userInfo(args: Args): Json {
    const id = str(args, "user");
    if (!id) throw failure("user_not_found");
    const realName = this.#nameOf(id);
    const profile = {
      real_name: realName,
      display_name: realName,
      real_name_normalized: realName,
      team: this.teamId,
    };
    return {
      ok: true,
      user: {
        id,
        team_id: this.teamId,
        name: realName.toLowerCase().replace(/\s+/g, "."),
        deleted: false,
        real_name: realName,
        tz: "Europe/London",
        is_bot: id === this.botUserId,
        is_app_user: false,
        profile,
      },
    };
  }

  // ---- response_url --------------------------------------------------------------------------------

  #responseUrlPost(id: string, args: Args): Json {
    const target = this.#responseUrls.get(id);
    if (!target) throw new ApiFailure(slackError("expired_url"), 404);
    if (target.uses >= RESPONSE_URL_MAX_USES) throw new ApiFailure(slackError("used_url"), 404);
    target.uses += 1;
    const { context } = target;
    if (flag(args, "delete_original")) {
      const original = this.#original(context);
      if (original) original.deleted = true;
      return { ok: true };
    }
    const content = this.#content(args);
    // Without a known original (e.g. a slash command's response_url) Slack shows the reply as a new message.
    const original = flag(args, "replace_original") ? this.#original(context) : undefined;
    if (original && isEphemeral(original)) replaceContent(original, content);
    else if (original) this.#edit(original, content);
    else if (args.response_type === "in_channel") this.#postInChannel(context, args, content);
    else {
      const thread_ts = str(args, "thread_ts") || context.threadTs;
      const ts = this.#nextTs();
      this.#addEphemeral({
        channel: context.channel,
        user: context.user,
        ts,
        thread_ts,
        content,
        via: "response_url",
      });
    }
    return { ok: true };
  }

  /** The message a response_url's interaction came from, in the channel or among the ephemerals. */
  #original(context: ResponseUrlContext): StoredMessage | EphemeralMessage | undefined {
    const { channel, messageTs } = context;
    if (!channel || !messageTs) return undefined;
    return this.message(channel, messageTs) ?? this.#ephemerals.find((e) => e.ts === messageTs);
  }

  #postInChannel(context: ResponseUrlContext, args: Args, content: MessageContent): void {
    if (!context.channel) throw new ApiFailure(slackError("channel_not_found"), 404);
    this.#store({
      channel: context.channel,
      user: this.botUserId,
      bot_id: this.botId,
      text: content.text ?? "",
      blocks: content.blocks,
      thread_ts: str(args, "thread_ts") || context.threadTs,
    });
  }

  // ---- storage -------------------------------------------------------------------------------------

  #store(input: Omit<StoredMessage, "ts" | "edits" | "deleted" | "reactions">): StoredMessage {
    const message: StoredMessage = { ...input, ts: this.#nextTs(), edits: [], deleted: false, reactions: [] };
    const list = this.#channel(input.channel);
    list.push(message);
    this.#channels.set(input.channel, list);
    const root = input.thread_ts ? list.find((m) => m.ts === input.thread_ts) : undefined;
    if (root) root.thread_ts = root.ts;
    // Slack clears the thread's status indicator as soon as the app posts a reply there.
    if (input.thread_ts && input.user === this.botUserId)
      this.#shownStatus.delete(threadKey(input.channel, input.thread_ts));
    return message;
  }

  #addEphemeral(input: {
    channel?: string;
    user?: string;
    ts: string;
    thread_ts?: string;
    content: MessageContent;
    via: EphemeralMessage["via"];
  }): void {
    const { content, ...rest } = input;
    this.#ephemerals.push({
      ...rest,
      text: content.text ?? "",
      blocks: content.blocks,
      edits: [],
      deleted: false,
    });
  }

  #edit(message: StoredMessage, content: MessageContent): void {
    const previous = replaceContent(message, content);
    if (message.metadata !== undefined) previous.metadata = message.metadata;
    if (content.metadata !== undefined) message.metadata = content.metadata;
    message.edited = { user: this.botUserId, ts: this.#nextTs() };
  }

  /** Validated message content; Slack refuses a message with nothing to show (`no_text`). */
  #content(args: Args): MessageContent {
    const text = str(args, "text");
    const problem = validateMessage({ text, blocks: args.blocks, metadata: args.metadata });
    if (problem) throw new ApiFailure(problem);
    const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
    if (!text && !blocks?.length && args.attachments === undefined) throw failure("no_text");
    return { text, blocks, metadata: args.metadata };
  }

  #existing(channel: string, ts: string): StoredMessage {
    const message = this.message(channel, ts);
    if (!message || message.deleted) throw failure("message_not_found");
    return message;
  }

  #channel(channel: string): StoredMessage[] {
    return this.#channels.get(channel) ?? [];
  }

  /** The message as the Web API shows it (chat.postMessage's `message`, conversations.replies). */
  #wire(m: StoredMessage): Json {
    const isReply = m.thread_ts !== undefined && m.thread_ts !== m.ts;
    const replies = m.thread_ts === m.ts ? this.thread(m.channel, m.ts).filter((r) => r !== m) : [];
    const replyUsers = [...new Set(replies.map((r) => r.user))];
    return {
      type: "message",
      ...(m.reply_broadcast ? { subtype: "thread_broadcast" } : {}),
      user: m.user,
      ...(m.bot_id ? { bot_id: m.bot_id, app_id: this.appId } : {}),
      text: m.text,
      blocks: m.blocks,
      metadata: m.metadata,
      ts: m.ts,
      team: this.teamId,
      thread_ts: m.thread_ts,
      edited: m.edited,
      ...(isReply ? { parent_user_id: this.message(m.channel, m.thread_ts ?? "")?.user } : {}),
      ...(replies.length > 0
        ? {
            reply_count: replies.length,
            reply_users: replyUsers,
            reply_users_count: replyUsers.length,
            latest_reply: replies.at(-1)?.ts,
          }
        : {}),
    };
  }

  #nextHash(): string {
    const n = this.#next();
    return `${1_700_000_000 + n}.${n.toString(16).padStart(8, "0")}`;
  }

  #next(): number {
    this.#sequence += 1;
    return this.#sequence;
  }

  /** Unique, increasing Slack-style timestamps: "1700000000.000100", "1700000000.000200", ... */
  #nextTs(): string {
    const micros = this.#next() * 100;
    return `${1_700_000_000 + Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, "0")}`;
  }

  #nameOf(id: string): string {
    return this.#users.get(id) ?? nameFromId(id);
  }

  #timeoutReport(timeoutMs: number, message: string | undefined, lastError: unknown): string {
    const recent = this.#calls.slice(-RECENT_CALLS_IN_REPORT);
    const lines = [
      `waitFor timed out after ${timeoutMs} ms: ${message ?? "the probe never returned a truthy value"}`,
      ...(lastError
        ? [`last probe error: ${lastError instanceof Error ? lastError.message : String(lastError)}`]
        : []),
      `recent Slack calls (${recent.length} of ${this.#calls.length}):`,
      ...recent.map((call) => `  ${this.#describeCall(call)}`),
    ];
    return lines.join("\n");
  }

  #describeCall(call: RecordedCall): string {
    const when = `+${Math.round(call.at - this.#startedAt)}ms`;
    const outcome = call.ok ? "ok" : `error=${call.error}`;
    const args = JSON.stringify(call.args);
    return `${when} ${call.method} ${outcome} ${args.length > 200 ? `${args.slice(0, 200)}...` : args}`;
  }
}

/** Pending faults per method, applied in the order they were added. */
class Faults {
  readonly #pending: { method: string; remaining: number; failure: ApiFailure }[] = [];
  readonly #delays = new Map<string, number>();

  add(method: string, times: number, failure: ApiFailure): void {
    this.#pending.push({ method, remaining: times, failure });
  }

  setDelay(method: string, ms: number): void {
    if (ms > 0) this.#delays.set(method, ms);
    else this.#delays.delete(method);
  }

  async wait(method: string): Promise<void> {
    const ms = this.#delays.get(method);
    if (ms) await sleep(ms);
  }

  /** Throws the next pending fault for `method`, if any. */
  check(method: string): void {
    const index = this.#pending.findIndex((fault) => fault.method === method);
    const fault = this.#pending[index];
    if (!fault) return;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#pending.splice(index, 1);
    throw fault.failure;
  }
}

/** Like chat.update: given fields replace the current ones (blocks: [] removes them), the rest is kept. */
function replaceContent(target: StoredMessage | EphemeralMessage, content: MessageContent): MessageVersion {
  const previous: MessageVersion = { text: target.text, blocks: target.blocks, at: performance.now() };
  target.edits.push(previous);
  if (content.text !== undefined) target.text = content.text;
  if (content.blocks !== undefined) target.blocks = content.blocks.length > 0 ? content.blocks : undefined;
  return previous;
}

function settle(
  run: () => Json,
  errorStatus: number,
): { status: number; body: Json; headers?: Record<string, string> } {
  try {
    return { status: 200, body: run() };
  } catch (error) {
    // A bug in the fake must fail the calling test loudly, not hang it or crash the worker.
    const known = error instanceof ApiFailure ? error : new ApiFailure(internalError(error), 500);
    return { status: known.status ?? errorStatus, body: { ...known.body }, headers: known.headers };
  }
}

function isEphemeral(message: StoredMessage | EphemeralMessage): message is EphemeralMessage {
  return "via" in message;
}

function internalError(error: unknown): SlackErrorBody {
  return slackError("fake_slack_internal_error", [String(error instanceof Error ? error.stack : error)]);
}

// ---- rendering -----------------------------------------------------------------------------------

type NameOf = (userId: string) => string;

function renderMessages(messages: StoredMessage[], nameOf: NameOf): string {
  return messages
    .map((m) => {
      const header = `${nameOf(m.user)} · ${m.ts}${m.edited ? " · edited" : ""}`;
      const body = m.blocks?.length ? renderBlocks(m.blocks, nameOf) : readable(m.text, nameOf).split("\n");
      return [header, ...body.map((line) => `  ${line}`)].join("\n");
    })
    .join("\n\n");
}

function renderBlocks(blocks: unknown[], nameOf: NameOf): string[] {
  return blocks.flatMap((block) => (isObject(block) ? renderBlock(block, nameOf) : []));
}

function renderBlock(block: Json, nameOf: NameOf): string[] {
  const text = (value: unknown) => renderText(value, nameOf);
  const elements = Array.isArray(block.elements) ? block.elements : [];
  switch (block.type) {
    case "header":
      return [`# ${text(block.text)}`];
    case "section":
      return [
        ...(block.text ? text(block.text).split("\n") : []),
        ...(Array.isArray(block.fields) ? block.fields.map(text) : []),
        ...(isObject(block.accessory) ? [renderElement(block.accessory)] : []),
      ];
    case "context":
      return [
        elements.map((e) => (isObject(e) && e.type === "image" ? renderElement(e) : text(e))).join(" · "),
      ];
    case "actions":
      return [elements.map((e) => (isObject(e) ? renderElement(e) : "")).join(" ")];
    case "divider":
      return ["---"];
    case "markdown":
      return String(block.text ?? "").split("\n");
    case "rich_text":
      return elements.flatMap((e) => (isObject(e) ? renderRichText(e, nameOf) : []));
    case "input":
      return [`${text(block.label)}: ${isObject(block.element) ? renderElement(block.element) : ""}`];
    case "image":
      return [renderElement(block)];
    default:
      return [`[${String(block.type)} block]`];
  }
}

function renderElement(element: Json): string {
  const label = (value: unknown) => (isObject(value) ? String(value.text ?? "") : "");
  switch (element.type) {
    case "button":
      return `[${label(element.text)}]`;
    case "image":
      return `[image: ${String(element.alt_text ?? "")}]`;
    case "overflow":
      return "[...]";
    default:
      return `[${label(element.placeholder) || String(element.type)} v]`;
  }
}

function renderText(value: unknown, nameOf: NameOf): string {
  if (!isObject(value)) return "";
  const text = String(value.text ?? "");
  return value.type === "mrkdwn" ? readable(text, nameOf) : text;
}

function renderRichText(element: Json, nameOf: NameOf): string[] {
  const children = Array.isArray(element.elements) ? element.elements.filter(isObject) : [];
  const inline = () => children.map((child) => renderInline(child, nameOf)).join("");
  switch (element.type) {
    case "rich_text_list": {
      const indent = "  ".repeat(Number(element.indent ?? 0));
      const start = Number(element.offset ?? 0);
      return children.map((item, index) => {
        const bullet = element.style === "ordered" ? `${start + index + 1}.` : "•";
        return `${indent}${bullet} ${renderRichText(item, nameOf).join(" ")}`;
      });
    }
    case "rich_text_preformatted":
      return ["```", ...inline().split("\n"), "```"];
    case "rich_text_quote":
      return inline()
        .split("\n")
        .map((line) => `> ${line}`);
    default:
      return inline().split("\n");
  }
}

function renderInline(element: Json, nameOf: NameOf): string {
  switch (element.type) {
    case "text":
      return String(element.text ?? "");
    case "link":
      return String(element.text ?? element.url ?? "");
    case "user":
      return `@${nameOf(String(element.user_id))}`;
    case "channel":
      return `#${String(element.channel_id)}`;
    case "emoji":
      return `:${String(element.name)}:`;
    case "broadcast":
      return `@${String(element.range)}`;
    case "usergroup":
      return `@${String(element.usergroup_id)}`;
    case "date":
      return String(element.fallback ?? element.timestamp);
    default:
      return String(element.value ?? element.team_id ?? "");
  }
}

/** mrkdwn as a person reads it: mentions and links resolved, Slack's three escapes decoded. */
function readable(text: string, nameOf: NameOf): string {
  return text
    .replace(/<([^>]*)>/g, (_match, inner: string) => {
      const [target = "", label] = inner.split("|");
      if (target.startsWith("@")) return `@${nameOf(target.slice(1))}`;
      if (label) return label;
      if (target.startsWith("!")) return `@${target.slice(1).split("^")[0]}`;
      return target;
    })
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

// ---- helpers -------------------------------------------------------------------------------------

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Decodes a JSON or form body; `undefined` when a JSON body does not parse. */
function parseArgs(raw: string, contentType: string | undefined): Args | undefined {
  if (contentType?.startsWith("application/json")) {
    try {
      const value: unknown = raw === "" ? {} : JSON.parse(raw);
      return isObject(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }
  const args: Args = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = JSON_FIELDS.has(key) ? parseJsonField(value) : value;
  }
  return args;
}

/** Leaves unparsable JSON as a string so the validators report it like Slack (e.g. invalid_blocks_format). */
function parseJsonField(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function parsed(args: Args | undefined): Args {
  if (!args) throw failure("invalid_json");
  return args;
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

/** Removes a `token` form field so it is neither recorded nor mistaken for an argument. */
function takeToken(args: Args | undefined): string | undefined {
  if (!args) return undefined;
  const token = str(args, "token");
  delete args.token;
  return token;
}

function checkedView(view: unknown, type: string): Json {
  const problem = validateView(view);
  if (problem) throw new ApiFailure(problem);
  const input = view as Json;
  if (input.type !== type) {
    throw failure("invalid_arguments", [`[ERROR] view type must be ${type} here [json-pointer:/view/type]`]);
  }
  return input;
}

function checkHash(args: Args, existing: StoredView): void {
  const hash = str(args, "hash");
  if (hash !== undefined && hash !== existing.view.hash) throw failure("hash_conflict");
}

function str(args: Args, key: string): string | undefined {
  const value = args[key];
  if (typeof value === "string") return value;
  return typeof value === "number" ? String(value) : undefined;
}

function required(args: Args, key: string): string {
  const value = str(args, key);
  if (!value) throw missingArgument(key);
  return value;
}

/** Slack answers `channel_not_found` rather than a missing-argument error when no channel is given. */
function requireChannel(args: Args): string {
  const channel = str(args, "channel");
  if (!channel) throw failure("channel_not_found");
  return channel;
}

function flag(args: Args, key: string): boolean {
  const value = args[key];
  return value === true || value === "true" || value === "1" || value === 1;
}

function threadKey(channel: string, threadTs: string): string {
  return `${channel}/${threadTs}`;
}

/** "U0DANA" -> "Dana"; ids without a readable name -> "User U123". */
function nameFromId(id: string): string {
  const rest = id.replace(/^[UW]0?/, "");
  return /^[A-Z]+$/.test(rest) ? rest.charAt(0) + rest.slice(1).toLowerCase() : `User ${id}`;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
