import { startBot } from "../src/bot.ts";
import { parseConfig } from "../src/config.ts";
import { createLogger, exitAfterLogs } from "../src/logger.ts";
import { devLogDestination } from "./dev-logging.ts";

/**
 * One bot replica of `npm run dev`, a process of its own (forked by dev.ts) so that it can be killed by
 * hand to watch another take its threads over. dev.ts sends the environment it prepared (Slack from .env,
 * Puffle pointing at the emulator) over the IPC channel; the replica answers with its port once ready.
 */

export interface StartMessage {
  kind: "start";
  /** "r1", "r2"...: in every log line, with the pid. */
  name: string;
  env: Record<string, string | undefined>;
}

export type ReplicaMessage = { kind: "ready"; port: number } | { kind: "failed"; message: string };

const send = (message: ReplicaMessage) => process.send?.(message);

async function run({ name, env }: StartMessage) {
  const config = parseConfig(env);
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.slack.botToken, config.slack.appToken, config.slack.signingSecret, config.puffle.apiKey],
    destination: devLogDestination(),
  });
  // Unique per process (its leases name it), readable in the logs, and with the pid dev printed.
  const replicaId = `${name}:${process.pid}`;
  const log = logger.child({ replica: replicaId });
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot(config, { logger, replicaId });
  } catch (error) {
    log.fatal({ err: (error as Error).message }, "bot.start_failed");
    send({ kind: "failed", message: (error as Error).message });
    exitAfterLogs(log, 1);
  }
  log.info({ port: bot.port, mode: config.slack.mode }, "bot.ready");
  send({ kind: "ready", port: bot.port });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, "bot.stopping");
    await bot.stop();
    exitAfterLogs(log, 0);
  };
  // Ctrl+C in a terminal reaches every process of the group; dev.ts also sends SIGTERM.
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // dev.ts went away without a word (killed): no replica is left running on its own.
  process.on("disconnect", () => void stop("npm run dev exited"));
  if (!process.connected) void stop("npm run dev exited");
}

process.once("message", (message: StartMessage) => {
  run(message).catch((error: unknown) => {
    send({ kind: "failed", message: (error as Error).message });
    process.exit(1);
  });
});
