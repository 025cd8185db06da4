import { ErrorCode, type Logger, LogLevel, WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

const CHANNEL = "C0DRAFTS";

let fake: FakeSlack;
let client: WebClient;

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

beforeEach(async () => {
  fake = await startFakeSlack();
  client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: silent });
});

afterEach(async () => {
  await fake.close();
});

describe("failAfterStore: the call takes effect, the answer is lost", () => {
  it("stores a chat.postMessage, then answers HTTP 500 with internal_error", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "go" });
    fake.failAfterStore("chat.postMessage", { mode: "http_500" });
    const error = await client.chat
      .postMessage({ channel: CHANNEL, thread_ts: root.ts, text: "Draft v1" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 500,
      body: { ok: false, error: "internal_error" },
    });

    // A person sees the reply, and so does a thread read.
    expect(fake.thread(CHANNEL, root.ts).map((m) => m.text)).toEqual(["go", "Draft v1"]);
    expect(fake.render(CHANNEL, root.ts)).toContain("Draft v1");
    const replies = await client.conversations.replies({ channel: CHANNEL, ts: root.ts });
    expect(replies.messages?.map((m) => m.text)).toEqual(["go", "Draft v1"]);

    expect(fake.callsTo("chat.postMessage")).toMatchObject([
      { ok: false, error: "http_500", failedAfterStore: "http_500" },
    ]);
    expect(fake.failedAfterStore()).toHaveLength(1);

    // Only once: the next post is answered normally.
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts, text: "Draft v2" });
    expect(fake.failedAfterStore("chat.postMessage")).toHaveLength(1);
  });

  it("can answer the HTTP 500 with a body that is not JSON", async () => {
    fake.failAfterStore("chat.postMessage", { mode: "http_500", body: "html" });
    const response = await fetch(`${fake.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.token}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: CHANNEL, text: "hi" }),
    });
    expect(response.status).toBe(500);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(await response.text()).toContain("Internal Server Error");
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(["hi"]);
  });

  it("stores, then drops the connection without an answer", async () => {
    fake.failAfterStore("chat.postMessage", { mode: "drop_connection" });
    const error = await client.chat.postMessage({ channel: CHANNEL, text: "hi" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.RequestError });
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(["hi"]);
    expect(fake.failedAfterStore()).toMatchObject([
      { method: "chat.postMessage", failedAfterStore: "drop_connection" },
    ]);
  });

  it("a retrying client posts twice when the first answer was lost", async () => {
    const retrying = new WebClient(fake.token, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 },
      logger: silent,
    });
    fake.failAfterStore("chat.postMessage", { mode: "drop_connection" });
    await retrying.chat.postMessage({ channel: CHANNEL, text: "Draft v1" });
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(["Draft v1", "Draft v1"]);
  });

  it("stores, then never answers; the client's timeout ends the call and close() still ends", async () => {
    const impatient = new WebClient(fake.token, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 0 },
      timeout: 200,
      logger: silent,
    });
    fake.failAfterStore("chat.postMessage", { mode: "timeout", times: 2 });
    const started = performance.now();
    const error = await impatient.chat
      .postMessage({ channel: CHANNEL, text: "one" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.RequestError });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(["one"]);

    // A client without a timeout waits until the fake closes.
    const pending = client.chat.postMessage({ channel: CHANNEL, text: "two" }).catch((e: unknown) => e);
    await fake.waitFor(() => fake.messages(CHANNEL).length === 2);
    await fake.close();
    expect(await pending).toMatchObject({ code: ErrorCode.RequestError });
    expect(fake.failedAfterStore()).toHaveLength(2);
    fake = await startFakeSlack(); // for afterEach
  });

  it("applies to chat.update: the edit is made, the answer is lost", async () => {
    const { ts = "" } = await client.chat.postMessage({ channel: CHANNEL, text: "Drafting..." });
    fake.failAfterStore("chat.update", { mode: "http_500" });
    await expect(client.chat.update({ channel: CHANNEL, ts, text: "Draft v1" })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
    });
    expect(fake.message(CHANNEL, ts)?.text).toBe("Draft v1");
  });

  it("does not count calls that failed on their own", async () => {
    fake.failAfterStore("chat.update", { mode: "http_500" });
    const missing = client.chat.update({ channel: CHANNEL, ts: "1.000000", text: "x" });
    await expect(missing).rejects.toMatchObject({ data: { error: "message_not_found" } });
    const { ts = "" } = await client.chat.postMessage({ channel: CHANNEL, text: "a" });
    await expect(client.chat.update({ channel: CHANNEL, ts, text: "b" })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
    });
  });

  it("fails a seeded share of the calls: 'sometimes', the same calls for the same seed", async () => {
    const run = async (seed: number) => {
      const local = await startFakeSlack();
      const localClient = new WebClient(local.token, {
        slackApiUrl: local.url,
        retryConfig: { retries: 0 },
        logger: silent,
      });
      local.failAfterStore("chat.postMessage", { mode: "http_500", rate: 0.3, seed });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i += 1) {
        outcomes.push(
          await localClient.chat.postMessage({ channel: CHANNEL, text: `m${i}` }).then(
            () => true,
            () => false,
          ),
        );
      }
      const stored = local.messages(CHANNEL).length;
      const failed = local.failedAfterStore().length;
      await local.close();
      return { outcomes, stored, failed };
    };
    const first = await run(7);
    const again = await run(7);
    const other = await run(8);
    expect(first.stored).toBe(40);
    expect(first.failed).toBe(first.outcomes.filter((ok) => !ok).length);
    expect(first.failed).toBeGreaterThan(2);
    expect(first.failed).toBeLessThan(25);
    expect(again.outcomes).toEqual(first.outcomes);
    expect(other.outcomes).not.toEqual(first.outcomes);
  });

  it("limits a rate to `times` failures when both are given", async () => {
    fake.failAfterStore("chat.postMessage", { mode: "http_500", rate: 1, times: 2 });
    const results = [];
    for (let i = 0; i < 4; i += 1) {
      results.push(
        await client.chat.postMessage({ channel: CHANNEL, text: "x" }).then(
          () => "ok",
          () => "lost",
        ),
      );
    }
    expect(results).toEqual(["lost", "lost", "ok", "ok"]);
  });
});
