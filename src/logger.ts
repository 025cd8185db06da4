import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * Keys whose values are secrets wherever they appear (one or two levels deep, and in HTTP
 * header bags). pino replaces them before serialising.
 */
const SECRET_KEYS = [
  "token",
  "botToken",
  "appToken",
  "accessToken",
  "publicAccessToken",
  "apiKey",
  "api_key",
  "signingSecret",
  "signing_secret",
  "authorization",
  "Authorization",
  "password",
  "secret",
  "client_secret",
];

const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
  "headers.authorization",
  "*.headers.authorization",
  'headers["x-slack-signature"]',
  '*.headers["x-slack-signature"]',
];

/**
 * Shapes of secrets we might meet without knowing their value: Slack tokens, Puffle keys,
 * Trigger.dev personal tokens, JWT-like public access tokens and bearer headers.
 */
const SECRET_PATTERNS = [
  /xox[abeposr]-[A-Za-z0-9-]{6,}/g,
  /xapp-[A-Za-z0-9-]{6,}/g,
  /pk_(?:live|test)_[A-Za-z0-9_]{6,}/g,
  /tr_(?:pat|dev|prod|stg)_[A-Za-z0-9_]{6,}/g,
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /Bearer\s+[A-Za-z0-9._~+/=-]{8,}/g,
];

const REDACTED = "[redacted]";

export interface LoggerOptions {
  level: string;
  /** Exact secret values (from config) that must never reach the output, wherever they appear. */
  secrets?: readonly (string | undefined)[];
  /** Where lines go; stdout by default. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Bindings added to every line. */
  base?: Record<string, unknown>;
}

function escapeRegExp(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Returns a function that scrubs secrets out of a serialised log line. */
export function createSecretScrubber(secrets: readonly (string | undefined)[] = []) {
  const known = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  // A secret may appear JSON-escaped in the line, so look for both spellings.
  const spellings = [...new Set(known.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
  const knownPattern = spellings.length
    ? new RegExp(
        spellings
          .sort((a, b) => b.length - a.length)
          .map(escapeRegExp)
          .join("|"),
        "g",
      )
    : undefined;
  return (line: string): string => {
    let out = knownPattern ? line.replace(knownPattern, REDACTED) : line;
    for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, REDACTED);
    return out;
  };
}

/** What the default destination (pino's asynchronous stdout writer) can do besides write. */
interface Flushable {
  flushSync?: () => void;
  flush?: (callback?: (error?: Error) => void) => void;
}

const SYNC_FLUSH = Symbol("flushLogsSync");

export function createLogger(options: LoggerOptions): Logger {
  const scrub = createSecretScrubber(options.secrets);
  const target = options.destination ?? pino.destination({ dest: 1, sync: false });
  const flushable = target as Flushable;
  const scrubbing: DestinationStream & Flushable = {
    write(line: string) {
      target.write(scrub(line));
    },
    // Lines are written asynchronously; pino's logger.flush() and exits reach the real writer here.
    flush(callback) {
      if (flushable.flush) flushable.flush(callback);
      else callback?.();
    },
  };
  const logger = pino(
    {
      level: options.level,
      base: options.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: pino.stdSerializers.err },
    },
    scrubbing,
  );
  Object.defineProperty(logger, SYNC_FLUSH, { value: () => flushable.flushSync?.() });
  return logger;
}

/**
 * Writes every waiting line before the process ends: a fatal error or a signal must not lose the
 * last lines, which are the ones that say what happened.
 */
export function flushLogsSync(logger: Logger): void {
  const flush = (logger as unknown as Record<symbol, (() => void) | undefined>)[SYNC_FLUSH];
  try {
    flush?.();
  } catch {
    // stdout closed (the reader went away): nothing more can be written anyway.
  }
}

/** Ends the process after writing every waiting log line. */
export function exitAfterLogs(logger: Logger, code: number): never {
  flushLogsSync(logger);
  process.exit(code);
}

/** A logger that drops everything: for tests and tools that do not care about logs. */
export function createSilentLogger(): Logger {
  return pino({ level: "silent" });
}
