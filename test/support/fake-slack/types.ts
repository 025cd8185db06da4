// The data the fake Slack stores and answers with, as tests read it.

export interface FakeSlackOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** The default workspace's bot token (never expires). Default "xoxb-test-token". */
  token?: string;
  /** The only app-level token (Socket Mode) the fake accepts, for apps.connections.open. Default "xapp-test-token". */
  appToken?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  /** Sent back in `x-oauth-scopes` for the default token. Default: the bot scopes of slack-notes.md. */
  scopes?: string[];
  /** A stream older than this answers `message_not_in_streaming_state`. Default 300000 (Slack's 5 minutes). */
  streamMaxAgeMs?: number;
  /** A stream without an append for this long stops streaming too. Default: never (Slack documents none). */
  streamIdleMs?: number;
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
  /** Set on messages posted by a bot. */
  bot_id?: string;
  text: string;
  blocks?: unknown[];
  metadata?: unknown;
  reply_broadcast?: boolean;
  edited?: { user: string; ts: string };
  edits: MessageVersion[];
  deleted: boolean;
  reactions: Reaction[];
  /** performance.now() when it was posted. */
  at: number;
  /** Set on messages created by chat.startStream. */
  stream?: StreamInfo;
}

export type StreamState = "streaming" | "stopped" | "expired";

export interface StreamInfo {
  /** "expired": older than streamMaxAgeMs (or idle), no longer accepting appends; the text stays. */
  state: StreamState;
  recipient_user_id?: string;
  recipient_team_id?: string;
  /** Chunks other than markdown_text (task_update, plan_update, blocks...), kept as sent. */
  chunks: unknown[];
  /** How many chat.appendStream calls it took. */
  appends: number;
  /** performance.now() of the start and of the last start/append/stop. */
  startedAt: number;
  lastActivityAt: number;
}

/** One state of a message as a person saw it, from `at` until the next one. */
export interface ShownVersion {
  at: number;
  text: string;
  blocks?: unknown[];
  /** The call that made it visible, or "expiry" when a stream stopped streaming on its own. */
  via: string;
  /** For streamed messages: whether it was still streaming. */
  stream?: StreamState;
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
  /** What the caller saw: false for an error answer, and for an answer lost after the call took effect. */
  ok: boolean;
  error?: string;
  /** Set when the call took effect (message stored, edit made...) but its answer was lost this way. */
  failedAfterStore?: FailAfterStoreMode;
  /** The workspace whose token made the call (an org-wide install: its enterprise id). */
  teamId?: string;
  enterpriseId?: string;
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
  /** The workspace of the interaction: whose bot posts and edits. Default: the default workspace. */
  teamId?: string;
}

export interface HumanMessageInput {
  channel: string;
  user: string;
  text: string;
  thread_ts?: string;
  blocks?: unknown[];
  /** The team the channel belongs to (see FakeSlack.authorizeInstall); default: whichever team uses it first. */
  teamId?: string;
}

export interface UserOptions {
  admin?: boolean;
  /** Owners are admins too. */
  owner?: boolean;
  /** The primary owner is an owner and an admin too. */
  primaryOwner?: boolean;
  /** Only this team's tokens find the person with users.info; default: every team's. */
  teamId?: string;
}

/** The app's OAuth credentials, as registered with Slack. */
export interface AppRegistration {
  clientId: string;
  clientSecret: string;
  /** Token rotation: bot tokens expire (`expires_in`) and come with a refresh token (`xoxe-`). */
  tokenRotation?: boolean;
  /** Lifetime of a rotating bot token. Default 43200 (12 hours, like Slack). */
  accessTokenTtlSeconds?: number;
  /**
   * After a refresh, the earlier bot tokens answer `token_expired` this many ms later (0: at once).
   * Default: they keep working until they expire, as on Slack.
   */
  rotatedTokenGraceMs?: number;
}

/** A person clicking "Allow" on the app's install page. */
export interface InstallInput {
  /** The team installed into; required unless isEnterpriseInstall. */
  teamId?: string;
  teamName?: string;
  /** The installing user (authed_user.id). */
  userId: string;
  enterpriseId?: string;
  enterpriseName?: string;
  /** An org-wide install: keyed by enterpriseId, `team: null` in oauth.v2.access. */
  isEnterpriseInstall?: boolean;
  /** Bot scopes granted. Default: the bot scopes of slack-notes.md. */
  scopes?: string[];
  /** When given, oauth.v2.access must send the same redirect_uri (else `bad_redirect_uri`). */
  redirectUri?: string;
  /** The registered app to install; default the last one registered. */
  clientId?: string;
  /** The bot's ids in that workspace; default derived from the team id (UBOT..., BBOT...), kept on reinstall. */
  botUserId?: string;
  botId?: string;
}

/** An installation as the fake knows it, with its newest live tokens. */
export interface InstallationInfo {
  /** The team id, or the enterprise id of an org-wide install. */
  teamId: string;
  teamName: string;
  enterpriseId?: string;
  isEnterpriseInstall: boolean;
  botUserId: string;
  botId: string;
  scopes: string[];
  botToken?: string;
  refreshToken?: string;
}

export interface RateLimitOptions {
  retryAfterSeconds: number;
  times?: number;
}

/**
 * How the answer to a call that took effect is lost:
 * - "http_500": HTTP 500, body `{ ok: false, error: "internal_error" }` (or an HTML page with body "html");
 * - "drop_connection": the socket is destroyed without an answer;
 * - "timeout": no answer at all; the request is held until the client gives up or the fake closes.
 */
export type FailAfterStoreMode = "http_500" | "drop_connection" | "timeout";

export interface FailAfterStoreOptions {
  mode: FailAfterStoreMode;
  /** How many calls lose their answer. Default 1; with `rate`, unlimited. */
  times?: number;
  /** Each successful call loses its answer with this probability (0 < rate <= 1), drawn from `seed`. */
  rate?: number;
  /** Seed for `rate` (default 1): the same seed picks the same calls. */
  seed?: number;
  /** For "http_500": a JSON body (default) or an HTML error page. */
  body?: "json" | "html";
}
