import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The round-robin front of `npm run dev -- --replicas N` in HTTP mode, listening on PORT where Slack's
 * requests (through your tunnel) arrive. Each request goes whole to the next replica: headers and body
 * bytes as received, since the replica checks Slack's signature over them. A replica that refuses the
 * connection (killed by hand, say) is skipped: the request never reached it.
 */
export interface DevFront {
  port: number;
  close(): Promise<void>;
}

export interface Backend {
  name: string;
  port: number;
}

export async function startDevFront(options: {
  port: number;
  host?: string;
  /** The replicas to spread over, asked at every request (a stopped one may be gone). */
  backends: () => readonly Backend[];
}): Promise<DevFront> {
  let next = 0;

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    // Read whole, so that the same bytes can go to another replica when the first is not there.
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const backends = options.backends();
    for (let tried = 0; tried < backends.length; tried++) {
      const backend = backends[next++ % backends.length];
      if (!backend) break;
      try {
        await forward(req, body, backend.port, res);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED") continue;
        // Anything else may have reached the replica: answering is up to Slack's retry, as behind any LB.
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`The dev front could not reach replica ${backend.name}: ${(error as Error).message}\n`);
        return;
      }
    }
    res.writeHead(503, { "content-type": "text/plain" });
    res.end("No replica of npm run dev is running.\n");
  };

  const server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One request to one replica; its answer is piped back as it comes. Rejects when nothing was answered. */
function forward(req: IncomingMessage, body: Buffer, port: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: "127.0.0.1",
        port,
        method: req.method,
        path: req.url,
        // The raw name/value pairs, in order and spelled as received.
        headers: req.rawHeaders,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
        answer.once("end", () => resolve());
        answer.once("error", () => {
          res.destroy();
          resolve();
        });
      },
    );
    outgoing.once("error", reject);
    outgoing.end(body);
  });
}
