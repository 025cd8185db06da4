import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Every relative link in the docs leads somewhere: a file of the repo, and a heading when it names one.
const root = fileURLToPath(new URL("../../", import.meta.url));
const DOCS = [
  "README.md",
  "emulator/README.md",
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** `[text](target)` and `[label]: target`, outside code blocks and code spans. */
function linksIn(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? "");
  const references = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1] ?? "");
  return [...inline, ...references];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const headings = [...markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+)$/gm)];
  return new Set(
    headings.map((m) =>
      (m[1] ?? "")
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    ),
  );
}

function brokenLinks(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return linksIn(text).flatMap((link) => {
    if (/^[a-z][a-z+.-]*:/i.test(link)) return []; // https:, mailto: ...
    const [path = "", anchor] = link.split("#");
    const target = path === "" ? join(root, file) : join(root, dirname(file), decodeURIComponent(path));
    if (!existsSync(target) || relative(root, target).startsWith("..")) return [`${link} (no such file)`];
    if (anchor && target.endsWith(".md") && !anchorsOf(readFileSync(target, "utf8")).has(anchor))
      return [`${link} (no such heading)`];
    return [];
  });
}

describe("links in the docs", () => {
  it("finds inline and reference links, not ones in code", () => {
    const markdown = [
      "See [the emulator](emulator/README.md) and [dev](#npm-run-dev).",
      "`[not](a-link.md)`",
      "```",
      "[neither](code.md)",
      "```",
      "[ref]: docs/architecture.md",
    ].join("\n");
    expect(linksIn(markdown)).toEqual(["emulator/README.md", "#npm-run-dev", "docs/architecture.md"]);
  });

  it.each(DOCS)("every relative link in %s resolves to a file in the repo (and heading)", (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  it("the README links the emulator's contract", () => {
    const links = linksIn(readFileSync(join(root, "README.md"), "utf8"));
    expect(links).toContain("emulator/README.md");
  });
});
