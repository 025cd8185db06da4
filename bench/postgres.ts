import { spawn } from "node:child_process";
import pg from "pg";

/**
 * The PostgreSQL server the replicas, takeover and pg-lookup sections use: BENCH_POSTGRES_URL or
 * TEST_POSTGRES_URL when set, else an embedded one (test/support/postgres-embedded.ts, the tests' own,
 * run from its compiled copy). Each section makes a database of its own and drops it afterwards.
 */
export interface BenchPostgres {
  /** A URL of a database to create other databases from (it may hold a password: never print it). */
  adminUrl: string;
  source: "BENCH_POSTGRES_URL" | "TEST_POSTGRES_URL" | "embedded";
  stop(): Promise<void>;
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function startBenchPostgres(env = process.env): Promise<BenchPostgres> {
  for (const source of ["BENCH_POSTGRES_URL", "TEST_POSTGRES_URL"] as const) {
    const url = env[source];
    if (url) {
      await withClient(url, (client) => client.query("SELECT 1")).catch((error: unknown) => {
        throw new Error(`${source} is set, but no PostgreSQL answers there: ${(error as Error).message}`);
      });
      return { adminUrl: url, source, stop: async () => {} };
    }
  }
  return startEmbedded();
}

export async function freshDatabase(server: BenchPostgres, label: string): Promise<BenchDatabase> {
  const name = `puffle_bench_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await withClient(server.adminUrl, (client) =>
    client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`),
  );
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      // FORCE ends the connections of a replica that was killed and never closed its pool.
      await withClient(server.adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
      );
    },
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The tests' embedded server script: it prints `{"adminUrl"}` and stops when its stdin closes. */
async function startEmbedded(): Promise<BenchPostgres> {
  const compiled = import.meta.url.endsWith(".js");
  const script = new URL(
    compiled ? "../test/support/postgres-embedded.js" : "../test/support/postgres-embedded.ts",
    import.meta.url,
  ).pathname;
  const child = spawn(process.execPath, [...(compiled ? [] : ["--import", "tsx"]), script], {
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
  let answer: { adminUrl?: string; error?: string };
  try {
    answer = JSON.parse(firstLine) as typeof answer;
  } catch {
    answer = { error: firstLine || "it exited without a word" };
  }
  if (!answer.adminUrl) {
    child.kill();
    throw new Error(`bench: could not start an embedded PostgreSQL: ${answer.error}`);
  }
  return {
    adminUrl: answer.adminUrl,
    source: "embedded",
    async stop() {
      child.stdin.end();
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * What one durable commit costs on the server (a one-row INSERT, its own transaction): every recorded
 * message waits for at least one, so it bounds the ack from below. In ms.
 */
export async function commitLatency(url: string, commits = 300): Promise<{ p50Ms: number; p99Ms: number }> {
  return withClient(url, async (client) => {
    await client.query("CREATE TABLE bench_commit_probe (n int)");
    const timings: number[] = [];
    for (let n = 0; n < commits; n++) {
      const started = performance.now();
      await client.query("INSERT INTO bench_commit_probe VALUES ($1)", [n]);
      timings.push(performance.now() - started);
    }
    await client.query("DROP TABLE bench_commit_probe");
    timings.sort((a, b) => a - b);
    const at = (p: number) =>
      Math.round((timings[Math.ceil(p * timings.length) - 1] ?? Number.NaN) * 100) / 100;
    return { p50Ms: at(0.5), p99Ms: at(0.99) };
  });
}
