import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DoctorCheck, type DoctorReport, formatReport, runDoctor } from "../../src/doctor/index.ts";
import { createSqliteStore } from "../../src/store/sqlite/store.ts";

// The Store check on its own: OAuth installs with no shared Puffle key and realtime off, so the other
// checks skip or pass without any network.
const PASSWORD = "db-pass-5e0c9d71";
const base = {
  SLACK_CLIENT_ID: "1234567890.1234567890",
  SLACK_CLIENT_SECRET: "doctor-store-client-secret",
  SLACK_STATE_SECRET: "doctor-store-state-secret",
  ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
  SLACK_SIGNING_SECRET: "doctor-store-signing-secret",
  PORT: "0",
  TRIGGER_API_URL: "off",
};

async function storeCheck(databaseUrl: string): Promise<{ report: DoctorReport; store: DoctorCheck }> {
  const report = await runDoctor({ ...base, DATABASE_URL: databaseUrl }, { timeoutMs: 2000 });
  const printed = `${JSON.stringify(report)}\n${formatReport(report)}`;
  expect(printed).not.toContain(PASSWORD);
  expect(printed).not.toContain(databaseUrl.startsWith("postgres") ? databaseUrl : "\u0000");
  const store = report.checks.find((c) => c.name === "Store");
  if (!store) throw new Error("no Store check");
  return { report, store };
}

const tempDir = () => mkdtempSync(join(tmpdir(), "doctor-store-"));

describe("the Store check: SQLite", () => {
  it("passes for a file not made yet, in a folder not made yet: the bot creates both", async () => {
    const path = join(tempDir(), "data", "nested", "drafter.db");
    const { store } = await storeCheck(`sqlite:${path}`);
    expect(store).toMatchObject({ ok: true });
    expect(store.detail).toBe(
      `SQLite file ${path} (created on start): the folder is writable and no bot holds the file`,
    );
  });

  it("a file held by a running bot is a warning that names PostgreSQL for several, and the run still passes", async () => {
    const path = join(tempDir(), "drafter.db");
    const bot = createSqliteStore({ url: `sqlite:${path}`, exclusive: true });
    try {
      const { report, store } = await storeCheck(`sqlite:${path}`);
      expect(store).toMatchObject({ ok: false, warning: true });
      expect(store.detail).toContain(`SQLite file ${path} (exists) is in use by a running bot`);
      expect(store.fix).toContain("stop the running bot");
      expect(store.fix).toContain("PostgreSQL");
      expect(report.ok).toBe(true);
      expect(formatReport(report)).toMatch(
        /^! Store: SQLite file .* is in use by a running bot.*\(warning\)$/m,
      );
    } finally {
      await bot.close();
    }
    // Once that bot stopped, the file is free again; the probe itself left no lock behind.
    const after = await storeCheck(`sqlite:${path}`);
    expect(after.store).toMatchObject({ ok: true });
    expect(after.store.detail).toContain("(exists): the folder is writable and no bot holds the file");
    const again = createSqliteStore({ url: `sqlite:${path}`, exclusive: true });
    await again.close();
  });

  it("fails when the file's folder cannot exist (a file is in the way), with the fix", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "not-a-folder"), "x");
    const path = join(dir, "not-a-folder", "drafter.db");
    const { report, store } = await storeCheck(`sqlite:${path}`);
    expect(store).toMatchObject({ ok: false });
    expect(store.warning).toBeUndefined();
    expect(store.detail).toBe(
      `SQLite file ${path} cannot be created: ${join(dir, "not-a-folder")} is not a folder`,
    );
    expect(store.fix).toContain("set DATABASE_URL to sqlite:<path> in a folder this user can write");
    expect(report.ok).toBe(false);
  });

  it("says that an in-memory store keeps nothing", async () => {
    const { store } = await storeCheck("sqlite::memory:");
    expect(store).toMatchObject({ ok: true, detail: "SQLite in memory: nothing is kept across restarts" });
  });
});

