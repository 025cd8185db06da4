import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import {
  type DoctorCheck,
  type DoctorReport,
  formatReport,
  maskSecret,
  parseManifestBotScopes,
  runDoctor,
} from "../../src/doctor/index.ts";
import { DEFAULT_BOT_SCOPES, type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { freePort } from "../support/free-port.ts";

// Distinctive secrets, so "never printed" can be checked by searching the output for them.
const BOT_TOKEN = "xoxb-doctor-bot-7e1c9a44d2";
const APP_TOKEN = "xapp-doctor-app-51b08f3e6c";
const SIGNING_SECRET = "doctor-signing-secret-0d93b7";
const API_KEY = "pk_test_doctor_key_a81f3c";
const SECRETS = [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, API_KEY];

const root = fileURLToPath(new URL("../../", import.meta.url));

let slack: FakeSlack;
let puffle: Emulator;

beforeAll(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN, appToken: APP_TOKEN });
  puffle = await startEmulator({ apiKey: API_KEY });
});
afterAll(async () => {
  await slack?.close();
  await puffle?.close();
});

/** A port nothing listens on: listened on, then closed again. */

/** Listens on a port (every interface, as Bolt does) until closed. */
async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return { port: address.port, server };
}

async function httpEnv(overrides: Record<string, string | undefined> = {}) {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: String(await freePort()),
    PUFFLE_API_KEY: API_KEY,
    PUFFLE_API_URL: puffle.url,
    PUFFLE_CAMPAIGN_ID: SEED.draftCampaign.id,
    PUFFLE_NODE_ID: SEED.draftCampaign.emailNodeId,
    TRIGGER_API_URL: puffle.url,
    DATABASE_URL: "sqlite::memory:",
    ...overrides,
  };
}

async function socketEnv(overrides: Record<string, string | undefined> = {}) {
  return httpEnv({ SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: APP_TOKEN, ...overrides });
}

async function doctor(env: Record<string, string | undefined>): Promise<DoctorReport> {
  const report = await runDoctor(env, { timeoutMs: 3000 });
  expectNoSecrets(JSON.stringify(report));
  expectNoSecrets(formatReport(report));
  return report;
}

