import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEV_VARIABLES, DevOptionsError, parseDevOptions } from "../../scripts/dev-options.ts";

const PG = "postgres://dev:secret@127.0.0.1:5432/puffle_dev";

describe("npm run dev options", () => {
  it("defaults: one replica, the emulator on 4010 with 4 to 8 s turns, its own SQLite file", () => {
    expect(parseDevOptions([], {})).toEqual({
      replicas: 1,
      emulatorPort: 4010,
      taskDelayMs: 4000,
      taskJitterMs: 4000,
      databaseUrl: "sqlite:./data/dev.db",
    });
  });

  it("reads --replicas and the dev variables", () => {
    const env = {
      EMULATOR_PORT: "0",
      EMULATOR_TASK_DELAY_MS: "250",
      EMULATOR_TASK_JITTER_MS: "",
      DEV_DATABASE_URL: PG,
    };
    expect(parseDevOptions(["--replicas", "3"], env)).toEqual({
      replicas: 3,
      emulatorPort: 0,
      taskDelayMs: 250,
      taskJitterMs: 4000,
      databaseUrl: PG,
    });
    expect(parseDevOptions(["--replicas=2"], { DEV_DATABASE_URL: "postgresql://h/db" }).replicas).toBe(2);
  });

  it("refuses several replicas without PostgreSQL, and says how to get it", () => {
    for (const env of [
      {},
      { DEV_DATABASE_URL: "sqlite:./data/dev.db" },
      { DEV_DATABASE_URL: "sqlite::memory:" },
    ]) {
      expect(() => parseDevOptions(["--replicas", "2"], env)).toThrow(
        /--replicas 2 needs PostgreSQL: SQLite serves one process.*DEV_DATABASE_URL=postgres:\/\//,
      );
    }
  });

  it("names a bad flag or value", () => {
    const problem = (argv: string[], env: Record<string, string> = {}) => {
      try {
        parseDevOptions(argv, env);
      } catch (error) {
        if (error instanceof DevOptionsError) return error.message;
        throw error;
      }
      return "no problem";
    };
    expect(problem(["--replicas", "0"])).toMatch(/^--replicas must be a whole number from 1 to 16, got "0"/);
    expect(problem(["--replicas", "two"])).toMatch(/^--replicas must be a whole number/);
    expect(problem(["--replica", "2"])).toMatch(/Unknown option '--replica'.*Usage: npm run dev/);
    expect(problem([], { EMULATOR_PORT: "http" })).toMatch(
      /^EMULATOR_PORT must be a whole number from 0 to 65535/,
    );
  });

  it("every dev variable is described in .env.example, commented out", () => {
    const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    for (const name of DEV_VARIABLES) expect(example).toMatch(new RegExp(`^# ${name}=`, "m"));
  });
});
