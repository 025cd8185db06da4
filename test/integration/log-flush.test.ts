import { spawn } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const loader = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;

/** Runs the burst fixture; stdout is read only after a pause, as a busy log collector would. */
function burst(count: number, style: "json" | "pretty"): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, [
    "--import",
    loader,
    join(root, "test/fixtures/log-burst.ts"),
    String(count),
    style,
  ]);
  let out = "";
  child.stdout.pause();
  setTimeout(() => child.stdout.resume(), 300);
  child.stdout.on("data", (chunk) => {
    out += String(chunk);
  });
  return new Promise((resolve) =>
    child.once("close", (code) => resolve({ code, lines: out.trim().split("\n").filter(Boolean) })),
  );
}

describe("log lines before an exit", () => {
  it("are all written, the last one included, when the process ends at once", async () => {
    const { code, lines } = await burst(20_000, "json");
    expect(code).toBe(3);
    expect(lines).toHaveLength(20_001);
    expect(JSON.parse(lines.at(-1) ?? "{}").msg).toBe("burst.last");
  }, 30_000);

  it("are all written by npm run dev's readable logs too", async () => {
    const { code, lines } = await burst(5_000, "pretty");
    expect(code).toBe(3);
    expect(lines.filter((line) => line.includes("burst.line"))).toHaveLength(5_000);
    expect(lines.at(-1)).toContain("burst.last");
  }, 30_000);
});
