// Drives a Bolt app over HTTP the way Slack does: signed requests to its receiver (default `/slack/events`)
// with JSON events, form-encoded slash commands and `payload=<json>` interactivity. Payloads follow the shapes
// Slack sends, so listeners see what they would see in production.

import { createHmac, randomBytes } from "node:crypto";
import type { ResponseUrlContext } from "./fake-slack.ts";
import { randomBlockId } from "./slack-events.ts";

// The event builders live in slack-events.ts; tests import them from here as well.
export * from "./slack-events.ts";

export interface SlackRequesterOptions {
  /** The app's origin, e.g. "http://127.0.0.1:3000". */
  baseUrl: string;
  signingSecret: string;
  /** Default "/slack/events". */
  path?: string;
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  /** The bot user named in event `authorizations`. Default "U0BOT". */
  botUserId?: string;
  /** The legacy `token` field Slack still puts in payloads. */
  verificationToken?: string;
  /** Clock in ms for request timestamps. Default Date.now. */
  now?: () => number;
  /** Makes the response_url of commands and interactions, e.g. `(context) => fake.responseUrl(context)`. */
  responseUrl?: (context: ResponseUrlContext) => string;
}

export interface SignOptions {
  /** x-slack-request-timestamp in seconds; a value 6 minutes old makes a stale request. */
  timestamp?: number;
  /** Signs with the wrong secret. */
  badSignature?: boolean;
  headers?: Record<string, string>;
}

export interface EventOptions extends SignOptions {
  eventId?: string;
  eventTime?: number;
  /** Sets x-slack-retry-num, as Slack does on redelivery. */
  retryNum?: number;
  /** x-slack-retry-reason; default "http_timeout" when retryNum is given. */
  retryReason?: string;
  authorizations?: unknown[];
}

export interface SlackHttpResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** What was sent: the event envelope, the command's fields or the interaction payload. */
  request: Record<string, unknown>;
}

/** A message as a payload carries it; a fake's stored message fits. */
export interface MessageRef {
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  user?: string;
  bot_id?: string;
}

export interface CommandInput {
  command?: string;
  text?: string;
  user_id: string;
  channel_id: string;
  user_name?: string;
  channel_name?: string;
  trigger_id?: string;
  response_url?: string;
  [field: string]: string | undefined;
}

export interface ActionInput {
  action_id: string;
  value?: string;
  /** Default: the block holding this action_id in the message or view. */
  block_id?: string;
  [field: string]: unknown;
}

export interface BlockActionInput {
  user: string;
  channel?: string;
  message?: MessageRef;
  /** For actions inside a modal or Home tab, instead of channel + message. */
  view?: Record<string, unknown>;
  actions: ActionInput[];
  trigger_id?: string;
  response_url?: string;
  container?: Record<string, unknown>;
  state?: { values: Record<string, unknown> };
}

export interface ShortcutInput {
  callback_id: string;
  user: string;
  trigger_id?: string;
}

export interface MessageShortcutInput extends ShortcutInput {
  channel: string;
  message: MessageRef;
  response_url?: string;
}

export interface ViewSubmissionInput {
  user: string;
  view: Record<string, unknown> & { callback_id: string; state?: { values: Record<string, unknown> } };
  trigger_id?: string;
  response_urls?: unknown[];
}

export interface SlackRequester {
  event(event: Record<string, unknown>, options?: EventOptions): Promise<SlackHttpResponse>;
  command(input: CommandInput, options?: SignOptions): Promise<SlackHttpResponse>;
  /** Any interactivity payload, sent as is. */
  action(payload: Record<string, unknown>, options?: SignOptions): Promise<SlackHttpResponse>;
  blockAction(input: BlockActionInput, options?: SignOptions): Promise<SlackHttpResponse>;
  shortcut(input: ShortcutInput, options?: SignOptions): Promise<SlackHttpResponse>;
  messageShortcut(input: MessageShortcutInput, options?: SignOptions): Promise<SlackHttpResponse>;
  viewSubmission(input: ViewSubmissionInput, options?: SignOptions): Promise<SlackHttpResponse>;
  viewClosed(input: ViewSubmissionInput, options?: SignOptions): Promise<SlackHttpResponse>;
  /** A body sent verbatim (but signed), for malformed requests. Content type default: JSON. */
  raw(body: string, headers?: Record<string, string>, options?: SignOptions): Promise<SlackHttpResponse>;
  urlVerification(challenge: string, options?: SignOptions): Promise<SlackHttpResponse>;
}