function expectNoSecrets(text: string, secrets: string[] = SECRETS) {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

function check(report: DoctorReport, name: string): DoctorCheck {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no "${name}" check in ${report.checks.map((c) => c.name).join(", ")}`);
  return found;
}

const failed = (report: DoctorReport) => report.checks.filter((c) => !c.ok).map((c) => c.name);

describe("npm run doctor: a good set-up", () => {
  it("passes every check in HTTP mode, and says what it found", async () => {
    const env = await httpEnv();
    const report = await doctor(env);
    expect(report.checks.map((c) => c.name)).toEqual([
      "Config",
      "Slack token",
      "HTTP mode",
      "Puffle key",
      "Realtime host",
      "Store",
    ]);
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(check(report, "Config").detail).toContain(`SLACK_BOT_TOKEN ${maskSecret(BOT_TOKEN)}`);
    expect(check(report, "Slack token").detail).toMatch(/team Fake Team \(T0TEAM\), bot user @bot \(U0BOT\)/);
    expect(check(report, "Slack token").detail).toContain("all 7 bot scopes of manifest.yml granted");
    expect(check(report, "HTTP mode").detail).toContain(`port ${env.PORT} is free`);
    expect(check(report, "HTTP mode").detail).toContain("https://<public host>/slack/events");
    expect(check(report, "Puffle key").detail).toMatch(/accepted by http:\/\/127\.0\.0\.1:\d+: 3 campaigns/);
    expect(check(report, "Puffle key").detail).toContain('the email step 1 of "Q1 VP Sales outreach"');
    expect(check(report, "Realtime host").detail).toMatch(
      /is reachable \(it answered HTTP \d+; any answer will do\)/,
    );
    expect(check(report, "Store").detail).toBe("SQLite in memory: nothing is kept across restarts");

    const printed = formatReport(report);
    expect(printed).toMatch(/^✓ Config: valid: HTTP mode/);
    expect(printed).not.toContain("fix:");
    expect(printed.trimEnd().split("\n").at(-1)).toBe("All 6 checks passed.");
  });

  it("passes every check in Socket Mode, opening a connection with the app-level token", async () => {
    slack.resetCalls();
    const report = await doctor(await socketEnv());
    expect(failed(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toContain("Socket Mode");
    expect(check(report, "Socket Mode").detail).toContain(`SLACK_APP_TOKEN ${maskSecret(APP_TOKEN)}`);
    expect(slack.callsTo("apps.connections.open")).toMatchObject([{ ok: true }]);
    expect(slack.callsTo("auth.test")).toMatchObject([{ ok: true }]);
  });

  it("passes the realtime check with TRIGGER_API_URL=off", async () => {
    const report = await doctor(await httpEnv({ TRIGGER_API_URL: "off" }));
    expect(check(report, "Realtime host")).toMatchObject({ ok: true, detail: "realtime off: polling only" });
    expect(report.ok).toBe(true);
  });
});

describe("npm run doctor: Slack problems", () => {
  it("fails the Slack check for a wrong bot token, with the fix", async () => {
    const wrong = "xoxb-not-the-right-token-31337";
    const report = await runDoctor(await httpEnv({ SLACK_BOT_TOKEN: wrong }));
    expect(failed(report)).toEqual(["Slack token"]);
    const slackCheck = check(report, "Slack token");
    expect(slackCheck.detail).toContain("Slack answered auth.test with invalid_auth");
    expect(slackCheck.fix).toMatch(/Bot User OAuth Token .* OAuth & Permissions .* SLACK_BOT_TOKEN/);
    expectNoSecrets(formatReport(report), [wrong, ...SECRETS]);
    expect(report.ok).toBe(false);
  });

  it("names the scopes manifest.yml asks for that the token lacks", async () => {
    const narrow = await startFakeSlack({
      token: BOT_TOKEN,
      scopes: DEFAULT_BOT_SCOPES.filter((s) => s !== "users:read" && s !== "im:history"),
    });
    try {
      const report = await doctor(await httpEnv({ SLACK_API_URL: narrow.url }));
      expect(failed(report)).toEqual(["Slack token"]);
      const slackCheck = check(report, "Slack token");
      expect(slackCheck.detail).toContain(
        "missing scopes that manifest.yml asks for: im:history, users:read",
      );
      expect(slackCheck.fix).toBe(
        "add the scopes im:history, users:read in OAuth & Permissions and reinstall the app",
      );
    } finally {
      await narrow.close();
    }
  });

  it("fails Socket Mode for a wrong app-level token, with the fix", async () => {
    const report = await doctor(await socketEnv({ SLACK_APP_TOKEN: "xapp-1-wrong" }));
    expect(failed(report)).toEqual(["Socket Mode"]);
    expect(check(report, "Socket Mode").detail).toContain("apps.connections.open with invalid_auth");
    expect(check(report, "Socket Mode").fix).toContain(
      "create an app-level token with connections:write under Basic Information",
    );
  });

  it("fails HTTP mode when PORT is taken, and says which port", async () => {
    const { port, server } = await occupyPort();
    try {
      const report = await doctor(await httpEnv({ PORT: String(port) }));
      expect(failed(report)).toEqual(["HTTP mode"]);
      expect(check(report, "HTTP mode").detail).toContain(`port ${port} is already in use`);
      expect(check(report, "HTTP mode").fix).toContain(`port ${port}, or set PORT to a free port`);
    } finally {
      server.close();
    }
  });

  it("fails Socket Mode too when PORT is taken: the health checks listen on it", async () => {
    const { port, server } = await occupyPort();
    try {
      const report = await doctor(await socketEnv({ PORT: String(port) }));
      expect(failed(report)).toEqual(["Socket Mode"]);
      expect(check(report, "Socket Mode").detail).toContain(`port ${port} is already in use`);
    } finally {
      server.close();
    }
  });
});

describe("npm run doctor: Puffle and realtime problems", () => {
  it("fails the Puffle check for a wrong key, with the key fix", async () => {
    const wrong = "pk_live_wrong_key_00000";
    const report = await runDoctor(await httpEnv({ PUFFLE_API_KEY: wrong }));
    expect(failed(report)).toEqual(["Puffle key"]);
    expect(check(report, "Puffle key").detail).toContain("Puffle did not accept PUFFLE_API_KEY");
    expect(check(report, "Puffle key").fix).toContain("put a valid Puffle API key");
    expectNoSecrets(formatReport(report), [wrong, ...SECRETS]);
  });

  it("fails the Puffle check when PUFFLE_API_URL is a closed port, with the reach fix", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const report = await doctor(await httpEnv({ PUFFLE_API_URL: closed }));
    expect(failed(report)).toEqual(["Puffle key"]);
    expect(check(report, "Puffle key").detail).toBe(`cannot reach PUFFLE_API_URL (${closed}): ECONNREFUSED`);
    expect(check(report, "Puffle key").fix).toContain("check PUFFLE_API_URL");
  });

  it("fails when the default step is not an email or ai step, listing the ones that are", async () => {
    const report = await doctor(await httpEnv({ PUFFLE_NODE_ID: SEED.draftCampaign.firstDelayNodeId }));
    expect(failed(report)).toEqual(["Puffle key"]);
    const puffleCheck = check(report, "Puffle key");
    expect(puffleCheck.detail).toContain("3 campaigns");
    expect(puffleCheck.detail).toContain('PUFFLE_NODE_ID is a delay step of campaign "Q1 VP Sales outreach"');
    expect(puffleCheck.fix).toContain(`${SEED.draftCampaign.emailNodeId} (email, step 1)`);
    expect(puffleCheck.fix).toContain(`${SEED.draftCampaign.aiNodeId} (ai, step 3)`);
  });

  it("fails when the default campaign does not exist", async () => {
    const missing = "c9000000-0000-4000-8000-000000000001";
    const report = await doctor(await httpEnv({ PUFFLE_CAMPAIGN_ID: missing }));
    expect(check(report, "Puffle key").detail).toContain(
      `PUFFLE_CAMPAIGN_ID ${missing} is not a campaign this key can see`,
    );
  });

  it("an unreachable realtime host is a warning with the polling fix", async () => {
    const report = await doctor(await httpEnv({ TRIGGER_API_URL: `http://127.0.0.1:${await freePort()}` }));
    expect(failed(report)).toEqual(["Realtime host"]);
    expect(check(report, "Realtime host")).toMatchObject({
      ok: false,
      warning: true,
      fix: "set TRIGGER_API_URL=off to rely on polling, or allow outbound HTTPS to it",
    });
    // A warning is shown as one, and does not fail the run.
    expect(formatReport(report)).toMatch(/^! Realtime host: cannot reach TRIGGER_API_URL .*\(warning\)$/m);
    expect(formatReport(report)).toContain("5 of 6 checks passed, 1 warning.");
    expect(report.ok).toBe(true);
  });
});

