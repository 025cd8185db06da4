// The fake Slack as tests hold it: starts the HTTP server, wires the method groups together and answers the
// queries and test setups of the FakeSlack interface.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { slackError } from "../block-kit-limits.ts";
import type { FakeSlack } from "./api.ts";
import { chatMethods } from "./chat.ts";
import type { FakeContext, Handler } from "./context.ts";
import { Dispatcher, type OpenHandler } from "./dispatch.ts";
import { Faults } from "./faults.ts";
import { OAuth } from "./oauth.ts";
import { readMethods } from "./reads.ts";
import { renderBlocks, renderMessages, shownText } from "./render.ts";
import { ResponseUrls } from "./response-url.ts";
import { renderSeen, type Seen, seenText } from "./seen.ts";
import { MessageStore } from "./store.ts";
import { DEFAULT_STREAM_MAX_AGE_MS, Streams } from "./streams.ts";
import type {
  AppRegistration,
  EphemeralMessage,
  FailAfterStoreOptions,
  FakeSlackOptions,
  HumanMessageInput,
  InstallationInfo,
  InstallInput,
  RateLimitOptions,
  Reaction,
  RecordedCall,
  ResponseUrlContext,
  ShownVersion,
  StatusUpdate,
  StoredMessage,
  StoredView,
  UserOptions,
  WaitForOptions,
} from "./types.ts";
import { Users } from "./users.ts";
import { Views } from "./views.ts";
import { waitFor } from "./wait.ts";
import { ApiFailure, failure, type Json, Sequence } from "./wire.ts";
import { Workspaces } from "./workspaces.ts";

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return new FakeSlackServer(server, `http://127.0.0.1:${port}`, options);
}

class FakeSlackServer implements FakeSlack {
  readonly origin: string;
  readonly url: string;
  /** Where apps.connections.open sends Socket Mode clients (see fake-socket-mode.ts). */
  socketModeUrl: string | undefined;
  readonly #server: Server;
  readonly #startedAt = performance.now();
  readonly #faults = new Faults();
  readonly #context: FakeContext;
  readonly #views: Views;
  readonly #responseUrls: ResponseUrls;
  readonly #streams: Streams;
  readonly #oauth: OAuth;
  readonly #dispatcher: Dispatcher;

