import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.ts";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

const secrets = {
  botToken: "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
  appToken: "xapp-1-A0123ABCD-1234567890123-0123456789abcdef0123456789abcdef",
  signingSecret: "8f742231b10e8888abcd99yyyzzz85a5",
  apiKey: "pk_live_9s8d7f6g5h4j3k2l1qwerty",
  publicAccessToken:
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJydW5fYWJjIiwic2NvcGVzIjpbInJlYWQ6cnVucyJdfQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
  triggerPat: "tr_pat_0123456789abcdefghij",
};

describe("logger", () => {
  it("never writes a secret, wherever it appears in a log line", async () => {
    const { lines, stream } = capture();
    const logger = createLogger({
      level: "trace",
      destination: stream,
      secrets: [secrets.botToken, secrets.appToken, secrets.signingSecret, secrets.apiKey],
    });
    logger.info(
      {
        request: {
          method: "POST",
          url: "https://app.puffle.ai/api/campaigns/ai-chat-sessions/x/turn",
          headers: {
            authorization: `Bearer ${secrets.apiKey}`,
            "x-slack-signature": "v0=abcdef0123456789",
          },
          body: { token: secrets.botToken },
        },
        run: { runId: "run_abc", publicAccessToken: secrets.publicAccessToken },
        config: { signingSecret: secrets.signingSecret, appToken: secrets.appToken },
        note: `a stray copy of ${secrets.signingSecret} and ${secrets.triggerPat}`,
      },
      `message text quoting ${secrets.apiKey} and ${secrets.botToken}`,
    );
    logger.error({ err: new Error(`failed with token ${secrets.publicAccessToken}`) }, "with an error");
    logger.child({ apiKey: secrets.apiKey }).warn("child binding");
    logger.flush();
    await new Promise((resolve) => setImmediate(resolve));

    const output = lines.join("");
    expect(lines.length).toBe(3);
    for (const [name, value] of Object.entries(secrets)) {
      expect(output, `${name} leaked`).not.toContain(value);
    }
    expect(output).toContain("[redacted]");
    // Non-secret context survives.
    expect(output).toContain("run_abc");
    expect(output).toContain("message text quoting");
    const first = JSON.parse(lines[0] ?? "{}");
    expect(first.level).toBe("info");
    expect(first.request.headers.authorization).toBe("[redacted]");
  });
});
