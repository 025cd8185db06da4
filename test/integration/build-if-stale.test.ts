import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * `npm start` compiles only when the sources changed, and a failed build stops the start instead of
 * running an older build. Checked on a small project of its own with the real script and compiler.
 */
const root = new URL("../../", import.meta.url).pathname;
let project: string;

function write(path: string, text: string) {
  writeFileSync(join(project, path), text);
}

function npmStart() {
  const run = spawnSync("npm", ["start", "--silent"], { cwd: project, encoding: "utf8", env: process.env });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "build-if-stale-"));
  mkdirSync(join(project, "scripts"));
  mkdirSync(join(project, "src"));
  copyFileSync(join(root, "scripts/build-if-stale.mjs"), join(project, "scripts/build-if-stale.mjs"));
  symlinkSync(join(root, "node_modules"), join(project, "node_modules"));
  write(
    "package.json",
    JSON.stringify({
      type: "module",
      scripts: { prestart: "node scripts/build-if-stale.mjs", start: "node dist/src/main.js" },
    }),
  );
  write(
    "tsconfig.json",
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        types: [],
      },
      include: ["src"],
    }),
  );
  write(
    "tsconfig.build.json",
    JSON.stringify({
      extends: "./tsconfig.json",
      compilerOptions: { outDir: "dist", rootDir: "." },
      include: ["src"],
    }),
  );
  write("src/main.ts", 'const version: string = "one";\nconsole.log("running " + version);\n');
});

describe("npm start builds only when the sources changed", () => {
  it("compiles on the first start, not on the next ones, and again after an edit", () => {
    const first = npmStart();
    expect(first.code).toBe(0);
    expect(first.err).toContain("compiling");
    expect(first.out).toContain("running one");

    const second = npmStart();
    expect(second.code).toBe(0);
    expect(second.err).not.toContain("compiling");
    expect(second.out).toContain("running one");

    write("src/main.ts", 'const version: string = "two";\nconsole.log("running " + version);\n');
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(project, "src/main.ts"), later, later);
    const third = npmStart();
    expect(third.err).toContain("compiling");
    expect(third.out).toContain("running two");
  }, 60_000);

  it("a type error stops the start loudly; the older build does not run", () => {
    write("src/main.ts", 'const version: number = "three";\nconsole.log("running " + version);\n');
    const later = new Date(Date.now() + 10_000);
    utimesSync(join(project, "src/main.ts"), later, later);
    const broken = npmStart();
    expect(broken.code).not.toBe(0);
    expect(broken.err).toContain("FAILED");
    expect(broken.out).not.toContain("running");
  }, 60_000);
});
