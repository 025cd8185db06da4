#!/usr/bin/env node
// Compiles to dist/ only when the sources changed since the last successful build (runs at install and
// before `npm start`), so a restart does not wait for the compiler. A failed build stops the start: an
// older build never runs in its place.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../", import.meta.url).pathname;
const stamp = join(root, "dist", ".build-stamp");
const compiler = join(root, "node_modules", "typescript", "bin", "tsc");
const config = JSON.parse(readFileSync(join(root, "tsconfig.build.json"), "utf8"));
const inputs = [...config.include, "tsconfig.json", "tsconfig.build.json", "package.json"];

function newest(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = info.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const force = process.argv.includes("--force");
const atInstall = process.argv.includes("--at-install");
const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changedAt = Math.max(...inputs.map((input) => newest(join(root, input))));
if (!force && builtAt >= changedAt) process.exit(0);

if (!existsSync(compiler)) {
  if (atInstall) {
    console.error("build: TypeScript is not installed (production install); skipping the build.");
    process.exit(0);
  }
  if (existsSync(join(root, "dist", "src", "main.js"))) {
    // An install without dev dependencies ships its build: there is nothing to compile with.
    console.error("build: TypeScript is not installed; running the build in dist/ as shipped.");
    process.exit(0);
  }
  console.error("build: dist/ is missing and TypeScript is not installed. Run `npm install` (with dev dependencies).");
  process.exit(1);
}

const started = Date.now();
console.error("build: sources changed since the last build; compiling to dist/ ...");
const result = spawnSync(process.execPath, [compiler, "-p", join(root, "tsconfig.build.json")], {
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error("\nbuild: FAILED. Fix the errors above; the bot was not started (an older build would not match the sources).");
  process.exit(1);
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.error(`build: done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
