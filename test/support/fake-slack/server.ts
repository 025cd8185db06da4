// The fake's HTTP server: routes Web API and response_url requests to the handlers, applies faults,
// records every call, and answers the queries tests make.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { slackError } from "../block-kit-limits.ts";
import type { FakeSlack } from "./api.ts";
import { chatMethods } from "./chat.ts";
import type { FakeContext, Handler } from "./context.ts";
import { Faults } from "./faults.ts";
import { readMethods } from "./reads.ts";
import { renderMessages, shownText } from "./render.ts";
import { ResponseUrls } from "./response-url.ts";
import { MessageStore } from "./store.ts";
import { DEFAULT_STREAM_MAX_AGE_MS, Streams } from "./streams.ts";
import type {
  EphemeralMessage,
  FailAfterStoreMode,
  FailAfterStoreOptions,
  FakeSlackOptions,
  HumanMessageInput,
  RateLimitOptions,
  Reaction,
  RecordedCall,
  ResponseUrlContext,
  ShownVersion,
  StatusUpdate,
  StoredMessage,
  StoredView,
  WaitForOptions,
} from "./types.ts";
import { Views } from "./views.ts";
import {
  ApiFailure,
  type Args,
  bearerToken,
  failure,
  type Json,
  parseArgs,
  parsed,
  readBody,
  Sequence,
  send,
  settle,
  takeToken,
} from "./wire.ts";
import { Workspaces } from "./workspaces.ts";

