import { describe, expect, it } from "vitest";
import { meteredFetch, type SlackTelemetry } from "../../src/slack/telemetry.ts";

function recorder(): SlackTelemetry & { calls: [string, string][] } {
  const calls: [string, string][] = [];
  return { calls, slackCall: (m, r) => calls.push([m, r]), streamFallback() {}, feedback() {} };
}

const answer = (status: number, body: string) => async () => new Response(body, { status });

describe("meteredFetch", () => {
  it("counts each call by method and by Slack's answer", async () => {
    const t = recorder();
    await meteredFetch(t, answer(200, '{"ok":true}'))("https://slack.com/api/chat.postMessage", {});
    await meteredFetch(t, answer(200, '{"ok":false,"error":"not_in_channel"}'))(
      "https://slack.com/api/chat.update",
      {},
    );
    await meteredFetch(t, answer(429, ""))("https://slack.com/api/chat.update", {});
    await meteredFetch(t, answer(503, "down"))("https://slack.com/api/views.open", {});
    await meteredFetch(t, answer(200, "<html>"))("https://slack.com/api/auth.test", {});
    await expect(
      meteredFetch(t, async () => {
        throw new TypeError("fetch failed");
      })("https://slack.com/api/users.info", {}),
    ).rejects.toThrow("fetch failed");
    expect(t.calls).toEqual([
      ["chat.postMessage", "ok"],
      ["chat.update", "not_in_channel"],
      ["chat.update", "ratelimited"],
      ["views.open", "http_503"],
      ["auth.test", "unreadable"],
      ["users.info", "request_failed"],
    ]);
  });

  it("the caller still reads the whole answer", async () => {
    const response = await meteredFetch(recorder(), answer(200, '{"ok":true,"ts":"1.2"}'))(
      "https://slack.com/api/chat.postMessage",
      {},
    );
    expect(await response.json()).toEqual({ ok: true, ts: "1.2" });
  });

  it("an error that is not a short code never becomes a label", async () => {
    const t = recorder();
    await meteredFetch(t, answer(200, '{"ok":false,"error":"Dana said: hello there"}'))(
      "https://slack.com/api/chat.postMessage",
      {},
    );
    expect(t.calls).toEqual([["chat.postMessage", "other"]]);
  });
});