/** `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`): Slack's request signature. */
export function signSlackRequest(signingSecret: string, timestampSeconds: number, body: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestampSeconds}:${body}`).digest("hex")}`;
}

// Port 9 (discard) refuses connections: a respond() with no response_url factory fails fast, on this machine.
const UNROUTED_RESPONSE_URL = "http://127.0.0.1:9/respond/unset";
const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

export function createSlackRequester(options: SlackRequesterOptions): SlackRequester {
  const endpoint = new URL(options.path ?? "/slack/events", options.baseUrl).toString();
  const teamId = options.teamId ?? "T0TEAM";
  const team = { id: teamId, domain: options.teamDomain ?? "fake-team" };
  const appId = options.appId ?? "A0APP";
  const token = options.verificationToken ?? "fake-verification-token";
  const now = options.now ?? Date.now;
  const responseUrl = (context: ResponseUrlContext) =>
    options.responseUrl?.(context) ?? UNROUTED_RESPONSE_URL;
  const common = { token, api_app_id: appId, team, is_enterprise_install: false, enterprise: null };
  const user = (id: string) => ({ id, username: id.toLowerCase(), name: id.toLowerCase(), team_id: teamId });

  async function post(
    body: string,
    headers: Record<string, string>,
    sign: SignOptions,
    request: Record<string, unknown>,
  ): Promise<SlackHttpResponse> {
    const timestamp = sign.timestamp ?? Math.floor(now() / 1000);
    const secret = sign.badSignature ? `not-${options.signingSecret}` : options.signingSecret;
    const response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": JSON_TYPE,
        ...headers,
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signSlackRequest(secret, timestamp, body),
        ...sign.headers,
      },
      body,
    });
    return {
      status: response.status,
      body: await response.text(),
      headers: Object.fromEntries(response.headers),
      request,
    };
  }

  const interaction = (payload: Record<string, unknown>, sign: SignOptions = {}) =>
    post(
      new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      { "content-type": FORM },
      sign,
      payload,
    );

  return {
    event(event, opts = {}) {
      const envelope = {
        token,
        team_id: teamId,
        context_team_id: teamId,
        context_enterprise_id: null,
        api_app_id: appId,
        event,
        type: "event_callback",
        event_id: opts.eventId ?? newEventId(),
        event_time: opts.eventTime ?? Math.floor(now() / 1000),
        authorizations: opts.authorizations ?? [
          {
            enterprise_id: null,
            team_id: teamId,
            user_id: options.botUserId ?? "U0BOT",
            is_bot: true,
            is_enterprise_install: false,
          },
        ],
        is_ext_shared_channel: false,
        event_context: `4-${randomBytes(24).toString("base64url")}`,
      };
      const retry: Record<string, string> =
        opts.retryNum === undefined
          ? {}
          : {
              "x-slack-retry-num": String(opts.retryNum),
              "x-slack-retry-reason": opts.retryReason ?? "http_timeout",
            };
      return post(JSON.stringify(envelope), retry, opts, envelope);
    },

    command(input, opts = {}) {
      const context = { channel: input.channel_id, user: input.user_id };
      const fields: Record<string, string | undefined> = {
        token,
        team_id: teamId,
        team_domain: team.domain,
        channel_name: input.channel_id.toLowerCase(),
        user_name: input.user_id.toLowerCase(),
        command: "/draft",
        text: "",
        api_app_id: appId,
        is_enterprise_install: "false",
        ...input,
        response_url: input.response_url ?? responseUrl(context),
        trigger_id: input.trigger_id ?? newTriggerId(),
      };
      const defined = Object.fromEntries(
        Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
      );
      return post(new URLSearchParams(defined).toString(), { "content-type": FORM }, opts, defined);
    },

    action: interaction,

    blockAction(input, opts) {
      const { message, view, channel } = input;
      const blocks = message?.blocks ?? (Array.isArray(view?.blocks) ? view.blocks : []);
      const context = { channel, user: input.user, messageTs: message?.ts, threadTs: message?.thread_ts };
      const container = message
        ? {
            type: "message",
            message_ts: message.ts,
            channel_id: channel,
            is_ephemeral: false,
            thread_ts: message.thread_ts,
          }
        : { type: "view", view_id: view?.id };
      return interaction(
        {
          type: "block_actions",
          ...common,
          user: user(input.user),
          container: input.container ?? container,
          trigger_id: input.trigger_id ?? newTriggerId(),
          ...(channel ? { channel: { id: channel, name: channel.toLowerCase() } } : {}),
          ...(message ? { message: wireMessage(message, teamId) } : {}),
          ...(view ? { view } : {}),
          state: input.state ?? { values: {} },
          ...(message ? { response_url: input.response_url ?? responseUrl(context) } : {}),
          actions: input.actions.map((action) => blockActionItem(action, blocks, actionTs(now))),
        },
        opts,
      );
    },

    shortcut(input, opts) {
      return interaction(
        {
          type: "shortcut",
          ...common,
          action_ts: actionTs(now),
          user: user(input.user),
          callback_id: input.callback_id,
          trigger_id: input.trigger_id ?? newTriggerId(),
        },
        opts,
      );
    },

    messageShortcut(input, opts) {
      const { channel, message } = input;
      const context = { channel, user: input.user, messageTs: message.ts, threadTs: message.thread_ts };
      return interaction(
        {
          type: "message_action",
          ...common,
          action_ts: actionTs(now),
          user: user(input.user),
          channel: { id: channel, name: channel.toLowerCase() },
          callback_id: input.callback_id,
          trigger_id: input.trigger_id ?? newTriggerId(),
          response_url: input.response_url ?? responseUrl(context),
          message_ts: message.ts,
          message: wireMessage(message, teamId),
        },
        opts,
      );
    },

    viewSubmission(input, opts) {
      return interaction(
        {
          type: "view_submission",
          ...common,
          user: user(input.user),
          trigger_id: input.trigger_id ?? newTriggerId(),
          view: submittedView(input.view, teamId, appId),
          response_urls: input.response_urls ?? [],
        },
        opts,
      );
    },

    viewClosed(input, opts) {
      return interaction(
        {
          type: "view_closed",
          ...common,
          user: user(input.user),
          view: submittedView(input.view, teamId, appId),
          is_cleared: false,
        },
        opts,
      );
    },

    raw(body, headers = {}, opts = {}) {
      return post(body, headers, opts, { raw: body });
    },

    urlVerification(challenge, opts = {}) {
      const payload = { token, challenge, type: "url_verification" };
      return post(JSON.stringify(payload), {}, opts, payload);
    },
  };
}

