// The fake Slack as tests use it.

import type { Seen } from "./seen.ts";
import type {
  AppRegistration,
  EphemeralMessage,
  FailAfterStoreOptions,
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

export interface FakeSlack {
  /** Where apps.connections.open sends Socket Mode clients; set by startFakeSocketMode. */
  socketModeUrl: string | undefined;
  /** Web API base URL, ending in "/api/": pass it as `slackApiUrl`. */
  readonly url: string;
  /** "http://127.0.0.1:PORT". */
  readonly origin: string;
  /** The default workspace's bot token: works from the start, never expires (unless expireTokens/revokeTokens). */
  readonly token: string;
  /** The app-level token (xapp-) for apps.connections.open. */
  readonly appToken: string;
  /** The default workspace and its bot's ids (other installations: installation(teamId)). */
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
  /** The Home tab a user sees in a team (default: the default team): the last views.publish for them. */
  home(userId: string, teamId?: string): StoredView | undefined;
  /** That Home tab as plain text, as render() shows blocks ("" when none was published). */
  renderHome(userId: string, teamId?: string): string;
  /** Every assistant.threads.setStatus for a thread, in order. */
  statuses(channel: string, threadTs: string): StatusUpdate[];
  /**
   * The status a person sees under the thread now: "" once cleared, after the bot posted a reply, or after a
   * stream's first append or its stop.
   */
  currentStatus(channel: string, threadTs: string): string;
  reactions(channel: string, ts: string): Reaction[];

  /** Stores a message from a person (with a fresh ts, coherent with the bot's) and returns it. */
  addHumanMessage(input: HumanMessageInput): StoredMessage;
  /**
   * Gives a user a real name for users.info and render(), and optionally roles (users.info's is_admin,
   * is_owner, is_primary_owner) and a team (then only that team's tokens find them).
   */
  addUser(id: string, realName: string, options?: UserOptions): void;
  /** Makes views.open/views.push answer `expired_trigger_id` for this trigger. */
  expireTrigger(triggerId: string): void;
  /** A fresh response_url served by the fake (up to 5 posts, like Slack's). */
  responseUrl(context?: ResponseUrlContext): string;

  // ---- several workspaces ----
  // The default workspace and its token always exist. Every call is made with one workspace's token
  // (RecordedCall.teamId) and acts as that workspace's bot. Channel ids are global, as in Slack: a channel
  // belongs to the team that first uses it (addHumanMessage with a teamId, or a bot call), and another team's
  // token gets `channel_not_found` there; org-wide installs reach every channel.
  /** Registers the app's OAuth client credentials (and token rotation) for oauth.v2.access. */
  registerApp(app: AppRegistration): void;
  /**
   * A person approves installing the app: returns the one-time `code` Slack would send to the redirect URL.
   * oauth.v2.access exchanges it (once) for a bot token of that workspace (team, or enterprise when org-wide).
   */
  authorizeInstall(install: InstallInput): string;
  /** The installation of a team (or enterprise) id, with its newest live tokens; the default team included. */
  installation(teamId: string): InstallationInfo | undefined;
  /** Its bot tokens now answer `token_expired` (refresh tokens still work). */
  expireTokens(teamId: string): void;
  /** All its tokens (bot and refresh) now answer `token_revoked` / `invalid_refresh_token`, as after an uninstall. */
  revokeTokens(teamId: string): void;

  /** The next `times` calls to `method` get HTTP 429 with Retry-After. */
  rateLimit(method: string, options: RateLimitOptions): void;
  /** The next `times` calls to `method` answer HTTP `status` (e.g. 503, a load balancer in trouble). */
  failHttp(method: string, status: number, times?: number): void;
  /** The next `times` calls to `method` answer `{ ok: false, error }`. */
  failNext(method: string, error: string, times?: number): void;
  /**
   * Ambiguous failures: the next successful calls to `method` (chat.postMessage, chat.update, chat.startStream,
   * any method) take effect (the message is stored, visible in thread() and conversations.replies) and then
   * their answer is lost (HTTP 500, dropped connection, or no answer). Recorded with `failedAfterStore`.
   */
  failAfterStore(method: string, options: FailAfterStoreOptions): void;
  /** Calls whose answer was lost after they took effect (see failAfterStore), optionally for one method. */
  failedAfterStore(method?: string): RecordedCall[];
  /** chat.startStream/appendStream/stopStream answer `error` (default unknown_method; e.g. not_allowed). */
  disableStreaming(error?: string): void;
  /** Undoes disableStreaming. */
  enableStreaming(): void;
  /** Every later call to `method` waits `ms` before answering; 0 removes the delay. */
  delay(method: string, ms: number): void;

  /** Resolves with the probe's first truthy value; a probe that throws counts as "not yet". */
  waitFor<T>(probe: () => T | undefined | null | false, options?: WaitForOptions): Promise<T>;
  /**
   * Every state a person saw of a streamed message (chat.startStream's ts), oldest first, with its
   * performance.now() time: the text so far, `stream` "streaming" / "stopped" / "expired". [] for other messages.
   */
  streamHistory(channel: string, ts: string): ShownVersion[];
  /**
   * performance.now() when text matching `needle` first became visible in the thread (any message, posted,
   * edited or streamed, deleted since or not), or undefined if it never did.
   */
  seenAt(channel: string, threadTs: string, needle: string | RegExp): number | undefined;
  /** How many messages of the thread show text matching `needle` now (1 = shown exactly once). */
  timesShown(channel: string, threadTs: string, needle: string | RegExp): number;
  /** What a person sees of one message (seenText with the fake's user names), or undefined if unknown. */
  seen(channel: string, ts: string): Seen | undefined;
  /** The thread (or, without threadTs, the channel's top level) as plain text, as a person reads it. */
  render(channel: string, threadTs?: string): string;
  close(): Promise<void>;
}