describe("npm run doctor: a bad config", () => {
  it("lists every problem, runs what it can and skips the rest", async () => {
    const report = await doctor(
      await httpEnv({ SLACK_BOT_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined, PORT: "eighty" }),
    );
    const config = check(report, "Config");
    expect(config.ok).toBe(false);
    expect(config.detail.split("\n")).toEqual([
      "3 problems:",
      expect.stringMatching(/^- SLACK_BOT_TOKEN is required/),
      expect.stringMatching(/^- SLACK_SIGNING_SECRET is required in HTTP mode/),
      expect.stringMatching(/^- PORT must be a whole number/),
    ]);
    expect(config.fix).toContain(".env.example");
    expect(check(report, "Slack token")).toMatchObject({
      ok: false,
      skipped: true,
      detail: "skipped: needs SLACK_BOT_TOKEN (see Config)",
    });
    expect(check(report, "HTTP mode")).toMatchObject({
      skipped: true,
      detail: "skipped: needs a valid PORT (see Config)",
    });
    // These have what they need.
    expect(check(report, "Puffle key").ok).toBe(true);
    expect(check(report, "Realtime host").ok).toBe(true);
    expect(formatReport(report)).toContain("3 of 6 checks passed, 1 failed, 2 skipped.");
    expect(formatReport(report)).toMatch(/^– Slack token: skipped: needs SLACK_BOT_TOKEN \(see Config\)$/m);
  });

  it("still checks the Slack token when only Puffle's settings are wrong", async () => {
    const report = await doctor(
      await httpEnv({ PUFFLE_API_KEY: undefined, PUFFLE_NODE_ID: undefined, TRIGGER_API_URL: "nope" }),
    );
    expect(check(report, "Config").detail).toMatch(/^3 problems:/);
    expect(check(report, "Slack token").ok).toBe(true);
    expect(check(report, "HTTP mode").ok).toBe(true);
    expect(check(report, "Puffle key").detail).toBe("skipped: needs PUFFLE_API_KEY (see Config)");
    expect(check(report, "Realtime host").detail).toBe("skipped: needs a valid TRIGGER_API_URL (see Config)");
  });

  it("reports the signing secret in HTTP mode as the mode's own failure once the port is known", async () => {
    const report = await doctor(await httpEnv({ SLACK_SIGNING_SECRET: "short" }));
    expect(failed(report)).toEqual(["Config", "HTTP mode"]);
    expect(check(report, "HTTP mode").detail).toContain("SLACK_SIGNING_SECRET is missing or invalid");
    expect(check(report, "HTTP mode").fix).toContain("Basic Information > App Credentials");
    expectNoSecrets(formatReport(report), ["short"]);
  });
});

