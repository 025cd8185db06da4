import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Back in a second: `npm start` under a minimal supervisor that starts it again whenever it exits.
 * Each round SIGKILLs the whole process group (npm and the bot) and measures until `/readyz`
 * answers 200 again. Sources are unchanged, so no start compiles.
 */
export interface RestartResult {
  kills: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  samplesMs: number[];
}

export async function benchRestart(
  env: Record<string, string>,
  options: { kills: number; percentile: (values: number[], p: number) => number },
): Promise<RestartResult> {
  const port = await freePort();
  const fullEnv = {
    ...process.env,
    ...env,
    PORT: String(port),
    DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), "bench-restart-")), "restart.db")}`,
    LOG_LEVEL: "warn",
  };
  let child: ChildProcess | undefined;
  let supervising = true;
  const launch = () => {
    child = spawn("npm", ["start", "--silent"], { env: fullEnv, detached: true, stdio: "ignore" });
    child.once("exit", () => {
      if (supervising) launch();
    });
  };
  launch();
  await readyAgain(port, 60_000);
  const samples: number[] = [];
  try {
    for (let round = 0; round < options.kills; round++) {
      const pid = child?.pid;
      if (!pid) throw new Error("bench: the supervised bot has no pid");
      const killedAt = performance.now();
      process.kill(-pid, "SIGKILL");
      await notReady(port, 5_000);
      await readyAgain(port, 30_000);
      samples.push(performance.now() - killedAt);
    }
  } finally {
    supervising = false;
    if (child?.pid) process.kill(-child.pid, "SIGKILL");
  }
  return {
    kills: samples.length,
    p50Ms: Math.round(options.percentile(samples, 50)),
    p95Ms: Math.round(options.percentile(samples, 95)),
    maxMs: Math.round(Math.max(...samples)),
    samplesMs: samples.map(Math.round),
  };
}

async function ready(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(500) });
    return response.status === 200;
  } catch {
    return false;
  }
}

async function readyAgain(port: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (!(await ready(port))) {
    if (performance.now() > deadline) throw new Error("bench: the bot did not become ready");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function notReady(port: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (await ready(port)) {
    if (performance.now() > deadline) throw new Error("bench: the killed bot still answers");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