  constructor(server: Server, origin: string, options: FakeSlackOptions) {
    this.#server = server;
    this.origin = origin;
    this.url = `${origin}/api/`;
    const ids = new Sequence();
    const workspaces = new Workspaces(options, ids);
    const users = new Users();
    users.add(workspaces.default.botUserId, "Bot");
    this.#context = { ids, store: new MessageStore(ids), workspaces, users };
    this.#views = new Views(this.#context);
    this.#responseUrls = new ResponseUrls(this.#context);
    this.#streams = new Streams(this.#context, {
      maxAgeMs: options.streamMaxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS,
      ...(options.streamIdleMs !== undefined ? { idleMs: options.streamIdleMs } : {}),
    });
    this.#oauth = new OAuth(workspaces, ids, (workspace) => {
      if (!users.has(workspace.botUserId))
        users.add(workspace.botUserId, "Bot", { teamId: workspace.teamId });
    });
    this.#dispatcher = new Dispatcher({
      origin,
      context: this.#context,
      faults: this.#faults,
      methods: this.#methodTable(),
      openMethods: new Map<string, OpenHandler>([
        ["oauth.v2.access", (args, basic) => this.#oauth.access(args, basic)],
      ]),
      responseUrls: this.#responseUrls,
    });
    server.on("request", (req, res) => {
      // Only a client hanging up mid-request gets here: drop the socket.
      this.#dispatcher.handle(req, res).catch(() => res.destroy());
    });
  }

  #methodTable(): Map<string, Handler> {
    const { workspaces, users } = this.#context;
    return new Map<string, Handler>([
      ["auth.test", (_args, caller) => workspaces.authTest(caller)],
      ["apps.connections.open", () => this.#openConnection()],
      ["users.info", (args, caller) => users.info(args, caller)],
      ...chatMethods(this.#context, (message) => this.#streams.isStreaming(message)),
      ...readMethods(this.#context),
      ...this.#views.methods(),
      ...this.#streams.methods(),
    ]);
  }

  // ---- identity ------------------------------------------------------------------------------------

  get token(): string {
    return this.#context.workspaces.defaultToken;
  }
  get appToken(): string {
    return this.#context.workspaces.appToken;
  }
  get teamId(): string {
    return this.#context.workspaces.default.teamId;
  }
  get botUserId(): string {
    return this.#context.workspaces.default.botUserId;
  }
  get botId(): string {
    return this.#context.workspaces.default.botId;
  }
  get appId(): string {
    return this.#context.workspaces.appId;
  }

  // ---- queries -------------------------------------------------------------------------------------

  get calls(): readonly RecordedCall[] {
    return this.#dispatcher.calls;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  resetCalls(): void {
    this.#dispatcher.calls = [];
  }

  messages(channel: string): StoredMessage[] {
    return this.#context.store.messages(channel);
  }

  thread(channel: string, threadTs: string): StoredMessage[] {
    return this.#context.store.thread(channel, threadTs);
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.#context.store.message(channel, ts);
  }

  ephemerals(channel?: string, user?: string): EphemeralMessage[] {
    return this.#context.store.ephemerals(channel, user);
  }

  views(): StoredView[] {
    return this.#views.list();
  }

  home(userId: string, teamId = this.teamId): StoredView | undefined {
    return this.#views.home(userId, teamId);
  }

  renderHome(userId: string, teamId = this.teamId): string {
    const blocks = this.home(userId, teamId)?.view.blocks;
    return Array.isArray(blocks) ? renderBlocks(blocks, this.#nameOf).join("\n") : "";
  }

  statuses(channel: string, threadTs: string): StatusUpdate[] {
    return this.#context.store.statuses(channel, threadTs);
  }

  currentStatus(channel: string, threadTs: string): string {
    return this.#context.store.currentStatus(channel, threadTs);
  }

  reactions(channel: string, ts: string): Reaction[] {
    return this.message(channel, ts)?.reactions ?? [];
  }

  streamHistory(channel: string, ts: string): ShownVersion[] {
    const message = this.message(channel, ts);
    if (!message?.stream) return [];
    this.#streams.isStreaming(message); // notes an expiry that is due
    return this.#context.store.shown(message);
  }

  seenAt(channel: string, threadTs: string, needle: string | RegExp): number | undefined {
    const everShown = this.#context.store
      .all(channel)
      .filter((m) => m.ts === threadTs || m.thread_ts === threadTs);
    const times = everShown
      .flatMap((m) => this.#context.store.shown(m))
      .filter((version) => matches(shownText(version, this.#nameOf), needle))
      .map((version) => version.at);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  timesShown(channel: string, threadTs: string, needle: string | RegExp): number {
    return this.thread(channel, threadTs).filter((m) => matches(shownText(m, this.#nameOf), needle)).length;
  }

  seen(channel: string, ts: string): Seen | undefined {
    const message = this.message(channel, ts);
    if (!message) return undefined;
    if (!message.stream) return seenText(message, { nameOf: this.#nameOf });
    // A stream: its markdown text, then the blocks shown under it.
    return renderSeen([{ type: "markdown", text: message.text }, ...(message.blocks ?? [])], {
      nameOf: this.#nameOf,
    });
  }

  render(channel: string, threadTs?: string): string {
    const shown =
      threadTs === undefined
        ? this.messages(channel).filter(
            (m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.reply_broadcast,
          )
        : this.thread(channel, threadTs);
    return renderMessages(shown, this.#nameOf);
  }

  installation(teamId: string): InstallationInfo | undefined {
    return this.#context.workspaces.installation(teamId);
  }

  // ---- test setup ----------------------------------------------------------------------------------

  addHumanMessage(input: HumanMessageInput): StoredMessage {
    const { teamId, ...message } = input;
    if (teamId) this.#context.workspaces.claimChannel(input.channel, teamId);
    return this.#context.store.store(message, "person");
  }

  addUser(id: string, realName: string, options: UserOptions = {}): void {
    this.#context.users.add(id, realName, options);
  }

  expireTrigger(triggerId: string): void {
    this.#views.expireTrigger(triggerId);
  }

  responseUrl(context: ResponseUrlContext = {}): string {
    return `${this.origin}/respond/${this.#responseUrls.create(context)}`;
  }

  registerApp(app: AppRegistration): void {
    this.#oauth.registerApp(app);
  }

  authorizeInstall(install: InstallInput): string {
    return this.#oauth.authorizeInstall(install);
  }

  expireTokens(teamId: string): void {
    this.#context.workspaces.expireTokens(teamId);
  }

  revokeTokens(teamId: string): void {
    this.#context.workspaces.revokeTokens(teamId);
  }

  // ---- faults --------------------------------------------------------------------------------------

  rateLimit(method: string, { retryAfterSeconds, times = 1 }: RateLimitOptions): void {
    const headers = { "retry-after": String(retryAfterSeconds) };
    this.#faults.add(method, times, new ApiFailure(slackError("ratelimited"), 429, headers));
  }

  failHttp(method: string, status: number, times = 1): void {
    this.#faults.add(method, times, new ApiFailure(slackError("service_unavailable"), status));
  }

  failNext(method: string, error: string, times = 1): void {
    this.#faults.add(method, times, failure(error));
  }

  failAfterStore(method: string, options: FailAfterStoreOptions): void {
    this.#faults.addAfterStore(method, options);
  }

  failedAfterStore(method?: string): RecordedCall[] {
    return this.calls.filter((c) => c.failedAfterStore && (method === undefined || c.method === method));
  }

  disableStreaming(error = "unknown_method"): void {
    this.#streams.disable(error);
  }

  enableStreaming(): void {
    this.#streams.disable(undefined);
  }

  delay(method: string, ms: number): void {
    this.#faults.setDelay(method, ms);
  }

  // ---- waiting and closing -------------------------------------------------------------------------

  waitFor<T>(probe: () => T | undefined | null | false, options: WaitForOptions = {}): Promise<T> {
    return waitFor(probe, options, { calls: this.calls, startedAt: this.#startedAt });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error ? reject(error) : resolve()));
      // fetch keeps connections alive; without this close() waits for them to time out. Held requests
      // (failAfterStore "timeout") end here too.
      this.#server.closeAllConnections();
    });
  }

  // ---- helpers -------------------------------------------------------------------------------------

  readonly #nameOf = (id: string): string => this.#context.users.nameOf(id);

  /** Socket Mode's handshake: a WebSocket URL to connect to. */
  #openConnection(): Json {
    const url = this.socketModeUrl ?? "wss://wss.fake.slack.test/link/";
    return { ok: true, url: `${url}?ticket=${this.#context.ids.next()}&app_id=${this.appId}` };
  }
}

function matches(text: string, needle: string | RegExp): boolean {
  return typeof needle === "string" ? text.includes(needle) : needle.test(text);
}