describe("the manifest's bot scopes", () => {
  it("are read the same as the yaml package reads them", () => {
    const text = readFileSync(join(root, "manifest.yml"), "utf8");
    const scopes: string[] = parse(text).oauth_config.scopes.bot;
    expect(parseManifestBotScopes(text)).toEqual(scopes);
    expect(scopes.length).toBeGreaterThan(5);
  });

  it("are found in the other shapes YAML allows", () => {
    const cases = [
      "oauth_config:\n  scopes:\n    bot:\n    - chat:write # needed\n    - 'commands'\nsettings: {}\n",
      'oauth_config:\n  redirect_urls:\n    - https://x.example\n  scopes:\n    bot: [chat:write, "commands"]\n',
      "# scopes:\nfeatures:\n  bot:\n    - nope\noauth_config:\n  scopes:\n    user:\n      - nope\n    bot:\n      - chat:write\n      - commands\n",
    ];
    for (const text of cases) {
      expect(parseManifestBotScopes(text)).toEqual(["chat:write", "commands"]);
      expect(parse(text).oauth_config.scopes.bot).toEqual(["chat:write", "commands"]);
    }
    expect(parseManifestBotScopes("display_information:\n  name: x\n")).toBeUndefined();
  });
});

describe("the doctor CLI", () => {
  const tsx = join(root, "node_modules", ".bin", "tsx");
  const script = join(root, "scripts", "doctor.ts");

  /** Runs the CLI in an empty directory (no .env) with only these variables; async, so our fakes answer. */
  function runCli(env: Record<string, string | undefined>) {
    const cwd = mkdtempSync(join(tmpdir(), "doctor-cli-"));
    const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        tsx,
        [script],
        { cwd, env: { PATH: process.env.PATH ?? "", HOME: cwd, ...clean }, timeout: 25_000 },
        (error, stdout, stderr) => {
          rmSync(cwd, { recursive: true, force: true });
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
        },
      );
    });
  }

  it("exits 1 on a bad environment and prints no secret", async () => {
    const result = await runCli(
      await httpEnv({ PUFFLE_API_KEY: "pk_live_wrong_but_secret_42", SLACK_API_URL: "not a url" }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("no .env in");
    expect(result.stdout).toMatch(/^✗ Config: 1 problem:$/m);
    expect(result.stdout).toContain("– Slack token: skipped: needs a valid SLACK_API_URL (see Config)");
    expect(result.stdout).toMatch(
      /✗ Puffle key: Puffle did not accept PUFFLE_API_KEY pk_live_… \(27 chars\)/,
    );
    expect(result.stdout).toMatch(/^ {4}fix: /m);
    expectNoSecrets(result.stdout + result.stderr, [...SECRETS, "pk_live_wrong_but_secret_42"]);
  });

  it("exits 0 when every check passes", async () => {
    const result = await runCli(await socketEnv());
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("All 6 checks passed.");
    expect(result.code).toBe(0);
    expectNoSecrets(result.stdout);
  });
});
