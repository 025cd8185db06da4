import type { IncomingMessage, ServerResponse } from "node:http";
import { type App, HTTPModuleFunctions as http, type Receiver, type ReceiverEvent } from "@slack/bolt";
import { SocketModeClient } from "@slack/socket-mode";
import type { Logger } from "../logger.ts";
import { classifyPayload } from "./payloads.ts";

/**
 * How Slack's deliveries reach Bolt, over HTTP or Socket Mode, with one rule for both: Slack is told
 * "received" only once the message is recorded.
 *
 * Bolt acknowledges an Events API delivery before its listeners run. Here that acknowledgement is held
 * back until the listeners have returned: event listeners record the message and return, leaving every
 * Slack or Puffle call to run afterwards. A click, command or submission is answered as soon as its
 * listener calls `ack()`, while the rest of the listener goes on. A listener that fails before the
 * answer makes the delivery fail (HTTP 500, or no Socket Mode ack), so Slack sends it again.
 */
export interface IntakeReceiver extends Receiver {
  /** POST /slack/events (HTTP mode): signature, shape, then Bolt. */
  handleHttp(req: IncomingMessage, res: ServerResponse): void;
  /** Resolves when no delivery is being processed (tests and shutdown). */
  idle(): Promise<void>;
  /** Deliveries being processed now. */
  readonly inFlight: number;
}

export interface IntakeReceiverOptions {
  logger: Logger;
  /** HTTP mode: every request is checked against it. */
  signingSecret?: string | undefined;
  /** Socket Mode: the app-level token (xapp-...). */
  appToken?: string | undefined;
  slackApiUrl: string;
}

type Respond = (body: unknown) => Promise<void>;

export function createIntakeReceiver(options: IntakeReceiverOptions): IntakeReceiver {
  const { logger } = options;
  let app: App | undefined;
  let socket: SocketModeClient | undefined;
  const inFlight = new Set<Promise<unknown>>();

  /**
   * Runs one delivery through Bolt and answers it once: when its listener acks (interactive payloads)
   * or when the listeners are done (events). Rejects when nothing could be answered.
   */
  async function dispatch(
    body: Record<string, unknown>,
    retry: { num: number | undefined; reason: string | undefined },
    respond: Respond,
  ): Promise<void> {
    if (!app) throw new Error("the receiver was not initialised by Bolt");
    const isEvent = body.type === "event_callback";
    let answered = false;
    let stored: { body: unknown } | undefined;
    let onAck: () => void = () => {};
    const acked = new Promise<void>((resolve) => {
      onAck = resolve;
    });
    const event: ReceiverEvent = {
      body,
      retryNum: retry.num,
      retryReason: retry.reason,
      ack: async (response?: unknown) => {
        if (stored) return;
        stored = { body: response };
        onAck();
      },
    };
    const processed = app.processEvent(event);
    const tracked = processed.catch((error: unknown) => {
      if (answered) logger.error({ err: describe(error) }, "slack.listener_failed_after_ack");
    });
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
    // Events: after the listeners recorded the message. Interactivity: as soon as the listener acks.
    if (isEvent) await processed;
    else await Promise.race([acked, processed]);
    answered = true;
    if (!stored) logger.debug({ type: body.type }, "slack.answered_without_ack");
    await respond(stored?.body);
  }

  const receiver: IntakeReceiver = {
    init(bolt: App) {
      app = bolt;
    },

    handleHttp(req, res) {
      void (async () => {
        let buffered: Awaited<ReturnType<typeof http.parseAndVerifyHTTPRequest>>;
        try {
          buffered = await http.parseAndVerifyHTTPRequest(
            { enabled: Boolean(options.signingSecret), signingSecret: options.signingSecret ?? "" },
            req,
          );
        } catch (error) {
          if (http.isRawBodyError(error) && (error as { statusCode?: number }).statusCode === 413) {
            http.buildNoBodyResponse(res, 413);
            return;
          }
          logger.warn({ err: describe(error) }, "slack.request_refused");
          http.buildNoBodyResponse(res, 401);
          return;
        }
        let body: Record<string, unknown>;
        try {
          body = http.parseHTTPRequestBody(buffered) as Record<string, unknown>;
        } catch {
          reject(res, 400, "the body is not a Slack payload");
          return;
        }
        if (body.ssl_check === "1") return http.buildSSLCheckResponse(res);
        if (body.type === "url_verification") return http.buildUrlVerificationResponse(res, body);
        const kind = classifyPayload(body);
        if (!kind.ok) {
          logger.warn({ problem: kind.problem }, "slack.payload_malformed");
          reject(res, 400, kind.problem);
          return;
        }
        const retry = {
          num: http.extractRetryNumFromHTTPRequest(req),
          reason: http.extractRetryReasonFromHTTPRequest(req),
        };
        try {
          await dispatch(body, retry, async (answer) => http.buildContentResponse(res, answer));
        } catch (error) {
          // Nothing was recorded or answered: a 500 makes Slack deliver it again.
          logger.error({ err: describe(error), type: body.type }, "slack.delivery_failed");
          if (!res.headersSent) http.buildNoBodyResponse(res, 500);
        }
      })();
    },

    async start() {
      if (!options.appToken) return undefined;
      socket = new SocketModeClient({
        appToken: options.appToken,
        logger: toSocketLogger(logger),
        clientOptions: { slackApiUrl: options.slackApiUrl },
      });
      socket.on("slack_event", async (args: SocketEventArgs) => {
        const body = args.body;
        const kind = body && typeof body === "object" ? classifyPayload(body) : { ok: false as const };
        if (!kind.ok) {
          // There is no status code to send back: acknowledge it so it is not delivered again and again.
          logger.warn(
            { problem: "problem" in kind ? kind.problem : "not an object" },
            "slack.payload_malformed",
          );
          await args.ack();
          return;
        }
        try {
          await dispatch(body, { num: args.retry_num, reason: args.retry_reason }, (answer) =>
            answer === undefined || answer === "" ? args.ack() : args.ack(answer),
          );
        } catch (error) {
          // No ack: Slack delivers it again after a short while.
          logger.error({ err: describe(error), type: body.type }, "slack.delivery_failed");
        }
      });
      await socket.start();
      return undefined;
    },

    async stop() {
      await socket?.disconnect();
      socket = undefined;
      await receiver.idle();
    },

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    get inFlight() {
      return inFlight.size;
    },
  };
  return receiver;
}

interface SocketEventArgs {
  ack: (response?: unknown) => Promise<void>;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
}

function reject(res: ServerResponse, status: number, problem: string) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ ok: false, error: problem }));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toSocketLogger(logger: Logger) {
  const child = logger.child({ component: "socket-mode" });
  const text = (parts: unknown[]) =>
    parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ");
  return {
    debug: (...msg: unknown[]) => child.debug(text(msg)),
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: () => {},
    getLevel: () => "info" as never,
    setName: () => {},
  };
}
