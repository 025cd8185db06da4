import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ReplicaMessage, StartMessage } from "./dev-replica.ts";

/**
 * The replicas of `npm run dev`, each a process of its own (scripts/dev-replica.ts), with its logs on
 * this terminal. Separate processes rather than several bots in one: a replica can then be killed by
 * hand (its pid is printed), and it dies the way a real one does, leases, sockets and all.
 */
export interface Replica {
  name: string;
  pid: number;
  /** The HTTP port it listens on (Slack's requests in HTTP mode; health checks and metrics in both). */
  port: number;
  child: ChildProcess;
  exited: Promise<string>;
}

const REPLICA_SCRIPT = fileURLToPath(new URL("./dev-replica.ts", import.meta.url));

/** Starts `count` replicas at once; when one cannot start, the others are stopped and the error thrown. */
export async function startReplicas(options: {
  count: number;
  env: Record<string, string | undefined>;
  /** Port of each replica, by index from 0. */
  portOf: (index: number) => number;
}): Promise<Replica[]> {
  const starting = Array.from({ length: options.count }, (_, index) =>
    startReplica(`r${index + 1}`, { ...options.env, PORT: String(options.portOf(index)) }),
  );
  const settled = await Promise.allSettled(starting.map((s) => s.ready));
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) {
    await Promise.all(starting.map((s) => stopChild(s.child, s.exited)));
    throw failed.reason;
  }
  return settled.map((result) => (result as PromiseFulfilledResult<Replica>).value);
}

function startReplica(name: string, env: Record<string, string | undefined>) {
  const child = fork(REPLICA_SCRIPT, [], {
    // TypeScript as it is, like `tsx`, without tsx's own signal relay in between: a kill reaches the bot.
    execArgv: ["--import", import.meta.resolve("tsx")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? `exit code ${code}`)),
  );
  const ready = new Promise<Replica>((resolve, reject) => {
    child.on("message", (message: ReplicaMessage) => {
      if (message.kind === "ready") resolve({ name, pid: child.pid ?? 0, port: message.port, child, exited });
      else reject(new Error(`replica ${name} could not start: ${message.message}`));
    });
    void exited.then((how) => reject(new Error(`replica ${name} exited before it was ready (${how})`)));
  });
  const start: StartMessage = { kind: "start", name, env };
  child.send(start);
  return { child, exited, ready };
}

/** SIGTERM (each hands its threads over), then SIGKILL for one that does not stop within 20 s. */
export async function stopReplicas(replicas: readonly Replica[]): Promise<void> {
  await Promise.all(replicas.map((replica) => stopChild(replica.child, replica.exited)));
}

async function stopChild(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const deadline = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(deadline);
}
