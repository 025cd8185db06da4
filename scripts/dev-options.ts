import { parseArgs } from "node:util";

/**
 * What `npm run dev` is asked to do: its flags and the dev-only variables, read from the same place as
 * the bot's (the environment over .env). Every problem is a sentence for the person at the terminal.
 */

/** The variables only `npm run dev` (and the emulator) read; `.env.example` lists each, commented. */
export const DEV_VARIABLES = [
  "EMULATOR_PORT",
  "EMULATOR_TASK_DELAY_MS",
  "EMULATOR_TASK_JITTER_MS",
  "DEV_DATABASE_URL",
] as const;

export interface DevOptions {
  replicas: number;
  emulatorPort: number;
  taskDelayMs: number;
  taskJitterMs: number;
  /** The store of the dev run, kept apart from DATABASE_URL. */
  databaseUrl: string;
}

export const DEFAULT_DEV_DATABASE_URL = "sqlite:./data/dev.db";

export class DevOptionsError extends Error {
  override name = "DevOptionsError";
}

export function parseDevOptions(argv: string[], env: Record<string, string | undefined>): DevOptions {
  let values: { replicas?: string | undefined };
  try {
    ({ values } = parseArgs({ args: argv, options: { replicas: { type: "string" } }, strict: true }));
  } catch (error) {
    throw new DevOptionsError(`${(error as Error).message}. Usage: npm run dev [-- --replicas N]`);
  }
  const replicas = whole("--replicas", values.replicas, 1, 1, 16);
  const databaseUrl = env.DEV_DATABASE_URL?.trim() || DEFAULT_DEV_DATABASE_URL;
  if (replicas > 1 && !isPostgres(databaseUrl)) {
    throw new DevOptionsError(
      `--replicas ${replicas} needs PostgreSQL: SQLite serves one process, and DEV_DATABASE_URL is ` +
        `${env.DEV_DATABASE_URL?.trim() ? "a SQLite URL" : `not set (default ${DEFAULT_DEV_DATABASE_URL})`}. ` +
        "Set DEV_DATABASE_URL=postgres://user:password@host:5432/db in .env or the environment, " +
        "or run one replica (npm run dev).",
    );
  }
  return {
    replicas,
    emulatorPort: whole("EMULATOR_PORT", env.EMULATOR_PORT, 4010, 0, 65535),
    taskDelayMs: whole("EMULATOR_TASK_DELAY_MS", env.EMULATOR_TASK_DELAY_MS, 4000, 0, 600_000),
    taskJitterMs: whole("EMULATOR_TASK_JITTER_MS", env.EMULATOR_TASK_JITTER_MS, 4000, 0, 600_000),
    databaseUrl,
  };
}

export function isPostgres(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function whole(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < min || value > max)
    throw new DevOptionsError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}
