import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { PLACEHOLDERS } from "../../src/config.ts";
import {
  type DoctorCheck,
  type DoctorOptions,
  type DoctorReport,
  formatReport,
  runDoctor,
} from "../../src/doctor/index.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { freePort } from "../support/free-port.ts";

// Placeholders, OAuth installs, and warnings that do not fail the run.
const BOT_TOKEN = "xoxb-doctor-modes-4b1e07";
const APP_TOKEN = "xapp-doctor-modes-9f2a64";
const SIGNING_SECRET = "doctor-modes-signing-c7d2";
const API_KEY = "pk_test_doctor_modes_e31b";
const CLIENT_SECRET = "doctor-modes-client-secret-55ab";
const STATE_SECRET = "doctor-modes-state-secret-90fe";
const ENCRYPTION_KEY = Buffer.alloc(32, 9).toString("base64");
const SECRETS = [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, API_KEY, CLIENT_SECRET, STATE_SECRET, ENCRYPTION_KEY];

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
beforeEach(() => {
  slack.resetCalls();
  puffle.resetStats();
});

function httpEnv(overrides: Record<string, string | undefined> = {}) {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: "0",
    PUFFLE_API_KEY: API_KEY,
    PUFFLE_API_URL: puffle.url,
    PUFFLE_CAMPAIGN_ID: SEED.draftCampaign.id,
    PUFFLE_NODE_ID: SEED.draftCampaign.emailNodeId,
    TRIGGER_API_URL: puffle.url,
    DATABASE_URL: "sqlite::memory:",
    ...overrides,
  };
}

function oauthEnv(overrides: Record<string, string | undefined> = {}) {
  return httpEnv({
    SLACK_BOT_TOKEN: undefined,
    PUFFLE_API_KEY: undefined,
    SLACK_CLIENT_ID: "1234567890.1234567890",
    SLACK_CLIENT_SECRET: CLIENT_SECRET,
    SLACK_STATE_SECRET: STATE_SECRET,
    ENCRYPTION_KEY,
    ...overrides,
  });
}

async function doctor(env: Record<string, string | undefined>, options: DoctorOptions = {}) {
  const report = await runDoctor(env, { timeoutMs: 3000, ...options });
  for (const text of [JSON.stringify(report), formatReport(report)])
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  return report;
}

