import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A round-robin load balancer in front of several bot replicas, as Slack's requests would meet in
 * production: each request goes to the next replica; a replica that refuses the connection (killed,
 * restarting) is skipped, since the request never reached it.
 */
export interface Front {
  readonly url: string;
  /** Replaces the set of replica ports (a rolling restart brings new ones). */
  setBackends(ports: number[]): void;
  /** How many requests each backend port answered. */
  readonly served: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

export async function startFront(initial: number[] = []): Promise<Front> {
  let backends = [...initial];
  let next = 0;
  const served = new Map<number, number>();

  const forward = (body: Buffer, incoming: IncomingMessage, port: number) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
      (resolve, reject) => {
        const outgoing = request(
          {
            host: "127.0.0.1",
            port,
            method: incoming.method,
            path: incoming.url,
            headers: { ...incoming.headers, host: `127.0.0.1:${port}` },
          },
          (answer) => {
            const chunks: Buffer[] = [];
            answer.on("data", (chunk: Buffer) => chunks.push(chunk));
            answer.on("end", () =>
              resolve({
                status: answer.statusCode ?? 502,
                headers: answer.headers,
                body: Buffer.concat(chunks),
              }),
            );
            answer.on("error", reject);
          },
        );
        outgoing.on("error", reject);
        outgoing.end(body);
      },
    );

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      for (let tries = 0; tries < Math.max(1, backends.length); tries++) {
        const port = backends[next++ % Math.max(1, backends.length)];
        if (port === undefined) break;
        try {
          const answer = await forward(body, req, port);
          served.set(port, (served.get(port) ?? 0) + 1);
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
          return;
        } catch (error) {
          // Refused: the replica is not there. Anything else may have reached it: answer as an LB does.
          if ((error as { code?: string }).code === "ECONNREFUSED") continue;
          res.writeHead(502);
          res.end();
          return;
        }
      }
      res.writeHead(503);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setBackends(ports) {
      backends = [...ports];
    },
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
