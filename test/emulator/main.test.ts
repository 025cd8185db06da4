// `npm run emulator` as a process: its banner names the real port and key, and the three quick-start
// commands it prints work as printed (run here through fetch, so curl need not be installed).
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { quickStart } from "../../emulator/banner.ts";
import { typescriptArgs } from "../support/bot-process.ts";

const root = new URL("../../", import.meta.url).pathname;
let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill("SIGTERM");
  child = undefined;
});

function startMain(args: string[]): Promise<string> {
  const started = spawn(process.execPath, typescriptArgs("emulator/main.ts", ...args), {
    cwd: root,
    env: { PATH: process.env.PATH },
  });
  child = started;
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in time:\n${output}`)), 20_000);
    const take = (chunk: unknown) => {
      output += String(chunk);
      if (output.includes("TRIGGER_API_URL=")) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    started.stdout.on("data", take);
    started.stderr.on("data", take);
    started.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}

/** Just enough of curl's syntax for the quick-start lines: -H "..." headers, -d '...' body, the URL. */
async function runCurl(line: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  for (const [, name, value] of line.matchAll(/-H "([^:]+): ([^"]*)"/g)) headers[name ?? ""] = value ?? "";
  const body = /-d '([^']*)'/.exec(line)?.[1];
  const url = line.split(" ").at(-1) ?? "";
  const response = await fetch(url, { method: body === undefined ? "GET" : "POST", headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("npm run emulator", () => {
  it("prints the real port and key, and a quick start that lists campaigns, creates a session and sends a turn", async () => {
    const output = await startMain([
      "--port",
      "0",
      "--quiet",
      "--api-key",
      "pk_test_banner_key",
      "--task-delay-ms",
      "200",
    ]);
    const url = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(output)?.[1] ?? "";
    expect(url).toMatch(/:\d+$/);
    expect(url).not.toMatch(/:0$/);

    const lines = output.split("\n").filter((line) => line.startsWith("curl "));
    expect(lines).toEqual(quickStart(url, "pk_test_banner_key"));
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toContain("pk_test_banner_key");

    const campaigns = await runCurl(lines[0] ?? "");
    expect(campaigns.status).toBe(200);
    expect(campaigns.body.campaigns).toHaveLength(3);
    const created = await runCurl(lines[1] ?? "");
    expect(created.status).toBe(201);
    const sessionId = (created.body.session as { id: string }).id;
    const turn = await runCurl((lines[2] ?? "").replace("SESSION_ID", sessionId));
    expect(turn.status).toBe(200);
    expect(turn.body).toEqual({
      runId: expect.stringMatching(/^run_/),
      publicAccessToken: expect.any(String),
    });
  });

  it("takes the stream, key and budget options and says so", async () => {
    const output = await startMain([
      "--port",
      "0",
      "--quiet",
      "--stream-version",
      "v1",
      "--chunk-shape",
      "delta",
      "--rate-limit",
      "30",
      "--extra-keys",
      "pk_test_second,pk_test_third",
    ]);
    expect(output).toContain('stream on key "reply" (v1, delta chunks)');
    expect(output).toContain("30 requests/min per key");
    expect(output).toContain("(+2 more, each its own workspace)");
    expect(output).not.toContain("pk_test_second");
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? "";
    const response = await fetch(`${url}/api/campaigns`, {
      headers: { authorization: "Bearer pk_test_third" },
    });
    expect(response.status).toBe(200);
  });
});
