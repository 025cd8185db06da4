import dns from "node:dns";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import { afterEach } from "vitest";

/**
 * Tests reach only this machine. A vitest setup file: any connection to a host other than localhost,
 * 127.0.0.0/8 or ::1 (through net/tls sockets, and so http, undici and the WebClient; through the global
 * fetch; or a DNS lookup) throws an error naming the host, and the test that tried fails afterwards
 * even if the code under test caught the error (a doctor reporting "cannot reach", say).
 */

export class NonLocalConnectionError extends Error {
  readonly host: string;
  constructor(host: string, via: string) {
    super(
      `Tests reach only this machine: refused ${via} to "${host}" (allowed: localhost, 127.0.0.1, ::1). ` +
        "Point the code at a local fake or the emulator instead.",
    );
    this.name = "NonLocalConnectionError";
    this.host = host;
  }
}

/** Shared by every copy of this module in the process (the patches are installed once). */
interface Guard {
  refused: string[];
}
const KEY = Symbol.for("puffle-drafter.test.localhost-only");
const holder = globalThis as typeof globalThis & { [KEY]?: Guard };

export function isLocalHost(host: string | undefined | null): boolean {
  if (!host) return true; // Node's own default is localhost.
  const name = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === "::1" || name === "0:0:0:0:0:0:0:1") return true;
  return /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The hosts refused since the last call (and forgets them): for a test that provokes a refusal on purpose. */
export function takeRefusedConnections(): string[] {
  return guard().refused.splice(0);
}

/** Throws when something tried to reach another machine since the last check. */
export function assertNoRefusedConnections(): void {
  const hosts = [...new Set(takeRefusedConnections())];
  if (hosts.length > 0) {
    throw new Error(
      `This test tried to reach ${hosts.map((h) => `"${h}"`).join(", ")}: tests reach only this machine ` +
        "(localhost, 127.0.0.1, ::1).",
    );
  }
}

function refuse(host: string, via: string): NonLocalConnectionError {
  guard().refused.push(host);
  return new NonLocalConnectionError(host, via);
}

function guard(): Guard {
  const existing = holder[KEY];
  if (existing) return existing;
  const created: Guard = { refused: [] };
  holder[KEY] = created;
  install();
  return created;
}

function install() {
  const connect = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const host = hostOfConnect(args);
    if (host !== undefined && !isLocalHost(host)) throw refuse(host, "a connection");
    return connect.apply(this, args);
  } as typeof net.Socket.prototype.connect;

  const lookup = dns.lookup as (...args: unknown[]) => void;
  dns.lookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
    if (!isLocalHost(hostname)) {
      const callback = rest.at(-1);
      const error = refuse(hostname, "a DNS lookup");
      if (typeof callback !== "function") throw error;
      process.nextTick(() => callback(error));
      return {};
    }
    return lookup.call(dns, hostname, ...rest);
  } as typeof dns.lookup;
  const lookupPromise = dns.promises.lookup;
  dns.promises.lookup = ((hostname: string, ...rest: unknown[]) =>
    isLocalHost(hostname)
      ? (lookupPromise as (...args: unknown[]) => Promise<unknown>).call(dns.promises, hostname, ...rest)
      : Promise.reject(refuse(hostname, "a DNS lookup"))) as typeof dns.promises.lookup;
  syncBuiltinESMExports();

  const fetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    let host: string | undefined;
    try {
      host = new URL(url).hostname;
    } catch {
      host = undefined; // fetch itself rejects a URL it cannot read
    }
    if (host !== undefined && !isLocalHost(host)) return Promise.reject(refuse(host, "a fetch"));
    return fetch(input, init);
  };
}

/** The host of `socket.connect(...)` in its shapes: (options), ([options, cb]) from net internals, (port, host). */
function hostOfConnect(args: unknown[]): string | undefined {
  let first = args[0];
  if (Array.isArray(first)) first = first[0];
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    return typeof args[1] === "string" ? args[1] : "localhost";
  }
  if (typeof first === "object" && first !== null) {
    const options = first as { path?: unknown; host?: unknown };
    if (typeof options.path === "string") return undefined; // a local socket file
    return typeof options.host === "string" ? options.host : "localhost";
  }
  return undefined; // a path (IPC)
}

guard();
afterEach(() => {
  assertNoRefusedConnections();
});
