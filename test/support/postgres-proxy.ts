/**
 * A TCP proxy in front of PostgreSQL that can freeze the connections passing through it: they stay
 * open but carry nothing more, as after a network partition. New connections pass normally.
 */
import { connect, createServer, type Socket } from "node:net";

export interface FreezingProxy {
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** Connections open now stop carrying data, without being closed. */
  freeze(): void;
  close(): Promise<void>;
}

export async function startFreezingProxy(targetUrl: string): Promise<FreezingProxy> {
  const target = new URL(targetUrl);
  const flowing = new Set<[Socket, Socket]>();
  const frozen = new Set<[Socket, Socket]>();
  const server = createServer((downstream) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    const pair: [Socket, Socket] = [downstream, upstream];
    const drop = () => {
      downstream.destroy();
      upstream.destroy();
      flowing.delete(pair);
      frozen.delete(pair);
    };
    downstream.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    flowing.add(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    urlFor(url) {
      const proxied = new URL(url);
      proxied.hostname = "127.0.0.1";
      proxied.port = String(port);
      return proxied.toString();
    },
    freeze() {
      for (const pair of flowing) {
        const [downstream, upstream] = pair;
        downstream.unpipe(upstream);
        upstream.unpipe(downstream);
        downstream.pause();
        upstream.pause();
        flowing.delete(pair);
        frozen.add(pair);
      }
    },
    async close() {
      for (const [downstream, upstream] of [...flowing, ...frozen]) {
        downstream.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
