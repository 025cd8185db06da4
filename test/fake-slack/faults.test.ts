import { ErrorCode, WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

const CHANNEL = "C0DRAFTS";

let fake: FakeSlack;

beforeEach(async () => {
  fake = await startFakeSlack();
});

afterEach(async () => {
  await fake.close();
});

describe("rate limits", () => {
  it("answers HTTP 429 with Retry-After and a ratelimited body", async () => {
    fake.rateLimit("chat.update", { retryAfterSeconds: 7 });
    const response = await fetch(`${fake.url}chat.update`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.token}` },
    });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
    expect(await response.json()).toEqual({ ok: false, error: "ratelimited" });
    expect(fake.callsTo("chat.update")).toMatchObject([{ ok: false, error: "ratelimited" }]);
  });

  it("makes a WebClient with rejectRateLimitedCalls throw a rate-limited error", async () => {
    const client = new WebClient(fake.token, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    fake.rateLimit("chat.postMessage", { retryAfterSeconds: 3 });
    const error = await client.chat.postMessage({ channel: CHANNEL, text: "hi" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 3 });
    expect(ErrorCode.RateLimitedError).toBe("slack_webapi_rate_limited_error");
    expect(fake.messages(CHANNEL)).toEqual([]);
  });

  it("lets a retrying WebClient succeed after waiting Retry-After", async () => {
    const client = new WebClient(fake.token, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 },
    });
    fake.rateLimit("chat.postMessage", { retryAfterSeconds: 1 });
    const started = performance.now();
    await client.chat.postMessage({ channel: CHANNEL, text: "hi" });

    const [limited, accepted] = fake.callsTo("chat.postMessage");
    expect(limited).toMatchObject({ ok: false, error: "ratelimited" });
    expect(accepted?.ok).toBe(true);
    expect((accepted?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.messages(CHANNEL)).toHaveLength(1);
  });

  it("rate limits only as many times as asked", async () => {
    const client = new WebClient(fake.token, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    fake.rateLimit("reactions.add", { retryAfterSeconds: 1, times: 2 });
    const add = () =>
      client.reactions
        .add({ channel: CHANNEL, timestamp: "1.1", name: "eyes" })
        .catch((e: { code: string }) => e.code);
    expect([await add(), await add(), await add()]).toEqual([
      ErrorCode.RateLimitedError,
      ErrorCode.RateLimitedError,
      ErrorCode.PlatformError, // the third call reaches the method: message_not_found
    ]);
  });
});

describe("failNext and delay", () => {
  it("fails the next calls with the given error, in order, then recovers", async () => {
    const client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    fake.failNext("chat.postMessage", "channel_not_found");
    fake.failNext("chat.postMessage", "not_in_channel");
    const post = () =>
      client.chat
        .postMessage({ channel: CHANNEL, text: "hi" })
        .then((r) => (r.ok ? "ok" : "?"))
        .catch((e: { data: { error: string } }) => e.data.error);
    expect([await post(), await post(), await post()]).toEqual(["channel_not_found", "not_in_channel", "ok"]);
  });

  it("delays a method until the delay is removed", async () => {
    const client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    fake.delay("auth.test", 150);
    let started = performance.now();
    await client.auth.test();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    fake.delay("auth.test", 0);
    started = performance.now();
    await client.auth.test();
    expect(performance.now() - started).toBeLessThan(140);
  });
});

describe("waitFor", () => {
  it("resolves with the first truthy value of the probe", async () => {
    const client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    setTimeout(() => void client.chat.postMessage({ channel: CHANNEL, text: "later" }), 30);
    const message = await fake.waitFor(() => fake.messages(CHANNEL).find((m) => m.text === "later"));
    expect(message.user).toBe(fake.botUserId);
  });

  it("times out with what was awaited, the last probe error and the recent calls", async () => {
    const client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    await client.chat.postMessage({ channel: CHANNEL, text: "Drafting..." });
    fake.failNext("chat.update", "message_not_found");
    await client.chat.update({ channel: CHANNEL, ts: "1.000000", text: "Done" }).catch(() => undefined);

    const waiting = fake.waitFor(
      () => {
        throw new Error("no draft card yet");
      },
      { timeoutMs: 100, message: "the draft card in the thread" },
    );
    const error = await waiting.catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const report = (error as Error).message;
    expect(report).toContain("waitFor timed out after 100 ms: the draft card in the thread");
    expect(report).toContain("last probe error: no draft card yet");
    expect(report).toContain("recent Slack calls (2 of 2):");
    expect(report).toMatch(/chat\.postMessage ok \{"channel":"C0DRAFTS","text":"Drafting\.\.\."/);
    expect(report).toContain("chat.update error=message_not_found");
  });

  it("clears the call log on resetCalls", async () => {
    const client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    await client.auth.test();
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({ method: "auth.test", ok: true });
    expect(fake.calls[0]?.args).not.toHaveProperty("token");
    fake.resetCalls();
    expect(fake.calls).toEqual([]);
  });
});
