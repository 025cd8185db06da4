import dns from "node:dns";
import { lookup as lookupNamed } from "node:dns/promises";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertNoRefusedConnections,
  isLocalHost,
  NonLocalConnectionError,
  takeRefusedConnections,
} from "../setup/localhost-only.ts";

// The setup file is imported here, so its guard and its afterEach check apply to this file as they would
// to every test file once it is listed in vitest.config.ts (setupFiles). Each test that provokes a
// refusal on purpose takes it back with takeRefusedConnections(), so the afterEach check stays quiet.

let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end("local"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  port = address.port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** An http.get that settles either way, whether it fails at once or later. */
function get(url: string): Promise<{ status: number } | { error: Error }> {
  return new Promise((resolve) => {
    try {
      http
        .get(url, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
        })
        .on("error", (error) => resolve({ error }));
    } catch (error) {
      resolve({ error: error as Error });
    }
  });
}

describe("tests reach only this machine", () => {
  it("refuses a fetch to another host, naming it", async () => {
    const error = await fetch("http://example.com/").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonLocalConnectionError);
    expect((error as Error).message).toContain('refused a fetch to "example.com"');
    await expect(fetch(new Request("https://slack.com/api/auth.test"))).rejects.toThrow(/"slack\.com"/);
    expect(takeRefusedConnections()).toEqual(["example.com", "slack.com"]);
  });

  it("refuses sockets (and so http, undici and the Slack WebClient) to another host", async () => {
    const result = await get("http://example.com/");
    expect("error" in result && result.error.message).toMatch(/refused a connection to "example\.com"/);
    expect(() => net.connect({ host: "app.puffle.ai", port: 443 })).toThrow(NonLocalConnectionError);
    expect(() => net.connect(443, "api.trigger.dev")).toThrow(/"api\.trigger\.dev"/);
    expect(takeRefusedConnections()).toEqual(["example.com", "app.puffle.ai", "api.trigger.dev"]);
  });

  it("refuses DNS lookups of other hosts, through the module and its named exports", async () => {
    const viaCallback = await new Promise<Error | null>((resolve) =>
      dns.lookup("example.org", (e) => resolve(e)),
    );
    expect(viaCallback).toBeInstanceOf(NonLocalConnectionError);
    await expect(dns.promises.lookup("example.net")).rejects.toThrow(/"example\.net"/);
    await expect(lookupNamed("example.net")).rejects.toThrow(/"example\.net"/);
    expect(takeRefusedConnections()).toEqual(["example.org", "example.net", "example.net"]);
  });

  it("lets 127.0.0.1 and localhost through", async () => {
    const viaFetch = await fetch(`http://127.0.0.1:${port}/`);
    expect(await viaFetch.text()).toBe("local");
    expect(await get(`http://127.0.0.1:${port}/`)).toEqual({ status: 200 });
    const address = await dns.promises.lookup("localhost");
    expect(isLocalHost(address.address)).toBe(true);
    expect(takeRefusedConnections()).toEqual([]);
  });

  it("knows what is local", () => {
    for (const host of [
      "localhost",
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
      "",
      undefined,
    ])
      expect(isLocalHost(host), String(host)).toBe(true);
    for (const host of [
      "example.com",
      "10.0.0.1",
      "192.168.1.20",
      "::2",
      "localhost.example.com",
      "128.0.0.1",
    ])
      expect(isLocalHost(host), host).toBe(false);
  });

  it("a test that tried to reach another host fails afterwards, even when the error was caught", async () => {
    await fetch("http://example.com/").catch(() => undefined);
    expect(() => assertNoRefusedConnections()).toThrow(
      'This test tried to reach "example.com": tests reach only this machine',
    );
    // The check forgets what it reported, so the next test starts clean.
    expect(() => assertNoRefusedConnections()).not.toThrow();
  });
});
