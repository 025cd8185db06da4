import pinoPretty from "pino-pretty";

/**
 * Readable log lines for `npm run dev`. Written synchronously: a terminal keeps up easily, and the
 * lines written just before Ctrl+C or a crash are the ones that say what happened.
 */
export function devLogDestination() {
  return pinoPretty({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname", sync: true });
}