function check(report: DoctorReport, name: string): DoctorCheck {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no "${name}" check in ${report.checks.map((c) => c.name).join(", ")}`);
  return found;
}

describe("npm run doctor: values left as in .env.example", () => {
  it("reports them as not set, and never tries them against Slack or Puffle", async () => {
    const report = await doctor(
      httpEnv({ SLACK_BOT_TOKEN: PLACEHOLDERS.SLACK_BOT_TOKEN, PUFFLE_API_KEY: PLACEHOLDERS.PUFFLE_API_KEY }),
    );
    expect(check(report, "Config").detail.split("\n")).toEqual([
      "2 problems:",
      expect.stringMatching(
        /^- SLACK_BOT_TOKEN is not set \(still the \.env\.example placeholder\); it is required/,
      ),
      expect.stringMatching(
        /^- PUFFLE_API_KEY is not set \(still the \.env\.example placeholder\); it is required/,
      ),
    ]);
    expect(check(report, "Slack token")).toMatchObject({
      skipped: true,
      detail: "skipped: needs SLACK_BOT_TOKEN, which is not set (still the .env.example placeholder)",
    });
    expect(check(report, "Puffle key").detail).toBe(
      "skipped: needs PUFFLE_API_KEY, which is not set (still the .env.example placeholder)",
    );
    expect(slack.callsTo("auth.test")).toEqual([]);
    expect(puffle.stats().requests["campaigns.list"] ?? 0).toBe(0);
    expect(report.ok).toBe(false);
  });

  it("an app token left as the placeholder, with no signing secret: Socket Mode is skipped, naming it", async () => {
    const report = await doctor(
      httpEnv({ SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: PLACEHOLDERS.SLACK_APP_TOKEN }),
    );
    expect(check(report, "Config").detail).toMatch(
      /^- SLACK_APP_TOKEN is not set \(still the \.env\.example placeholder\); it is needed: manifest\.yml as shipped uses Socket Mode/m,
    );
    expect(check(report, "Socket Mode")).toMatchObject({
      skipped: true,
      detail: "skipped: needs SLACK_APP_TOKEN, which is not set (still the .env.example placeholder)",
    });
    expect(formatReport(report)).toMatch(/^– Socket Mode: skipped: needs SLACK_APP_TOKEN/m);
    expect(slack.callsTo("apps.connections.open")).toEqual([]);
    // The rest still runs: the bot token is checked.
    expect(check(report, "Slack token").ok).toBe(true);
  });

  it("reads the placeholders from the example file itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "doctor-example-"));
    const examplePath = join(dir, ".env.example");
    writeFileSync(examplePath, "# Socket Mode token\nSLACK_APP_TOKEN=xapp-your-app-token\nPORT=\n");
    const report = await doctor(httpEnv({ SLACK_APP_TOKEN: "xapp-your-app-token" }), { examplePath });
    // Left as the placeholder, SLACK_APP_TOKEN counts as unset: HTTP mode, not Socket Mode.
    expect(check(report, "Config").detail).toContain(
      "SLACK_APP_TOKEN not set (still the .env.example placeholder)",
    );
    expect(check(report, "Config").detail).toMatch(/^valid: HTTP mode/);
    expect(report.checks.map((c) => c.name)).toContain("HTTP mode");
    expect(slack.callsTo("apps.connections.open")).toEqual([]);
    expect(report.ok).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("npm run doctor: OAuth installs", () => {
  it("skips the bot token with its reason, and the Puffle key when none is shared", async () => {
    const report = await doctor(oauthEnv());
    expect(check(report, "Config").detail).toMatch(/^valid: HTTP mode, OAuth installs in many workspaces/);
    expect(check(report, "Slack token")).toMatchObject({
      skipped: true,
      detail:
        "skipped: not used with OAuth installs: each workspace's bot token comes with its install (/slack/install)",
    });
    expect(check(report, "Puffle key").detail).toBe(
      "skipped: no PUFFLE_API_KEY: optional with OAuth installs, each workspace connects its own key in the App Home",
    );
    expect(check(report, "HTTP mode").detail).toContain("https://<public host>/slack/oauth_redirect");
    expect(slack.callsTo("auth.test")).toEqual([]);
    expect(report.ok).toBe(true);
    expect(formatReport(report)).toMatch(/^– Slack token: skipped: not used with OAuth installs/m);
    expect(formatReport(report)).toContain("4 of 6 checks passed, 2 skipped.");
  });

  it("checks a shared PUFFLE_API_KEY when one is set", async () => {
    const good = await doctor(oauthEnv({ PUFFLE_API_KEY: API_KEY }));
    expect(check(good, "Puffle key").detail).toMatch(/^PUFFLE_API_KEY pk_test_… \(\d+ chars\) accepted by/);
    const wrong = await runDoctor(oauthEnv({ PUFFLE_API_KEY: "pk_live_not_this_one_123" }), {
      timeoutMs: 3000,
    });
    expect(check(wrong, "Puffle key")).toMatchObject({ ok: false });
    expect(check(wrong, "Puffle key").detail).toContain("Puffle did not accept PUFFLE_API_KEY");
    expect(wrong.ok).toBe(false);
  });

  it("names a missing or bad ENCRYPTION_KEY without printing it, and still knows the mode", async () => {
    const report = await doctor(oauthEnv({ ENCRYPTION_KEY: "too-short-key" }));
    expect(check(report, "Config").detail).toMatch(/- ENCRYPTION_KEY must be 32 random bytes in base64/);
    expect(formatReport(report)).not.toContain("too-short-key");
    expect(check(report, "Slack token").detail).toContain("not used with OAuth installs");
    expect(check(report, "HTTP mode").ok).toBe(true);

    const missing = await doctor(oauthEnv({ ENCRYPTION_KEY: undefined }));
    expect(check(missing, "Config").detail).toMatch(/- ENCRYPTION_KEY is required with OAuth installs/);
    expect(missing.ok).toBe(false);
  });
});

describe("npm run doctor: warnings", () => {
  it("a default step in a campaign that is not a draft: Save to campaign will refuse", async () => {
    const report = await doctor(
      httpEnv({
        PUFFLE_CAMPAIGN_ID: SEED.activeCampaign.id,
        PUFFLE_NODE_ID: SEED.activeCampaign.emailNodeId,
      }),
    );
    const puffleCheck = check(report, "Puffle key");
    expect(puffleCheck).toMatchObject({ ok: false, warning: true });
    expect(puffleCheck.detail).toContain('default step: the email step 1 of "Fintech CFO follow-ups"');
    expect(puffleCheck.detail).toContain("Save to campaign will refuse (campaign is active)");
    expect(puffleCheck.fix).toContain("to a step of a draft campaign");
    expect(report.ok).toBe(true);
    expect(formatReport(report)).toMatch(/^! Puffle key: .*\(warning\)\n {4}fix: drafting works/m);
  });

  it("the CLI exits 0 when there are only warnings, and shows them as such", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "doctor-cli-"));
    const env = httpEnv({ TRIGGER_API_URL: `http://127.0.0.1:${await freePort()}` });
    const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        join(root, "node_modules", ".bin", "tsx"),
        [join(root, "scripts", "doctor.ts")],
        { cwd, env: { PATH: process.env.PATH ?? "", HOME: cwd, ...clean }, timeout: 25_000 },
        (error, stdout) => {
          rmSync(cwd, { recursive: true, force: true });
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout });
        },
      );
    });
    expect(result.stdout).toMatch(/^! Realtime host: cannot reach TRIGGER_API_URL .*\(warning\)$/m);
    expect(result.stdout).toContain("5 of 6 checks passed, 1 warning.");
    expect(result.code).toBe(0);
    for (const secret of SECRETS) expect(result.stdout).not.toContain(secret);
  });
});
