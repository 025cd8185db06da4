import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../logger.ts";

/**
 * The process's one HTTP server, listening from the first second of a start: `/healthz` answers at
 * once, `/readyz` says 503 until everything is ready, and the routes of the parts that start later
 * (Slack's `/slack/events`, the install pages, `/metrics`) are added as those parts come up. A route
 * asked for before it exists answers 503, so Slack delivers again later.
 */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServer {
  /** Listens on `port` (0 picks a free one); resolves with the port. */
  listen(port: number): Promise<number>;
  /** Adds or replaces a route. */
  route(method: "GET" | "POST", path: string, handler: RouteHandler): void;
  /** Paths that will exist once started (503 until then, instead of 404). */
  expect(...paths: string[]): void;
  /** What /readyz checks; undefined (the start) means not ready. */
  setReadiness(check: (() => Promise<boolean>) | undefined): void;
  readonly port: number | undefined;
  close(): Promise<void>;
}

export function createHttpServer(options: { logger: Logger }): HttpServer {
  const routes = new Map<string, RouteHandler>();
  const expected = new Set<string>();
  let readiness: (() => Promise<boolean>) | undefined;
  let listeningPort: number | undefined;

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const method = (req.method ?? "GET").toUpperCase();
    const handler = routes.get(`${method} ${path}`);
    if (handler) {
      Promise.resolve(handler(req, res)).catch((error: unknown) => {
        options.logger.error(
          { path, err: error instanceof Error ? error.message : String(error) },
          "http.failed",
        );
        if (!res.headersSent) json(res, 500, { ok: false });
      });
      return;
    }
    if (expected.has(path)) {
      json(res, 503, { ok: false, error: "starting" }, { "retry-after": "1" });
      return;
    }
    json(res, 404, { ok: false, error: "not found" });
  });
  // Slack's requests are small and quick: do not let a slow client hold a socket for minutes.
  server.requestTimeout = 30_000;

  const api: HttpServer = {
    listen(port) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, () => {
          server.off("error", reject);
          listeningPort = (server.address() as AddressInfo).port;
          resolve(listeningPort);
        });
      });
    },
    route(method, path, handler) {
      routes.set(`${method} ${path}`, handler);
    },
    expect(...paths) {
      for (const path of paths) expected.add(path);
    },
    setReadiness(check) {
      readiness = check;
    },
    get port() {
      return listeningPort;
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };

  api.route("GET", "/healthz", (_req, res) => json(res, 200, { ok: true }));
  api.route("GET", "/readyz", async (_req, res) => {
    const ready = readiness ? await readiness().catch(() => false) : false;
    json(res, ready ? 200 : 503, { ok: ready });
  });
  return api;
}

export function json(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
