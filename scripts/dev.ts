import { SEED } from "../emulator/seed.ts";
import { startEmulator } from "../emulator/server.ts";
import { startBot } from "../src/bot.ts";
import { ConfigError, parseConfig, readEnvironment } from "../src/config.ts";
import { createLogger, exitAfterLogs } from "../src/logger.ts";
import { devLogDestination } from "./dev-logging.ts";

/**
 * `npm run dev`: the bot and the Puffle emulator in one command, with readable logs, so the app
 * can be tried in a real Slack workspace before there is a Puffle key. Slack settings come from
 * .env as usual; every Puffle setting points at the emulator.
 */
async function main() {
  const port = Number(process.env.EMULATOR_PORT ?? 4010);
  const emulator = await startEmulator({
    port,
    taskDelayMs: 4000,
    taskJitterMs: 4000,
    realtimeHoldMs: 20_000,
  });
  const env = readEnvironment(".env");
  const merged = {
    ...env,
    PUFFLE_API_URL: emulator.url,
    PUFFLE_API_KEY: emulator.apiKey,
    TRIGGER_API_URL: emulator.url,
    PUFFLE_CAMPAIGN_ID: env.PUFFLE_CAMPAIGN_ID || SEED.draftCampaign.id,
    PUFFLE_NODE_ID: env.PUFFLE_NODE_ID || SEED.draftCampaign.emailNodeId,
    // A store of its own, so trying things out never mixes with a real deployment's data.
    DATABASE_URL: env.DEV_DATABASE_URL || "sqlite:./data/dev.db",
  };
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(merged);
  } catch (error) {
    await emulator.close();
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      `${error.message}\n\n` +
        "npm run dev needs a Slack app (Puffle is emulated). Create one from manifest.yml, then put in .env:\n" +
        "  SLACK_BOT_TOKEN=xoxb-...   (OAuth & Permissions)\n" +
        "  SLACK_APP_TOKEN=xapp-...   (Basic Information > App-Level Tokens, scope connections:write)\n" +
        "See README.md, 'Try it in Slack without a Puffle key'. No Slack app at all? `npm run demo`.\n",
    );
    process.exit(2);
  }
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.slack.botToken, config.slack.appToken, config.slack.signingSecret, config.puffle.apiKey],
    destination: devLogDestination(),
  });
  const bot = await startBot(config, { logger });
  const mode =
    config.slack.mode === "socket"
      ? "Socket Mode (no public URL needed)"
      : `HTTP on port ${bot.port}: point the Request URLs at https://<your tunnel>/slack/events`;
  process.stdout.write(
    `\nPuffle Drafter is running in ${mode}.\n` +
      `Puffle emulator: ${emulator.url} (turns take 4 to 8 s; campaign "${SEED.draftCampaign.name}").\n` +
      "In Slack: invite the bot to a channel, then mention it with a brief, or type /draft.\n" +
      "Stop with Ctrl+C.\n\n",
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await bot.stop();
    await emulator.close();
    logger.info("dev.stopped");
    exitAfterLogs(logger, 0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`npm run dev could not start: ${(error as Error).message}\n`);
  process.exit(1);
});