/** Fills an action from the element that carries its action_id, as Slack does (block_id, type, text). */
function blockActionItem(action: ActionInput, blocks: unknown[], action_ts: string): Record<string, unknown> {
  const found = findElement(blocks, action.action_id);
  return {
    type: found?.element.type ?? "button",
    block_id: found?.blockId ?? randomBlockId(),
    ...(found?.element.text ? { text: found.element.text } : {}),
    ...(found?.element.value !== undefined ? { value: found.element.value } : {}),
    action_ts,
    ...action,
  };
}

function findElement(blocks: unknown[], actionId: string) {
  for (const block of blocks) {
    if (!isObject(block)) continue;
    const candidates = [
      ...(Array.isArray(block.elements) ? block.elements : []),
      block.accessory,
      block.element,
    ];
    const element = candidates.find(
      (c): c is Record<string, unknown> => isObject(c) && c.action_id === actionId,
    );
    if (element)
      return { element, blockId: typeof block.block_id === "string" ? block.block_id : randomBlockId() };
  }
  return undefined;
}

function submittedView(
  view: ViewSubmissionInput["view"],
  teamId: string,
  appId: string,
): Record<string, unknown> {
  const id = typeof view.id === "string" ? view.id : `V${randomBytes(5).toString("hex").toUpperCase()}`;
  return {
    id,
    team_id: teamId,
    type: "modal",
    blocks: [],
    private_metadata: "",
    state: { values: {} },
    hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString("hex")}`,
    clear_on_close: false,
    notify_on_close: false,
    close: null,
    submit: null,
    previous_view_id: null,
    root_view_id: id,
    app_id: appId,
    external_id: "",
    app_installed_team_id: teamId,
    bot_id: "B0BOT",
    ...view,
  };
}

function wireMessage(message: MessageRef, teamId: string): Record<string, unknown> {
  const { ts, thread_ts, text, blocks, user, bot_id } = message;
  return { type: "message", user, bot_id, text: text ?? "", ts, thread_ts, blocks, team: teamId };
}

function actionTs(now: () => number): string {
  return (now() / 1000).toFixed(6);
}

function newEventId(): string {
  return `Ev${randomBytes(5).toString("hex").toUpperCase()}`;
}

/** Slack trigger ids look like "1234567890123.1234567890.0123456789abcdef0123456789abcdef". */
function newTriggerId(): string {
  const digits = (n: number) => String(randomBytes(6).readUIntBE(0, 6)).padStart(n, "0").slice(-n);
  return `${digits(13)}.${digits(10)}.${randomBytes(16).toString("hex")}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
