import { describe, expect, it } from "vitest";
import {
  BadResponseError,
  ConnectionError,
  errorForStatus,
  RateLimitedError,
  TimeoutError,
} from "../../src/puffle/errors.ts";
import { backoffDelay, DEFAULT_RETRY, decideRetry, parseRetryAfter } from "../../src/puffle/retry.ts";

const where = { method: "POST", path: "/api/x" };
const options = { ...DEFAULT_RETRY, random: () => 0.5 };
const status = (code: number, extra: { serverMessage?: string; retryAfterMs?: number } = {}) =>
  errorForStatus(code, { ...where, status: code, ...extra });

describe("retry policy", () => {
  it("maps every documented status to a stable code", () => {
    expect(status(409).code).toBe("session_busy");
    expect(
      status(400, { serverMessage: "Session has no framework yet. Chat first to create one." }).code,
    ).toBe("no_framework");
    expect(status(400, { serverMessage: "campaign is not in draft" }).code).toBe("bad_request");
    expect(status(401).code).toBe("unauthorized");
    expect(status(402).code).toBe("out_of_credits");
    expect(status(403).code).toBe("forbidden");
    expect(status(404).code).toBe("not_found");
    expect(status(429).code).toBe("rate_limited");
    expect(status(500).code).toBe("server_error");
    expect(status(503).code).toBe("server_error");
  });

  it("never retries a 409, nor 400/401/402/403/404, nor a bad answer, for any kind of call", () => {
    for (const kind of ["idempotent", "dispatch"] as const) {
      for (const code of [400, 401, 402, 403, 404, 409]) {
        expect(decideRetry(kind, status(code), 1, options)).toEqual({ retry: false });
      }
      expect(decideRetry(kind, new BadResponseError({ ...where, problems: ["x"] }), 1, options)).toEqual({
        retry: false,
      });
    }
  });

  it("retries a dispatch 500 at once, then with growing backoff, up to the attempt cap", () => {
    const first = decideRetry("dispatch", status(500), 1, options);
    const second = decideRetry("dispatch", status(500), 2, options);
    const third = decideRetry("dispatch", status(500), 3, options);
    expect(first).toMatchObject({ retry: true, delayMs: 0 });
    expect(second).toMatchObject({ retry: true });
    expect(third).toMatchObject({ retry: true });
    if (second.retry && third.retry) expect(third.delayMs).toBeGreaterThan(second.delayMs);
    expect(decideRetry("dispatch", status(500), options.maxAttempts, options)).toEqual({ retry: false });
  });

  it("does not retry a dispatch blindly after a timeout, a reset connection or a 503", () => {
    expect(decideRetry("dispatch", new TimeoutError({ ...where, timeoutMs: 10 }), 1, options).retry).toBe(
      false,
    );
    expect(decideRetry("dispatch", new ConnectionError({ ...where, notSent: false }), 1, options).retry).toBe(
      false,
    );
    expect(decideRetry("dispatch", status(503), 1, options).retry).toBe(false);
    expect(decideRetry("dispatch", new ConnectionError({ ...where, notSent: true }), 1, options).retry).toBe(
      true,
    );
  });

  it("retries reads on 5xx, connection errors and timeouts with capped, jittered backoff", () => {
    for (const error of [
      status(502),
      new ConnectionError({ ...where, notSent: false }),
      new TimeoutError({ ...where, timeoutMs: 5 }),
    ]) {
      expect(decideRetry("idempotent", error, 1, options).retry).toBe(true);
    }
    const delays = [1, 2, 3, 10].map((attempt) => backoffDelay(attempt, { ...options, random: () => 0 }));
    expect(delays).toEqual([250, 500, 1000, 4000]);
    const jittered = new Set(
      Array.from({ length: 20 }, (_, i) => backoffDelay(2, { ...options, random: () => i / 20 })),
    );
    expect(jittered.size).toBeGreaterThan(10);
    expect(Math.max(...jittered)).toBeLessThanOrEqual(1000);
  });

  it("honours Retry-After on a 429 for every kind, and gives up when it is longer than we wait in a call", () => {
    const limited = new RateLimitedError({ ...where, status: 429, retryAfterMs: 3000 });
    expect(decideRetry("dispatch", limited, 1, options)).toMatchObject({ retry: true, delayMs: 3000 });
    expect(decideRetry("idempotent", limited, 1, options)).toMatchObject({ retry: true, delayMs: 3000 });
    const tooLong = new RateLimitedError({ ...where, status: 429, retryAfterMs: 120_000 });
    expect(decideRetry("idempotent", tooLong, 1, options)).toEqual({ retry: false });
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("2", 0)).toBe(2000);
    expect(parseRetryAfter("0.5", 0)).toBe(500);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
