import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from "@slack/web-api";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { configSecrets, startupFields, storeTarget } from "../../src/ops/startup.ts";
import { slackTarget } from "../../src/slack/start-calls.ts";

const single = {
  SLACK_BOT_TOKEN: "xoxb-1111-2222-abcdefabcdef",
  SLACK_SIGNING_SECRET: "signing-secret-0123456789",
  PUFFLE_API_KEY: "pk_live_0123456789abcdef",
};

const oauth = {
  SLACK_CLIENT_ID: "1234567890.1234567890",
  SLACK_CLIENT_SECRET: "client-secret-9f8e7d6c5b4a",
  SLACK_STATE_SECRET: "state-secret-0a1b2c3d4e5f6a7b",
  SLACK_SIGNING_SECRET: "signing-secret-0123456789",
  ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  ENCRYPTION_KEY_PREVIOUS: randomBytes(32).toString("base64"),
  DATABASE_URL: "postgres://drafter:pg-pass-7c6b5a@db.internal:6543/drafts",
  TRIGGER_API_URL: "off",
};

describe("the first log line", () => {
  it("names the mode, the Slack and Puffle hosts, realtime and the store (HTTP, one workspace, defaults)", () => {
    expect(startupFields(parseConfig(single))).toEqual({
      mode: "http",
      workspaces: "single",
      slack: "slack.com",
      puffle: "app.puffle.ai",
      realtime: "api.trigger.dev",
      store: "sqlite",
      storeAt: "./data/puffle-drafter.db",
      port: 3000,
    });
  });

  it("says Socket Mode and the hosts the variables point at", () => {
    const fields = startupFields(
      parseConfig({
        ...single,
        SLACK_SIGNING_SECRET: "",
        SLACK_APP_TOKEN: "xapp-1-A0-1-abcdef",
        SLACK_API_URL: "http://127.0.0.1:4567/api/",
        PUFFLE_API_URL: "http://localhost:8080",
        TRIGGER_API_URL: "http://localhost:8081",
      }),
    );
    expect(fields).toMatchObject({
      mode: "socket",
      slack: "127.0.0.1:4567",
      puffle: "localhost:8080",
      realtime: "localhost:8081",
    });
  });

  it("says OAuth, realtime off, and where PostgreSQL is without its user or password", () => {
    const fields = startupFields(parseConfig(oauth));
    expect(fields).toMatchObject({
      mode: "http",
      workspaces: "oauth",
      realtime: "off",
      store: "postgres",
      storeAt: "db.internal:6543/drafts",
    });
    expect(JSON.stringify(fields)).not.toMatch(/pg-pass|drafter:/);
  });
});

describe("the logger's secrets", () => {
  it("include the OAuth secrets, the encryption keys and the database password: none reaches a line", () => {
    const config = parseConfig(oauth);
    const lines: string[] = [];
    const logger = createLogger({
      level: "info",
      secrets: configSecrets(config),
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const values = [
      oauth.SLACK_CLIENT_SECRET,
      oauth.SLACK_STATE_SECRET,
      oauth.SLACK_SIGNING_SECRET,
      oauth.ENCRYPTION_KEY,
      oauth.ENCRYPTION_KEY_PREVIOUS,
      "pg-pass-7c6b5a",
    ];
    // Under keys the logger does not know, and inside free text: only the values can give them away.
    for (const value of values) logger.info({ note: `saw ${value} here`, detail: value }, "test.line");
    expect(lines).toHaveLength(values.length);
    for (const value of values) expect(lines.join("")).not.toContain(value);
  });

  it("include the single-workspace tokens and key", () => {
    const secrets = configSecrets(parseConfig({ ...single, SLACK_APP_TOKEN: "xapp-1-A0-1-abcdef" }));
    expect(secrets).toEqual(
      expect.arrayContaining([
        single.SLACK_BOT_TOKEN,
        single.SLACK_SIGNING_SECRET,
        single.PUFFLE_API_KEY,
        "xapp-1-A0-1-abcdef",
      ]),
    );
  });
});

describe("what the start-up tries again", () => {
  const slack = slackTarget("https://slack.com/api/");

  it("Slack: connection failures, 5xx and 429 (with its Retry-After), and Slack's own trouble", () => {
    expect(slack.host).toBe("slack.com");
    expect(slack.transient(new WebAPIRequestError(new TypeError("fetch failed")))).toEqual({});
    expect(slack.transient(new WebAPIHTTPError(503, "Service Unavailable", {}, ""))).toEqual({
      reason: "HTTP 503",
    });
    expect(slack.transient(new WebAPIRateLimitedError(4))).toEqual({
      reason: "HTTP 429",
      retryAfterMs: 4_000,
    });
    expect(slack.transient(new WebAPIPlatformError({ ok: false, error: "service_unavailable" }))).toEqual({
      reason: "service_unavailable",
    });
  });

  it("Slack: not a refused token, nor a URL that is not Slack's Web API", () => {
    for (const code of ["invalid_auth", "not_authed", "account_inactive", "token_revoked"])
      expect(slack.transient(new WebAPIPlatformError({ ok: false, error: code }))).toBeUndefined();
    expect(slack.transient(new WebAPIHTTPError(404, "Not Found", {}, ""))).toBeUndefined();
  });

  it("PostgreSQL: refused or unreachable, starting up or full; not a wrong password; SQLite never", () => {
    const postgres = storeTarget("postgres://u:secret-pw@127.0.0.1:5999/x");
    expect(postgres.host).toBe("127.0.0.1:5999/x");
    const code = (value: string) => Object.assign(new Error(value), { code: value });
    expect(postgres.transient(code("ECONNREFUSED"))).toEqual({ reason: "ECONNREFUSED" });
    expect(postgres.transient(code("ENOTFOUND"))).toEqual({ reason: "ENOTFOUND" });
    expect(postgres.transient(code("57P03"))).toEqual({ reason: "57P03" });
    expect(postgres.transient(new Error("PostgreSQL store at x: timeout expired"))).toEqual({
      reason: "timeout",
    });
    expect(postgres.transient(code("28P01"))).toBeUndefined();
    expect(storeTarget("sqlite:./x.db").transient(code("ECONNREFUSED"))).toBeUndefined();
  });
});
