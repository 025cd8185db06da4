import { describe, expect, it } from "vitest";
import { runDemo } from "../../scripts/demo.ts";

describe("npm run demo", () => {
  it("runs the scripted conversation and prints the thread as a person reads it", async () => {
    const lines: string[] = [];
    const thread = await runDemo((line) => lines.push(line));
    expect(lines.join("\n")).toContain("the thread, as people in the channel see it");
    expect(thread).toMatch(/three quick questions/);
    expect(thread).toContain("Superseded by v2 below");
    expect(thread).toContain("# Draft v2");
    expect(thread).toContain("[Shorter]");
    expect(thread).toContain("# Examples for v2");
    for (const lead of ["Maya Patel", "Daniel Okafor", "Sofia Lindqvist", "James Whitaker", "Priya Raman"]) {
      expect(thread).toContain(lead);
    }
    // Nothing is left in a working state.
    expect(thread).not.toMatch(/Drafting\.\.\.|Generating examples/);
  }, 60_000);
});
