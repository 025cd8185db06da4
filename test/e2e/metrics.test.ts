import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  botReplies,
  CHANNEL,
  DANA,
  draftCards,
  type E2E,
  humanMention,
  humanMessage,
  startE2E,
  visibleText,
  waitForQuestion,
} from "../support/harness.ts";

/** The value of one sample (name plus exact label set) in Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[3] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) {
      found[pair[1] as string] = pair[2] as string;
    }
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) {
      if (Object.keys(labels).length === Object.keys(found).length || name.endsWith("_count")) {
        return Number(match[4]);
      }
    }
  }
  return 0;
}

async function scrape(e2e: E2E): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`http://127.0.0.1:${e2e.bot.port}/metrics`);
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    text: await response.text(),
  };
}

describe("GET /metrics", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(async () => {
    await e2e.close();
  });

  it("counts a conversation: turns, Puffle requests, Slack calls, completions and the result latency", async () => {
    const before = await scrape(e2e);
    expect(before.status).toBe(200);
    expect(before.type).toContain("text/plain");
    expect(sample(before.text, "puffle_drafter_turns_total", { outcome: "done", code: "" })).toBe(0);

    const root = await humanMention(e2e, { channel: CHANNEL, text: "intro email to Acme's CFO" });
    await waitForQuestion(e2e, CHANNEL, root.ts);
    await humanMessage(e2e, { channel: CHANNEL, threadTs: root.ts, text: "friendly, two short paragraphs" });
    await e2e.slack.waitFor(() => draftCards(e2e.slack, CHANNEL, root.ts)[0]);
    await e2e.bot.idle();

    const after = (await scrape(e2e)).text;
    expect(sample(after, "puffle_drafter_turns_total", { outcome: "done", code: "" })).toBe(2);
    expect(
      sample(after, "puffle_drafter_puffle_requests_total", { endpoint: "sessions.turn", status: "200" }),
    ).toBe(2);
    expect(
      sample(after, "puffle_drafter_puffle_requests_total", { endpoint: "sessions.create", status: "200" }) +
        sample(after, "puffle_drafter_puffle_requests_total", { endpoint: "sessions.create", status: "201" }),
    ).toBe(1);
    expect(
      sample(after, "puffle_drafter_slack_calls_total", { method: "chat.postMessage", result: "ok" }),
    ).toBeGreaterThan(0);
    expect(
      sample(after, "puffle_drafter_completions_total", { detected_by: "realtime" }) +
        sample(after, "puffle_drafter_completions_total", { detected_by: "poll" }),
    ).toBe(2);
    expect(sample(after, "puffle_drafter_result_latency_seconds_count")).toBe(2);
    expect(after).toContain("puffle_drafter_queued_turns 0");
    expect(after).toContain("puffle_drafter_active_threads");
    expect(after).toContain("puffle_drafter_process_resident_memory_bytes");

    // No user text, people's ids or secrets in the labels.
    for (const secret of [
      DANA,
      "Acme",
      "paragraphs",
      e2e.emulator.apiKey,
      e2e.slack.token,
      root.ts,
      CHANNEL,
    ]) {
      expect(after).not.toContain(secret);
    }
  });

  it("counts a failed turn by its failure code, and a Slack error by its code", async () => {
    e2e.emulator.faults.inject({
      kind: "status",
      status: 402,
      route: "sessions.turn",
      error: "Out of credits",
    });
    const root = await humanMention(e2e, { channel: CHANNEL, text: "a note to the finance team" });
    await e2e.slack.waitFor(() =>
      botReplies(e2e.slack, CHANNEL, root.ts).find((m) => /out of credits/i.test(visibleText(m))),
    );
    await e2e.bot.idle();
    e2e.emulator.faults.clear();
    const text = (await scrape(e2e)).text;
    expect(
      sample(text, "puffle_drafter_puffle_requests_total", { endpoint: "sessions.turn", status: "402" }),
    ).toBe(1);
    const failed = text
      .split("\n")
      .filter((line) => line.startsWith('puffle_drafter_turns_total{outcome="failed"'));
    expect(failed.length).toBe(1);
    expect(failed[0]).toMatch(/code="[a-z_]+"\} 1$/);

    // A call Slack refuses is counted under its error code.
    await e2e.bot.slack.app.client.chat
      .update({ channel: CHANNEL, ts: "1000000000.000001", text: "x" })
      .catch(() => undefined);
    const refused = (await scrape(e2e)).text;
    expect(
      sample(refused, "puffle_drafter_slack_calls_total", {
        method: "chat.update",
        result: "message_not_found",
      }),
    ).toBe(1);
  });
});

describe("a 429 from Puffle", () => {
  it("pauses the key until Retry-After, then the turn goes through: counted, and nothing shown as failed", async () => {
    const e2e = await startE2E();
    try {
      e2e.emulator.faults.inject({
        kind: "rate_limit",
        retryAfterSeconds: 1,
        route: "sessions.turn",
        times: 1,
      });
      const root = await humanMention(e2e, { channel: CHANNEL, text: "a short intro to the ops lead" });
      await waitForQuestion(e2e, CHANNEL, root.ts);
      await e2e.bot.idle();
      const text = (await scrape(e2e)).text;
      expect(sample(text, "puffle_drafter_budget_pauses_total")).toBe(1);
      expect(
        sample(text, "puffle_drafter_puffle_requests_total", { endpoint: "sessions.turn", status: "429" }),
      ).toBe(1);
      expect(sample(text, "puffle_drafter_turns_total", { outcome: "done", code: "" })).toBe(1);
      expect(botReplies(e2e.slack, CHANNEL, root.ts).map(visibleText).join("\n")).not.toMatch(
        /rate|limit|failed/i,
      );
      expect(e2e.logs.join("")).toContain("budget.paused");
    } finally {
      await e2e.close();
    }
  });
});

describe("METRICS=off", () => {
  it("serves no /metrics", async () => {
    const e2e = await startE2E({ env: { METRICS: "off" } });
    try {
      expect((await scrape(e2e)).status).toBe(404);
      const health = await fetch(`http://127.0.0.1:${e2e.bot.port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await e2e.close();
    }
  });
});
