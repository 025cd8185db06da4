import { startBot } from "./bot.ts";
import { ConfigError, parseConfig, readEnvironment } from "./config.ts";
import { createLogger, exitAfterLogs } from "./logger.ts";
import { createStartRetry, DOCTOR_HINT, StartFailedError, startRetryLimitFrom } from "./ops/start-retry.ts";
import { configSecrets, startupFields } from "./ops/startup.ts";
import { storeKindOf } from "./store/index.ts";

/** `npm start`: read the config, start the bot, stop cleanly on SIGTERM/SIGINT. */
async function main() {
  const env = readEnvironment();
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `${error.message}\n\nSet these in the environment or in .env (see .env.example). ` +
          "No Puffle key yet? `npm run dev` runs the bot against a local Puffle emulator.\n",
      );
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) });
  // Said before anything is reached, so a start that hangs or fails has already told where it was going.
  logger.info(startupFields(config), "bot.starting");
  // The last lines before a crash say what happened: write them before the process ends.
  process.on("uncaughtException", (error) => {
    logger.fatal({ err: error.stack ?? error.message }, "process.uncaught_exception");
    exitAfterLogs(logger, 1);
  });
  process.on("unhandledRejection", (reason) => {
    logger.fatal(
      { err: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) },
      "process.unhandled_rejection",
    );
    exitAfterLogs(logger, 1);
  });
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot(config, {
      logger,
      retryAtStart: createStartRetry({ logger, limitMs: startRetryLimitFrom(env) }),
    });
  } catch (error) {
    // What failed (and where, when it was out of reach), then where to look next.
    const where =
      error instanceof StartFailedError
        ? { target: error.target, host: error.host, reason: error.reason, try: error.tries }
        : {};
    logger.fatal(
      { err: error instanceof Error ? error.message : String(error), ...where, help: DOCTOR_HINT },
      "bot.start_failed",
    );
    // Whatever opened before the failure (a socket, a timer) must not keep a broken bot alive.
    exitAfterLogs(logger, 1);
  }
  logger.info(
    {
      mode: config.slack.mode,
      port: bot.port,
      realtime: Boolean(config.triggerApiUrl),
      store: storeKindOf(config.databaseUrl),
    },
    "bot.ready",
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "bot.stopping");
    // A stuck dependency must not keep the process from exiting.
    const deadline = setTimeout(() => {
      logger.error("bot.stop_timed_out");
      exitAfterLogs(logger, 1);
    }, 15_000);
    deadline.unref();
    await bot.stop();
    logger.info("bot.stopped");
    exitAfterLogs(logger, 0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

void main();
