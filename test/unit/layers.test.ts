import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Data flows one way: slack -> drafting -> puffle (Slack sees Puffle only through drafting); config,
 * logger and clock are leaves anyone may import; src never imports the emulator.
 */
const root = new URL("../../src/", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(path: string): string[] {
  const text = readFileSync(path, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)[^"']*from\s+["']([^"']+)["']/gm)].map((m) => m[1] ?? "");
}

const layerOf = (path: string) => relative(root, path).split("/")[0] ?? "";

const FORBIDDEN: Record<string, string[]> = {
  puffle: ["drafting", "slack", "@slack/", "@trigger.dev/"],
  drafting: ["slack", "@slack/"],
  slack: ["puffle", "@trigger.dev/"],
};

/** Modules every layer may use, which therefore use no other module of ours. */
const LEAVES = ["config.ts", "config-schema.ts", "logger.ts", "clock.ts"];

describe("layers", () => {
  it("puffle knows nothing of drafting or Slack; drafting nothing of Slack; nothing imports the emulator", () => {
    const problems: string[] = [];
    for (const file of files(root)) {
      const layer = layerOf(file);
      for (const spec of importsOf(file)) {
        if (spec.includes("emulator")) problems.push(`${relative(root, file)} imports ${spec}`);
        for (const banned of FORBIDDEN[layer] ?? []) {
          const target = spec.startsWith(".") ? relative(root, join(file, "..", spec)) : spec;
          if (target.startsWith(banned)) problems.push(`${relative(root, file)} imports ${spec}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(files(root).length).toBeGreaterThan(20);
  });

  it("config, logger and clock are leaves: they import no other module of the app", () => {
    const problems: string[] = [];
    for (const leaf of LEAVES) {
      for (const spec of importsOf(join(root, leaf))) {
        // The configuration is two files: the variables' schema and how they go together.
        if (spec.startsWith(".") && !(leaf === "config.ts" && spec === "./config-schema.ts"))
          problems.push(`${leaf} imports ${spec}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
