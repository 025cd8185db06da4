// HTTP plumbing and argument helpers shared by the fake's method handlers.

import type { IncomingMessage, ServerResponse } from "node:http";
import { type SlackErrorBody, slackError } from "../block-kit-limits.ts";

export type Args = Record<string, unknown>;
export type Json = Record<string, unknown>;

/** Thrown by handlers: becomes the HTTP answer. `status` undefined means the caller's default. */
export class ApiFailure extends Error {
  constructor(
    readonly body: SlackErrorBody,
    readonly status?: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error);
  }
}

export const failure = (error: string, messages?: string[]) => new ApiFailure(slackError(error, messages));
export const missingArgument = (name: string) =>
  failure("invalid_arguments", [`[ERROR] missing required field: ${name}`]);

/** Form fields the WebClient sends as JSON strings. */
const JSON_FIELDS = new Set(["blocks", "attachments", "metadata", "view", "loading_messages", "chunks"]);

export interface Settled {
  status: number;
  body: Json;
  headers?: Record<string, string>;
}

/** Runs a handler and turns its result or its ApiFailure into Slack's answer. */
export function settle(run: () => Json, errorStatus: number): Settled {
  try {
    return { status: 200, body: run() };
  } catch (error) {
    // A bug in the fake must fail the calling test loudly, not hang it or crash the worker.
    const known = error instanceof ApiFailure ? error : new ApiFailure(internalError(error), 500);
    return { status: known.status ?? errorStatus, body: { ...known.body }, headers: known.headers };
  }
}

function internalError(error: unknown): SlackErrorBody {
  return slackError("fake_slack_internal_error", [String(error instanceof Error ? error.stack : error)]);
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Decodes a JSON or form body; `undefined` when a JSON body does not parse. */
export function parseArgs(raw: string, contentType: string | undefined): Args | undefined {
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

export function parsed(args: Args | undefined): Args {
  if (!args) throw failure("invalid_json");
  return args;
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

/** Removes a `token` form field so it is neither recorded nor mistaken for an argument. */
export function takeToken(args: Args | undefined): string | undefined {
  if (!args) return undefined;
  const token = str(args, "token");
  delete args.token;
  return token;
}

export function str(args: Args, key: string): string | undefined {
  const value = args[key];
  if (typeof value === "string") return value;
  return typeof value === "number" ? String(value) : undefined;
}

export function required(args: Args, key: string): string {
  const value = str(args, key);
  if (!value) throw missingArgument(key);
  return value;
}

/** Slack answers `channel_not_found` rather than a missing-argument error when no channel is given. */
export function requireChannel(args: Args): string {
  const channel = str(args, "channel");
  if (!channel) throw failure("channel_not_found");
  return channel;
}

export function flag(args: Args, key: string): boolean {
  const value = args[key];
  return value === true || value === "true" || value === "1" || value === 1;
}

export function threadKey(channel: string, threadTs: string): string {
  return `${channel}/${threadTs}`;
}

/** "U0DANA" -> "Dana"; ids without a readable name -> "User U123". */
export function nameFromId(id: string): string {
  const rest = id.replace(/^[UW]0?/, "");
  return /^[A-Z]+$/.test(rest) ? rest.charAt(0) + rest.slice(1).toLowerCase() : `User ${id}`;
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Unique, increasing ids and Slack-style timestamps, shared by everything the fake creates. */
export class Sequence {
  #value = 0;

  next(): number {
    this.#value += 1;
    return this.#value;
  }

  /** "1700000000.000100", "1700000000.000200", ... */
  nextTs(): string {
    const micros = this.next() * 100;
    return `${1_700_000_000 + Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, "0")}`;
  }

  nextHash(): string {
    const n = this.next();
    return `${1_700_000_000 + n}.${n.toString(16).padStart(8, "0")}`;
  }
}
