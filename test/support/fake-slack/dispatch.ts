// Routes each HTTP request to its method, authenticates it, applies faults, records it in `calls`, and
// writes Slack's answer (or loses it, for failAfterStore).

import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { slackError } from "../block-kit-limits.ts";
import type { FakeContext, Handler } from "./context.ts";
import type { Faults } from "./faults.ts";
import type { ResponseUrls } from "./response-url.ts";
import type { FailAfterStoreMode, RecordedCall } from "./types.ts";
import {
  type Args,
  bearerToken,
  failure,
  type Json,
  parseArgs,
  parsed,
  readBody,
  send,
  settle,
  str,
  takeToken,
} from "./wire.ts";
import type { Workspace } from "./workspaces.ts";

/** Methods called without a token, with the client's credentials (from an HTTP Basic header, if any). */
export type OpenHandler = (args: Args, basic: { clientId: string; clientSecret: string } | undefined) => Json;

const ERROR_PAGE =
  "<html><head><title>500 Internal Server Error</title></head><body>Internal Server Error</body></html>";

export class Dispatcher {
  calls: RecordedCall[] = [];
  readonly #origin: string;
  readonly #context: FakeContext;
  readonly #faults: Faults;
  readonly #methods: ReadonlyMap<string, Handler>;
  readonly #openMethods: ReadonlyMap<string, OpenHandler>;
  readonly #responseUrls: ResponseUrls;

  constructor(input: {
    origin: string;
    context: FakeContext;
    faults: Faults;
    methods: ReadonlyMap<string, Handler>;
    openMethods: ReadonlyMap<string, OpenHandler>;
    responseUrls: ResponseUrls;
  }) {
    this.#origin = input.origin;
    this.#context = input.context;
    this.#faults = input.faults;
    this.#methods = input.methods;
    this.#openMethods = input.openMethods;
    this.#responseUrls = input.responseUrls;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const path = new URL(req.url ?? "/", this.#origin).pathname;
    const raw = await readBody(req);
    const args = parseArgs(raw, req.headers["content-type"]);
    if (req.method === "POST" && path.startsWith("/api/")) {
      const method = path.slice("/api/".length);
      const authorization = req.headers.authorization;
      const token = bearerToken(authorization) ?? takeToken(args);
      const open = this.#openMethods.get(method);
      const secretless = args ? withoutSecret(args) : { raw };
      await this.#answer(res, method, secretless, at, 200, (call) => {
        if (open) {
          this.#faults.check(method);
          return open(parsed(args), basicCredentials(authorization));
        }
        const handler = this.#methods.get(method);
        if (!handler) throw failure("unknown_method");
        const caller = this.#context.workspaces.authenticate(token, method);
        call.caller = caller;
        this.#checkChannel(args, caller);
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

  /** Another team's channel is `channel_not_found` (see Workspaces.checkChannel). */
  #checkChannel(args: Args | undefined, caller: Workspace): void {
    const channel = args ? (str(args, "channel") ?? str(args, "channel_id")) : undefined;
    if (channel) this.#context.workspaces.checkChannel(channel, caller);
  }

  /** Runs one call (after any delay), records it, and writes Slack's answer. */
  async #answer(
    res: ServerResponse,
    method: string,
    args: Args,
    at: number,
    errorStatus: number,
    run: (call: { caller?: Workspace }) => Json,
  ): Promise<void> {
    await this.#faults.wait(method);
    const who: { caller?: Workspace } = {};
    const { status, body, headers } = settle(() => run(who), errorStatus);
    const call: RecordedCall = { method, args, at, ok: body.ok === true };
    if (body.ok !== true) call.error = String(body.error);
    if (who.caller) {
      call.teamId = who.caller.teamId;
      if (who.caller.enterpriseId) call.enterpriseId = who.caller.enterpriseId;
    }
    this.calls.push(call);
    const lost = body.ok === true ? this.#faults.afterStore(method) : undefined;
    if (lost) {
      Object.assign(call, { ok: false, error: lost.mode, failedAfterStore: lost.mode });
      await loseAnswer(res, lost.mode, lost.body);
      return;
    }
    const scopes = (who.caller ?? this.#context.workspaces.default).scopes.join(",");
    send(res, status, body, { "x-oauth-scopes": scopes, ...headers });
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

function basicCredentials(
  header: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  const match = header?.match(/^Basic\s+(\S+)$/i);
  if (!match?.[1]) return undefined;
  const [clientId = "", ...rest] = Buffer.from(match[1], "base64").toString("utf8").split(":");
  return { clientId, clientSecret: rest.join(":") };
}

/** The recorded copy of a call's arguments never holds the app's client secret. */
function withoutSecret(args: Args): Args {
  if (!("client_secret" in args)) return args;
  const { client_secret: _secret, ...rest } = args;
  return rest;
}
