import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.ts";
import {
  createStartRetry,
  failureReason,
  networkReason,
  START_RETRY_LIMIT_MS,
  StartFailedError,
  type StartTarget,
  startRetryLimitFrom,
} from "../../src/ops/start-retry.ts";
import { flush, ManualClock } from "../support/manual-clock.ts";

function setup(limitMs: number) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    }),
  });
  const clock = new ManualClock();
  const retry = createStartRetry({ logger, limitMs, clock });
  const tries = () => lines.filter((line) => line.msg === "start.try_failed");
  return { lines, clock, retry, tries };
}

/** A connection refused the way fetch reports it: a TypeError whose cause holds the code. */
function refused(): Error {
  return new TypeError("fetch failed", {
    cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
  });
}

const slackLike: StartTarget = {
  name: "slack",
  label: "Slack",
  host: "slack.example:8443",
  transient: (error) => ((error as Error).message === "fetch failed" ? {} : undefined),
};

/** Settles a promise into a value the test can inspect after advancing the clock. */
function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(state, { value, done: true }),
    (error: unknown) => Object.assign(state, { error, done: true }),
  );
  return state;
}

describe("start-up retry", () => {
  it("tries a refused connection again with growing pauses, one line per try naming host and reason, then gives up within the limit", async () => {
    const { clock, retry, tries, lines } = setup(4_000);
    let attempts = 0;
    const run = track(
      retry(slackLike, async () => {
        attempts++;
        throw refused();
      }),
    );
    await clock.advance(4_000);
    expect(run.done).toBe(true);
    expect(run.error).toBeInstanceOf(StartFailedError);
    const failed = run.error as StartFailedError;
    expect(failed).toMatchObject({ target: "slack", host: "slack.example:8443", reason: "ECONNREFUSED" });
    expect(failed.tries).toBe(attempts);
    expect(failed.message).toMatch(/^Slack at slack\.example:8443 still failed after 4 tries in 3\.5 s/);
    // The last try is told by the start failure itself: one line per try in all.
    expect(tries()).toHaveLength(attempts - 1);
    expect(tries().map((line) => line.retryInMs)).toEqual([500, 1_000, 2_000]);
    for (const line of tries())
      expect(line).toMatchObject({ target: "slack", host: "slack.example:8443", reason: "ECONNREFUSED" });
    expect(lines).toHaveLength(tries().length);
  });

  it("returns what a later try got", async () => {
    const { clock, retry, tries } = setup(30_000);
    let attempts = 0;
    const run = track(
      retry(slackLike, async () => {
        attempts++;
        if (attempts < 3) throw refused();
        return "connected";
      }),
    );
    await clock.advance(1_500);
    expect(run).toMatchObject({ done: true, value: "connected" });
    expect(tries()).toHaveLength(2);
  });

  it("throws a failure a retry cannot fix at once, with no line", async () => {
    const { retry, lines } = setup(30_000);
    const refusal = new Error("invalid_auth");
    await expect(
      retry(slackLike, async () => {
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(lines).toEqual([]);
  });

  it("waits as long as the server asks (Retry-After) before the next try", async () => {
    const { clock, retry, tries } = setup(30_000);
    const busy: StartTarget = {
      ...slackLike,
      transient: () => ({ reason: "HTTP 429", retryAfterMs: 7_000 }),
    };
    let attempts = 0;
    track(
      retry(busy, async () => {
        attempts++;
        throw new Error("rate limited");
      }),
    );
    await flush();
    expect(tries()).toMatchObject([{ reason: "HTTP 429", retryInMs: 7_000 }]);
    await clock.advance(6_999);
    expect(attempts).toBe(1);
    await clock.advance(1);
    expect(attempts).toBe(2);
  });

  it("ends a try that gets no answer, and closes what arrives after it", async () => {
    const { clock, retry, tries } = setup(30_000);
    const late: string[] = [];
    let answer: (value: string) => void = () => {};
    const timeouts: number[] = [];
    const run = track(
      retry(
        slackLike,
        (timeoutMs) => {
          timeouts.push(timeoutMs);
          return timeouts.length === 1
            ? new Promise<string>((resolve) => {
                answer = resolve;
              })
            : Promise.resolve("second");
        },
        (value) => late.push(value),
      ),
    );
    await clock.advance(10_000);
    expect(tries()).toMatchObject([{ reason: "timeout", try: 1 }]);
    answer("first, too late");
    await clock.advance(500);
    expect(run).toMatchObject({ done: true, value: "second" });
    expect(late).toEqual(["first, too late"]);
    expect(timeouts).toEqual([10_000, 10_000]);
  });

  it("shares one deadline between targets: the store's retries leave less time for Slack", async () => {
    const { clock, retry } = setup(3_000);
    const store: StartTarget = {
      ...slackLike,
      name: "store",
      label: "the PostgreSQL store",
      host: "db:5432/x",
    };
    let storeTries = 0;
    const first = track(
      retry(store, async () => {
        storeTries++;
        if (storeTries < 3) throw refused();
        return "store";
      }),
    );
    await clock.advance(1_500);
    expect(first.value).toBe("store");
    const second = track(
      retry(slackLike, async () => {
        throw refused();
      }),
    );
    await clock.advance(1_500);
    expect(second.error).toBeInstanceOf(StartFailedError);
    expect((second.error as StartFailedError).tries).toBe(2);
  });
});

describe("reasons", () => {
  it("finds the network code inside fetch's, the Web API client's and AggregateError's wrappers", () => {
    expect(networkReason(refused())).toBe("ECONNREFUSED");
    expect(networkReason({ original: refused() })).toBe("ECONNREFUSED");
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" });
    expect(networkReason(new TypeError("fetch failed", { cause: dns }))).toBe("ENOTFOUND");
    const both = Object.assign(new AggregateError([refused(), refused()]), { code: undefined });
    expect(networkReason(both)).toBe("ECONNREFUSED");
    expect(networkReason(new DOMException("The operation was aborted due to timeout", "TimeoutError"))).toBe(
      "timeout",
    );
    expect(networkReason(Object.assign(new Error("no such file"), { code: "ENOENT" }))).toBeUndefined();
  });

  it("falls back to the innermost cause's message", () => {
    expect(failureReason(new TypeError("fetch failed", { cause: new Error("bad port") }))).toBe("bad port");
  });
});

describe("START_RETRY_MS (tests only)", () => {
  it("shortens the limit, never lengthens it", () => {
    expect(startRetryLimitFrom({})).toBe(START_RETRY_LIMIT_MS);
    expect(START_RETRY_LIMIT_MS).toBe(30_000);
    expect(startRetryLimitFrom({ START_RETRY_MS: "2000" })).toBe(2_000);
    expect(startRetryLimitFrom({ START_RETRY_MS: "600000" })).toBe(30_000);
    expect(startRetryLimitFrom({ START_RETRY_MS: "soon" })).toBe(30_000);
  });
});
