// Small HTTP plumbing: handlers return a Reply value instead of writing to the socket, so faults can
// replace, delay or drop an answer after the handler ran.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import type { z } from "zod";
import { describeIssues } from "./requests.ts";
import type { Workspace } from "./workspaces.ts";

export interface Reply {
  status: number;
  /** Serialized as JSON, unless `rawBody` is given. */
  body?: unknown;
  /** Sent verbatim: used for deliberately malformed answers. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** A body written piece by piece (server-sent events) instead of `body`. */
  stream?: StreamedBody;
}

/**
 * Writes the body through `write` until it returns: "end" finishes the response, "drop" destroys the
 * connection mid-body (what a client sees when a proxy or the network cuts a stream).
 */
export type StreamedBody = (write: (text: string) => void, signal: AbortSignal) => Promise<"end" | "drop">;

export interface RequestContext {
  method: string;
  url: URL;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Aborted when the client goes away or the emulator closes. */
  signal: AbortSignal;
  /** The workspace of the API key that made the request (API routes only). */
  workspace?: Workspace;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

/** Thrown inside handlers to answer with `{ error }` without threading early returns through helpers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function errorReply(status: number, message?: string, headers?: Record<string, string>): Reply {
  return {
    status,
    body: { error: message ?? STATUS_CODES[status] ?? `HTTP ${status}` },
    ...(headers && { headers }),
  };
}

export function jsonReply(body: unknown, status = 200): Reply {
  return { status, body };
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "Request body too large");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses the JSON body against a schema: 400 with a readable reason for bad JSON or a failed check. */
export function parseBody<T extends z.ZodType>(ctx: RequestContext, schema: T): z.infer<T> {
  const parsed = schema.safeParse(parseJson(ctx.rawBody));
  if (!parsed.success) throw new HttpError(400, `Invalid request body: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function parseJson(rawBody: string): unknown {
  if (rawBody.trim() === "") throw new HttpError(400, "Request body must be JSON");
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new HttpError(400, "Request body is not valid JSON");
  }
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const text = reply.rawBody ?? JSON.stringify(reply.body ?? null);
  res.writeHead(reply.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

/** Like writeReply, and for a streamed body keeps writing until it ends or the client goes away. */
export async function sendReply(res: ServerResponse, reply: Reply, signal: AbortSignal): Promise<void> {
  if (!reply.stream) return writeReply(res, reply);
  if (res.headersSent || res.destroyed) return;
  res.writeHead(reply.status, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    ...reply.headers,
  });
  // The status line goes out now: an event stream's first bytes may be a long way off.
  res.flushHeaders();
  let flushed: Promise<void> = Promise.resolve();
  const outcome = await reply.stream((text) => {
    if (res.destroyed) return;
    flushed = new Promise((resolve) => res.write(text, () => resolve()));
  }, signal);
  if (outcome === "end") return void res.end();
  // What was written reaches the client before the connection dies, as when a proxy cuts a stream.
  await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, 1000))]);
  res.destroy();
}

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? "");
  return match?.[1];
}