const RECENT_CALLS_IN_REPORT = 20;
const ERROR_PAGE =
  "<html><head><title>500 Internal Server Error</title></head><body>Internal Server Error</body></html>";

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
  readonly #methods: ReadonlyMap<string, Handler>;
  #calls: RecordedCall[] = [];

  constructor(server: Server, origin: string, options: FakeSlackOptions) {
    this.#server = server;
    this.origin = origin;
    this.url = `${origin}/api/`;
    const ids = new Sequence();
    this.#context = { ids, store: new MessageStore(ids), workspaces: new Workspaces(options) };
    this.#views = new Views(this.#context);
    this.#responseUrls = new ResponseUrls(this.#context);
    this.#streams = new Streams(this.#context, {
      maxAgeMs: options.streamMaxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS,
      ...(options.streamIdleMs !== undefined ? { idleMs: options.streamIdleMs } : {}),
    });
    this.#methods = this.#methodTable();
    server.on("request", (req, res) => {
      // Only a client hanging up mid-request gets here: drop the socket.
      this.#handle(req, res).catch(() => res.destroy());
    });
  }

  #methodTable(): Map<string, Handler> {
    const { workspaces } = this.#context;
    return new Map<string, Handler>([
      ["auth.test", (_args, caller) => workspaces.authTest(caller)],
      ["apps.connections.open", () => this.#openConnection()],
      ["users.info", (args, caller) => workspaces.userInfo(args, caller)],
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
    return this.#calls;
  }

  callsTo(method: string): RecordedCall[] {
    return this.#calls.filter((call) => call.method === method);
  }

  resetCalls(): void {
    this.#calls = [];
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
    const nameOf = (id: string) => this.#context.workspaces.nameOf(id);
    const times = this.#context.store
      .all(channel)
      .filter((m) => m.ts === threadTs || m.thread_ts === threadTs)
      .flatMap((m) => this.#context.store.shown(m))
      .filter((version) => matches(shownText(version, nameOf), needle))
      .map((version) => version.at);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  timesShown(channel: string, threadTs: string, needle: string | RegExp): number {
    const nameOf = (id: string) => this.#context.workspaces.nameOf(id);
    return this.thread(channel, threadTs).filter((m) => matches(shownText(m, nameOf), needle)).length;
  }

  render(channel: string, threadTs?: string): string {
    const shown =
      threadTs === undefined
        ? this.messages(channel).filter(
            (m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.reply_broadcast,
          )
        : this.thread(channel, threadTs);
    return renderMessages(shown, (id) => this.#context.workspaces.nameOf(id));
  }

  // ---- test setup ----------------------------------------------------------------------------------

  addHumanMessage(input: HumanMessageInput): StoredMessage {
    return this.#context.store.store({ ...input }, "person");
  }

  addUser(id: string, realName: string): void {
    this.#context.workspaces.addUser(id, realName);
  }

  expireTrigger(triggerId: string): void {
    this.#views.expireTrigger(triggerId);
  }

  responseUrl(context: ResponseUrlContext = {}): string {
    return `${this.origin}/respond/${this.#responseUrls.create(context)}`;
  }

  // ---- faults --------------------------------------------------------------------------------------

  rateLimit(method: string, { retryAfterSeconds, times = 1 }: RateLimitOptions): void {
    const headers = { "retry-after": String(retryAfterSeconds) };
    this.#faults.add(method, times, new ApiFailure(slackError("ratelimited"), 429, headers));
  }

  failNext(method: string, error: string, times = 1): void {
    this.#faults.add(method, times, failure(error));
  }

  failAfterStore(method: string, options: FailAfterStoreOptions): void {
    this.#faults.addAfterStore(method, options);
  }

  failedAfterStore(method?: string): RecordedCall[] {
    return this.#calls.filter((c) => c.failedAfterStore && (method === undefined || c.method === method));
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

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error ? reject(error) : resolve()));
      // fetch keeps connections alive; without this close() waits for them to time out. Held requests
      // (failAfterStore "timeout") end here too.
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
        const caller = this.#context.workspaces.authenticate(token, method);
        this.#faults.check(method);
        return handler(parsed(args), caller);
      });
    } else if (req.method === "POST" && path.startsWith("/respond/")) {
      const id = path.slice("/respond/".length);
      // Slack's response_url answers failures with an HTTP error status (Bolt's respond() throws on them).
      await this.#answer(res, "response_url", args ?? { raw }, at, 400, () => {
        this.#faults.check("response_url");
        return this.#responseUrls.post(id, parsed(args));
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
  ): Promise<void> {
    await this.#faults.wait(method);
    const { status, body, headers } = settle(run, errorStatus);
    const call: RecordedCall = { method, args, at, ok: body.ok === true };
    if (body.ok !== true) call.error = String(body.error);
    this.#calls.push(call);
    const lost = body.ok === true ? this.#faults.afterStore(method) : undefined;
    if (lost) {
      Object.assign(call, { ok: false, error: lost.mode, failedAfterStore: lost.mode });
      await loseAnswer(res, lost.mode, lost.body);
      return;
    }
    const scopes = this.#context.workspaces.default.scopes.join(",");
    send(res, status, body, { "x-oauth-scopes": scopes, ...headers });
  }

  /** Socket Mode's handshake: a WebSocket URL to connect to. */
  #openConnection(): Json {
    const url = this.socketModeUrl ?? "wss://wss.fake.slack.test/link/";
    return { ok: true, url: `${url}?ticket=${this.#context.ids.next()}&app_id=${this.appId}` };
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

/** The answer of a call that took effect, lost the way a test asked for (see failAfterStore). */
async function loseAnswer(
  res: ServerResponse,
  mode: FailAfterStoreMode,
  body: "json" | "html",
): Promise<void> {
  switch (mode) {
    case "http_500":
      if (body === "html") {
        res.writeHead(500, { "content-type": "text/html; charset=utf-8" });
        res.end(ERROR_PAGE);
      } else send(res, 500, slackError("internal_error"));
      return;
    case "drop_connection":
      res.socket?.destroy();
      return;
    case "timeout":
      // Never answered: the request ends when the client aborts it or close() destroys the connection.
      await new Promise<void>((resolve) => res.once("close", () => resolve()));
      return;
  }
}

function matches(text: string, needle: string | RegExp): boolean {
  return typeof needle === "string" ? text.includes(needle) : needle.test(text);
}
