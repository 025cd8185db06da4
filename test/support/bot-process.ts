import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * The bot as its own process (`src/main.ts`, what `npm start` runs once compiled), for tests that
 * kill it: SIGKILL at the worst moment, SIGTERM for a graceful stop. Loaded with tsx in-process, so a
 * signal reaches the bot itself and not a wrapper.
 */
export interface BotProcess {
  child: ChildProcess;
  /** The HTTP port, once the bot logged `bot.ready`. */
  ready: Promise<number>;
  exited: Promise<number | null>;
  /** Every JSON log line so far. */
  lines(): Record<string, unknown>[];
  stderr(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

const root = new URL("../../", import.meta.url).pathname;

/**
 * Node's arguments to run a TypeScript file of the repo directly, through tsx's loader rather than its
 * command-line wrapper: a signal sent to the child then reaches the script itself, as it would in
 * production (the wrapper relays signals and may kill a script that takes a moment to answer one).
 */
export function typescriptArgs(script: string, ...args: string[]): string[] {
  const loader = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;
  return ["--import", loader, join(root, script), ...args];
}

export function spawnBot(env: Record<string, string>, options: { cwd?: string } = {}): BotProcess {
  const child = spawn(process.execPath, typescriptArgs("src/main.ts"), {
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), "bot-")),
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const parsed: Record<string, unknown>[] = [];
  let partial = "";
  let errors = "";
  let onReady: (port: number) => void = () => {};
  let onFail: (error: Error) => void = () => {};
  const ready = new Promise<number>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  ready.catch(() => {});
  child.stdout?.on("data", (chunk) => {
    partial += String(chunk);
    const complete = partial.split("\n");
    partial = complete.pop() ?? "";
    for (const line of complete) {
      if (!line.trim()) continue;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        parsed.push(record);
        if (record.msg === "bot.ready") onReady(Number(record.port));
      } catch {
        errors += `${line}\n`;
      }
    }
  });
  child.stderr?.on("data", (chunk) => {
    errors += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      onFail(new Error(`the bot exited (${code ?? signal}) before it was ready:\n${errors}`));
      resolve(code);
    }),
  );
  return {
    child,
    ready,
    exited,
    lines: () => parsed,
    stderr: () => errors,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