describe("the Store check: PostgreSQL", () => {
  let postgres: FakePostgres;
  beforeAll(async () => {
    postgres = await startFakePostgres({ user: "drafter", password: PASSWORD, database: "drafter" });
  });
  afterAll(() => postgres?.close());

  const url = (options: { password?: string; database?: string; port?: number } = {}) =>
    `postgres://drafter:${options.password ?? PASSWORD}@127.0.0.1:${options.port ?? postgres.port}/${options.database ?? "drafter"}`;

  it("connects and runs SELECT 1, naming the host and database but never the password", async () => {
    const { report, store } = await storeCheck(url());
    expect(store).toMatchObject({
      ok: true,
      detail: `PostgreSQL 127.0.0.1:${postgres.port}, database drafter, user drafter: connected, SELECT 1 answered`,
    });
    expect(postgres.queries).toContain("SELECT 1");
    expect(report.ok).toBe(true);
    // The Config line names the store kind only.
    const config = report.checks[0];
    expect(config?.detail).toContain("store PostgreSQL (see Store)");
  });

  it("a refused password fails with the fix, and the password is not printed", async () => {
    const wrong = "wrong-pass-7d31aa";
    const { store } = await storeCheck(url({ password: wrong }));
    expect(store).toMatchObject({ ok: false });
    expect(store.detail).toBe(
      `PostgreSQL 127.0.0.1:${postgres.port}, database drafter, user drafter: the user name or password was refused`,
    );
    expect(store.fix).toContain("check the user and password in DATABASE_URL");
    expect(JSON.stringify(store)).not.toContain(wrong);
  });

  it("a database that does not exist fails with the fix", async () => {
    const { store } = await storeCheck(url({ database: "nope" }));
    expect(store.detail).toContain("database nope, user drafter: the database does not exist");
    expect(store.fix).toContain("createdb");
  });

  it("a server that is not there fails with the reach fix", async () => {
    const closed = await closedPort();
    const { report, store } = await storeCheck(url({ port: closed }));
    expect(store).toMatchObject({
      ok: false,
      detail: `cannot reach PostgreSQL 127.0.0.1:${closed}, database drafter, user drafter: ECONNREFUSED`,
    });
    expect(store.fix).toContain("check the host and port in DATABASE_URL");
    expect(report.ok).toBe(false);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

// ---- a PostgreSQL server speaking just enough of the wire protocol (v3) for a login and SELECT 1 ----

interface FakePostgres {
  port: number;
  /** Simple queries received, in order. */
  queries: string[];
  close(): Promise<void>;
}

async function startFakePostgres(account: { user: string; password: string; database: string }) {
  const queries: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let params: Record<string, string> | undefined;
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        // The startup message has no type byte; every later one has.
        const head = params ? 1 : 0;
        if (buffer.length < head + 4) return;
        const length = buffer.readInt32BE(head);
        if (buffer.length < head + length) return;
        const type = params ? String.fromCharCode(buffer[0] ?? 0) : "startup";
        const body = buffer.subarray(head + 4, head + length);
        buffer = buffer.subarray(head + length);
        if (type === "startup") {
          const fields = body.subarray(4).toString("utf8").split("\0");
          params = {};
          for (let i = 0; i + 1 < fields.length; i += 2)
            if (fields[i]) params[fields[i] ?? ""] = fields[i + 1] ?? "";
          socket.write(message("R", int32(3))); // AuthenticationCleartextPassword
        } else if (type === "p" && params) {
          const password = body.toString("utf8").replace(/\0$/, "");
          if (params.user !== account.user || password !== account.password) {
            fail(socket, "28P01", `password authentication failed for user "${params.user}"`);
          } else if ((params.database ?? params.user) !== account.database) {
            fail(socket, "3D000", `database "${params.database}" does not exist`);
          } else {
            socket.write(Buffer.concat([message("R", int32(0)), message("Z", Buffer.from("I"))]));
          }
        } else if (type === "Q") {
          queries.push(body.toString("utf8").replace(/\0$/, ""));
          const column = Buffer.concat([
            Buffer.from("?column?\0"),
            int32(0),
            int16(0),
            int32(23),
            int16(4),
            int32(-1),
            int16(0),
          ]);
          socket.write(
            Buffer.concat([
              message("T", Buffer.concat([int16(1), column])),
              message("D", Buffer.concat([int16(1), int32(1), Buffer.from("1")])),
              message("C", Buffer.from("SELECT 1\0")),
              message("Z", Buffer.from("I")),
            ]),
          );
        } else if (type === "X") {
          socket.end();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    queries,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  } satisfies FakePostgres;
}

function fail(socket: Socket, code: string, text: string) {
  const fields = ["SFATAL", "VFATAL", `C${code}`, `M${text}`].map((f) => `${f}\0`).join("");
  socket.end(message("E", Buffer.from(`${fields}\0`)));
}

function message(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
