import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  ConfigError,
  PLACEHOLDERS,
  parseConfig,
  placeholdersIn,
  placeholderVariables,
  readEnvironment,
} from "../../src/config.ts";

const valid = {
  SLACK_BOT_TOKEN: "xoxb-1111-2222-abcdefabcdef",
  SLACK_SIGNING_SECRET: "0123456789abcdef0123456789abcdef",
  PUFFLE_API_KEY: "pk_live_abcdefghijkl",
};

function problemsOf(
  env: Record<string, string | undefined>,
  placeholders?: Record<string, string>,
): string[] {
  try {
    parseConfig(env, placeholders ? { placeholders } : {});
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable} ${p.message}`);
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig(valid);
    expect(config.slack.mode).toBe("http");
    expect(config.slack.apiUrl).toBe("https://slack.com/api/");
    expect(config.port).toBe(3000);
    expect(config.puffle.apiUrl).toBe("https://app.puffle.ai");
    expect(config.puffle.defaultStep).toBeUndefined();
    expect(config.triggerApiUrl).toBe("https://api.trigger.dev");
    expect(config.databaseUrl).toBe("sqlite:./data/puffle-drafter.db");
    expect(config.logLevel).toBe("info");
    expect(config.pollIntervalMs).toBe(2000);
    expect(config.turnTimeoutMs).toBe(300_000);
    expect(config.allowedChannelIds).toBeUndefined();
  });

  it("reports several bad variables together, in plain words, without echoing values", () => {
    const problems = problemsOf({
      SLACK_BOT_TOKEN: "not-a-token-secret-value",
      PUFFLE_API_KEY: "",
      PORT: "eighty",
      PUFFLE_API_URL: "ftp://nope",
      PUFFLE_CAMPAIGN_ID: "3f2c8a1e-0b7d-4e59-9c1a-2d4e6f8a0b1c",
      LOG_LEVEL: "loud",
      DATABASE_URL: "mysql://localhost/db",
    });
    const text = problems.join("\n");
    expect(problems.length).toBeGreaterThanOrEqual(8);
    for (const name of [
      "SLACK_BOT_TOKEN",
      "SLACK_SIGNING_SECRET",
      "PUFFLE_API_KEY",
      "PORT",
      "PUFFLE_API_URL",
      "PUFFLE_NODE_ID",
      "LOG_LEVEL",
      "DATABASE_URL",
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toContain("xoxb-");
    expect(text).not.toContain("not-a-token-secret-value");
  });

  it("counts an empty value as unset", () => {
    const config = parseConfig({ ...valid, PORT: "", LOG_LEVEL: " ", TRIGGER_API_URL: "" });
    expect(config.port).toBe(3000);
    expect(config.logLevel).toBe("info");
    expect(config.triggerApiUrl).toBe("https://api.trigger.dev");
  });

  it("selects Socket Mode with an app token, where the signing secret is optional", () => {
    const config = parseConfig({
      SLACK_BOT_TOKEN: valid.SLACK_BOT_TOKEN,
      PUFFLE_API_KEY: valid.PUFFLE_API_KEY,
      SLACK_APP_TOKEN: "xapp-1-A111-222-abc",
    });
    expect(config.slack.mode).toBe("socket");
  });

  it("reads optional values: realtime off, allow-list, default step, trailing slashes", () => {
    const config = parseConfig({
      ...valid,
      TRIGGER_API_URL: "off",
      ALLOWED_CHANNEL_IDS: "C0AAA, C0BBB ,",
      PUFFLE_CAMPAIGN_ID: "3F2C8A1E-0B7D-4E59-9C1A-2D4E6F8A0B1C",
      PUFFLE_NODE_ID: "4a2c8a1e-0b7d-4e59-9c1a-2d4e6f8a0b1c",
      PUFFLE_API_URL: "http://127.0.0.1:4010/",
      SLACK_API_URL: "http://127.0.0.1:9999/api",
    });
    expect(config.triggerApiUrl).toBeUndefined();
    expect([...(config.allowedChannelIds ?? [])]).toEqual(["C0AAA", "C0BBB"]);
    expect(config.puffle.defaultStep).toEqual({
      campaignId: "3f2c8a1e-0b7d-4e59-9c1a-2d4e6f8a0b1c",
      nodeId: "4a2c8a1e-0b7d-4e59-9c1a-2d4e6f8a0b1c",
    });
    expect(config.puffle.apiUrl).toBe("http://127.0.0.1:4010");
    expect(config.slack.apiUrl).toBe("http://127.0.0.1:9999/api/");
  });

  it("rejects a malformed allow-list and out-of-range numbers", () => {
    const problems = problemsOf({
      ...valid,
      ALLOWED_CHANNEL_IDS: "general",
      PORT: "70000",
      POLL_INTERVAL_MS: "5",
    });
    expect(problems.join("\n")).toMatch(/ALLOWED_CHANNEL_IDS/);
    expect(problems.join("\n")).toMatch(/PORT/);
    expect(problems.join("\n")).toMatch(/POLL_INTERVAL_MS/);
  });

  it("merges .env under the process environment", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const file = join(dir, ".env");
    writeFileSync(file, "PORT=4000\nLOG_LEVEL=debug\n# comment\nPUFFLE_API_KEY=pk_test_fromfile\n");
    const env = readEnvironment(file, { PORT: "5000", LOG_LEVEL: "" });
    expect(env.PORT).toBe("5000");
    expect(env.LOG_LEVEL).toBe("debug");
    expect(env.PUFFLE_API_KEY).toBe("pk_test_fromfile");
    expect(readEnvironment(join(dir, "missing.env"), {}).PORT).toBeUndefined();
  });
});

describe(".env.example", () => {
  it("documents every variable the app reads, each with a comment, and nothing else", async () => {
    const { readFileSync } = await import("node:fs");
    const { CONFIG_VARIABLES } = await import("../../src/config.ts");
    const lines = readFileSync(new URL("../../.env.example", import.meta.url), "utf8").split("\n");
    const documented = lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split("=")[0]);
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
    for (const name of CONFIG_VARIABLES) {
      // The comment may sit above a small group of related variables.
      let index = lines.findIndex((l) => l.startsWith(`${name}=`)) - 1;
      while (index > 0 && /^[A-Z_]+=/.test(lines[index] ?? "")) index--;
      expect(lines[index], `${name} needs a comment above it`).toMatch(/^#/);
    }
  });

  describe("replicas, workspaces, budget and metrics (SPEC 7, 8, 10)", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const oauth = {
      SLACK_CLIENT_ID: "1234567890.1234567890",
      SLACK_CLIENT_SECRET: "client-secret-0123456789",
      SLACK_STATE_SECRET: "state-secret-0123456789",
      SLACK_SIGNING_SECRET: "0123456789abcdef0123456789abcdef",
      ENCRYPTION_KEY: key,
    };

    it("defaults: a 15 s lease, 100 Puffle requests a minute, metrics on, one workspace", () => {
      const config = parseConfig(valid);
      expect(config.leaseTtlMs).toBe(15_000);
      expect(config.puffle.maxRpm).toBe(100);
      expect(config.metrics).toBe(true);
      expect(config.slack.oauth).toBeUndefined();
      expect(parseConfig({ ...valid, METRICS: "OFF", PUFFLE_MAX_RPM: "60" })).toMatchObject({
        metrics: false,
        puffle: { maxRpm: 60 },
      });
    });

    it("accepts a PostgreSQL DATABASE_URL", () => {
      expect(
        parseConfig({ ...valid, DATABASE_URL: "postgres://drafter:pw@db:5432/drafter" }).databaseUrl,
      ).toBe("postgres://drafter:pw@db:5432/drafter");
    });

    it("OAuth mode: no bot token or Puffle key needed; the encryption key decoded", () => {
      const config = parseConfig(oauth);
      expect(config.slack.oauth).toEqual({
        clientId: oauth.SLACK_CLIENT_ID,
        clientSecret: oauth.SLACK_CLIENT_SECRET,
        stateSecret: oauth.SLACK_STATE_SECRET,
      });
      expect(config.slack.botToken).toBeUndefined();
      expect(config.puffle.apiKey).toBeUndefined();
      expect(config.encryption?.key).toEqual(Buffer.alloc(32, 7));
    });

    it("setting both modes is an error that says how to choose", () => {
      const problems = problemsOf({ ...oauth, SLACK_BOT_TOKEN: valid.SLACK_BOT_TOKEN });
      expect(problems.join("\n")).toMatch(/SLACK_BOT_TOKEN and the OAuth variables are both set: choose one/);
    });

    it("OAuth needs all three variables, HTTP mode and an encryption key, each named", () => {
      const text = problemsOf({
        SLACK_CLIENT_ID: oauth.SLACK_CLIENT_ID,
        SLACK_APP_TOKEN: "xapp-1-abc",
        ENCRYPTION_KEY: "too-short",
      }).join("\n");
      expect(text).toMatch(/SLACK_CLIENT_SECRET is required with the other OAuth variables/);
      expect(text).toMatch(/SLACK_STATE_SECRET is required/);
      expect(text).toMatch(/SLACK_APP_TOKEN cannot be used with OAuth installs/);
      expect(text).toMatch(/ENCRYPTION_KEY must be 32 random bytes in base64/);
      expect(text).not.toContain("too-short");
    });
  });
});

describe("placeholders copied from .env.example", () => {
  const example = () => readFileSync(new URL("../../.env.example", import.meta.url), "utf8");

  it("are the values .env.example ships with", () => {
    const fromFile = placeholdersIn(example());
    expect(fromFile).toEqual(PLACEHOLDERS);
    expect(Object.keys(fromFile)).toEqual(expect.arrayContaining(["SLACK_BOT_TOKEN", "PUFFLE_API_KEY"]));
  });

  it("count as unset, and the problem says the value is still the placeholder", () => {
    const env = { ...valid, SLACK_BOT_TOKEN: PLACEHOLDERS.SLACK_BOT_TOKEN };
    const problems = problemsOf(env);
    expect(problems).toEqual([
      expect.stringMatching(
        /^SLACK_BOT_TOKEN is not set \(still the \.env\.example placeholder\); it is required/,
      ),
    ]);
    expect(placeholderVariables(env)).toEqual(["SLACK_BOT_TOKEN"]);
    // .env copied as it is: both placeholders named, neither tried.
    const copied = problemsOf(
      parseEnvExample(example(), { SLACK_SIGNING_SECRET: valid.SLACK_SIGNING_SECRET }),
    );
    expect(copied).toEqual([
      expect.stringMatching(/^SLACK_BOT_TOKEN is not set \(still the \.env\.example placeholder\)/),
      expect.stringMatching(/^PUFFLE_API_KEY is not set \(still the \.env\.example placeholder\)/),
    ]);
  });

  it("a .env copied untouched names the three tokens, the Socket Mode one as what the manifest needs", () => {
    expect(problemsOf(parseEnvExample(example(), {}))).toEqual([
      expect.stringMatching(/^SLACK_BOT_TOKEN is not set \(still the \.env\.example placeholder\)/),
      expect.stringMatching(
        /^SLACK_APP_TOKEN is not set \(still the \.env\.example placeholder\); it is needed: manifest\.yml as shipped uses Socket Mode/,
      ),
      expect.stringMatching(/^PUFFLE_API_KEY is not set \(still the \.env\.example placeholder\)/),
    ]);
    // With a signing secret instead, a placeholder app token simply means HTTP mode.
    const http = parseConfig({ ...valid, SLACK_APP_TOKEN: PLACEHOLDERS.SLACK_APP_TOKEN });
    expect(http.slack).toMatchObject({ mode: "http", appToken: undefined });
  });

  it("match the shipped manifest: a Socket Mode app, so the app token has a placeholder too", () => {
    const manifest = parse(readFileSync(new URL("../../manifest.yml", import.meta.url), "utf8"));
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(placeholdersIn(example())).toMatchObject({
      SLACK_BOT_TOKEN: expect.stringMatching(/^xoxb-/),
      SLACK_APP_TOKEN: expect.stringMatching(/^xapp-/),
    });
  });

  it("an optional variable left at its placeholder is simply unset (OAuth mode, no shared Puffle key)", () => {
    const config = parseConfig({
      SLACK_CLIENT_ID: "1234567890.1234567890",
      SLACK_CLIENT_SECRET: "client-secret-0123456789",
      SLACK_STATE_SECRET: "state-secret-0123456789",
      SLACK_SIGNING_SECRET: valid.SLACK_SIGNING_SECRET,
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
      // Left from .env.example: neither "both modes set" nor a key to try.
      SLACK_BOT_TOKEN: ` ${PLACEHOLDERS.SLACK_BOT_TOKEN} `,
      PUFFLE_API_KEY: PLACEHOLDERS.PUFFLE_API_KEY,
    });
    expect(config.slack.oauth).toBeDefined();
    expect(config.slack.botToken).toBeUndefined();
    expect(config.puffle.apiKey).toBeUndefined();
  });

  it("can be given by the caller; a real value that merely starts like one is kept", () => {
    const placeholders = { PUFFLE_API_KEY: "pk_test_placeholder" };
    expect(problemsOf({ ...valid, PUFFLE_API_KEY: "pk_test_placeholder" }, placeholders)).toEqual([
      expect.stringMatching(/^PUFFLE_API_KEY is not set \(still the \.env\.example placeholder\)/),
    ]);
    expect(
      parseConfig({ ...valid, PUFFLE_API_KEY: PLACEHOLDERS.PUFFLE_API_KEY }, { placeholders }).puffle.apiKey,
    ).toBe(PLACEHOLDERS.PUFFLE_API_KEY);
    expect(parseConfig({ ...valid, SLACK_BOT_TOKEN: "xoxb-your-bot-token-1234" }).slack.botToken).toBe(
      "xoxb-your-bot-token-1234",
    );
  });
});

/** .env.example as a .env, with some values filled in. */
function parseEnvExample(text: string, filled: Record<string, string>): Record<string, string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), "cfg-example-"));
  const file = join(dir, ".env");
  writeFileSync(file, text);
  return readEnvironment(file, filled);
}
