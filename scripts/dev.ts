import { SEED } from "../emulator/seed.ts";
import { startEmulator } from "../emulator/server.ts";
import { type Config, ConfigError, parseConfig, readEnvironment } from "../src/config.ts";
import { displayUrl } from "../src/doctor/words.ts";
import { type DevFront, startDevFront } from "./dev-front.ts";
import { DevOptionsError, isPostgres, parseDevOptions } from "./dev-options.ts";
import { type Replica, startReplicas, stopReplicas } from "./dev-replicas.ts";

/**
 * `npm run dev [-- --replicas N]`: the bot and the Puffle emulator in one command, with readable logs,
 * so the app can be tried in a real Slack workspace before there is a Puffle key. Slack settings come
 * from .env as usual; every Puffle setting points at the emulator. With N replicas (PostgreSQL only),
 * N bot processes share the store and the emulator, so leases and takeovers can be watched by hand.
 */
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  const env = readEnvironment(".env");
  let options: ReturnType<typeof parseDevOptions>;
  try {
    options = parseDevOptions(process.argv.slice(2), env);
  } catch (error) {
    if (!(error instanceof DevOptionsError)) throw error;
    process.stderr.write(`npm run dev: ${error.message}\n`);
    process.exit(2);
  }
  const { replicas: count } = options;

  const where = options.emulatorPort === 0 ? "a free port" : `http://127.0.0.1:${options.emulatorPort}`;
  say(`Starting the Puffle emulator on ${where} ...`);
  const emulator = await startEmulator({
    port: options.emulatorPort,
    taskDelayMs: options.taskDelayMs,
    taskJitterMs: options.taskJitterMs,
    realtimeHoldMs: 20_000,
  });
  const merged = {
    ...env,
    PUFFLE_API_URL: emulator.url,
    PUFFLE_API_KEY: emulator.apiKey,
    TRIGGER_API_URL: emulator.url,
    PUFFLE_CAMPAIGN_ID: env.PUFFLE_CAMPAIGN_ID || SEED.draftCampaign.id,
    PUFFLE_NODE_ID: env.PUFFLE_NODE_ID || SEED.draftCampaign.emailNodeId,
    // A store of its own, so trying things out never mixes with a real deployment's data.
    DATABASE_URL: options.databaseUrl,
  };
  let config: Config;
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
        "See README.md, 'Getting started'. No Slack app at all? `npm run demo`.\n",
    );
    process.exit(2);
  }
  const seconds = (ms: number) => Math.round(ms / 100) / 10;
  say(
    `Puffle emulator: ${emulator.url} (key ${emulator.apiKey}; turns take ${seconds(options.taskDelayMs)} to ` +
      `${seconds(options.taskDelayMs + options.taskJitterMs)} s; campaign "${SEED.draftCampaign.name}")`,
  );
  say(`Store: ${describeStore(config.databaseUrl)}`);
  const slackHost = displayUrl(config.slack.apiUrl);
  const replicasWord = count > 1 ? `${count} replicas` : "the bot";
  say(
    config.slack.mode === "socket"
      ? `Connecting ${replicasWord} to Slack at ${slackHost} in Socket Mode` +
          `${count > 1 ? " (a connection each; Slack spreads events over them)" : ""} ...`
      : `Starting ${replicasWord} for Slack at ${slackHost} in HTTP mode ...`,
  );

  // One replica listens on PORT itself; with several, replica rN takes PORT+N (and, in HTTP mode, a
  // round-robin front takes PORT). PORT=0: any free ports.
  const portOf = (index: number) =>
    count === 1 || config.port === 0 ? config.port : config.port + index + 1;
  let replicas: Replica[];
  try {
    replicas = await startReplicas({ count, env: merged, portOf });
  } catch (error) {
    await emulator.close();
    process.stderr.write(`npm run dev could not start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const running = new Set(replicas);
  let front: DevFront | undefined;
  if (config.slack.mode === "http" && count > 1) {
    front = await startDevFront({ port: config.port, backends: () => [...running] });
  }

  const port = front?.port ?? replicas[0]?.port;
  const mode =
    config.slack.mode === "socket"
      ? "Socket Mode (no public URL needed)"
      : `HTTP on port ${port}: point the Request URLs at https://<your tunnel>/slack/events`;
  say(`\nPuffle Drafter is running in ${mode}.`);
  if (count > 1) {
    if (front) say(`A round-robin front on port ${front.port} sends each request to the next replica.`);
    for (const r of replicas) say(`  ${r.name}  pid ${r.pid}  port ${r.port}`);
    say(
      `Watch a takeover: kill -9 ${replicas[0]?.pid} (its threads move within LEASE_TTL_MS, default 15 s); ` +
        `kill ${replicas[0]?.pid} hands them over at once.`,
    );
  }
  say(
    "In Slack: invite the bot to a channel, then mention it with a brief, or type /draft.\nStop with Ctrl+C.\n",
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stopReplicas([...running]);
    await front?.close();
    await emulator.close();
    say("npm run dev stopped.");
    process.exit(code);
  };
  for (const replica of replicas) {
    void replica.exited.then((how) => {
      running.delete(replica);
      if (stopping) return;
      const left = [...running].map((r) => r.name);
      say(
        `Replica ${replica.name} (pid ${replica.pid}) exited (${how}). ` +
          (left.length ? `Still running: ${left.join(", ")}.` : "No replica left: stopping."),
      );
      if (left.length === 0) void stop(1);
    });
  }
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
}

/** The store for people: a SQLite path, or PostgreSQL's host and database without the password. */
function describeStore(url: string): string {
  if (!isPostgres(url)) return `SQLite ${url.slice("sqlite:".length)}`;
  try {
    const parsed = new URL(url);
    return `PostgreSQL ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`npm run dev could not start: ${(error as Error).message}\n`);
  process.exit(1);
});
