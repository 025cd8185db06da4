import pinoPretty from "pino-pretty";

/**
 * Readable log lines for `npm run dev`. Written synchronously: a terminal keeps up easily, and the
 * lines written just before Ctrl+C or a crash are the ones that say what happened. With replicas, each
 * line starts with the replica's name and pid (its `replica` field), so the lines of r1 and r2 can be
 * told apart in one terminal.
 */
export function devLogDestination() {
  return pinoPretty({
    colorize: true,
    translateTime: "HH:MM:ss.l",
    ignore: "pid,hostname,replica",
    messageFormat: "{if replica}[{replica}] {end}{msg}",
    sync: true,
  });
}
