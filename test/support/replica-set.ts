import type { Emulator } from "../../emulator/server.ts";
import { type BotProcess, spawnBot } from "./bot-process.ts";
import type { FakeSlack } from "./fake-slack.ts";
import { type Front, startFront } from "./front.ts";
import { fakesEnv, SIGNING_SECRET } from "./harness.ts";
import { createSlackRequester, type SlackRequester } from "./slack-requests.ts";

/**
 * Several bot processes on one database behind a round-robin front, the way a team runs replicas:
 * Slack's requests reach any of them. Replicas can be killed (SIGKILL), stopped (SIGTERM) and
 * started again; the front follows.
 */
export interface ReplicaSet {
  front: Front;
  requester: SlackRequester;
  /** The replicas running now (a killed one is replaced by the next start). */
  readonly replicas: readonly BotProcess[];
  /** A requester straight to one replica (bypassing the front). */
  direct(index: number): Promise<SlackRequester>;
  /** Stops replica `index` with `signal`; it leaves the front. */
  stop(index: number, signal: NodeJS.Signals): Promise<void>;
  /** Starts a new replica in slot `index` (after a stop) and waits until it is ready. */
  startAt(index: number): Promise<BotProcess>;
  /** Every log line of every replica that ran, in order of arrival per replica. */
  lines(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startReplicaSet(options: {
  slack: FakeSlack;
  emulator: Emulator;
  databaseUrl: string;
  count: number;
  env?: Record<string, string>;
}): Promise<ReplicaSet> {
  const env = {
    ...fakesEnv(options.slack, options.emulator),
    DATABASE_URL: options.databaseUrl,
    POLL_INTERVAL_MS: "100",
    TURN_TIMEOUT_MS: "20000",
    LEASE_TTL_MS: "3000",
    LOG_LEVEL: "info",
    ...options.env,
  };
  const slots: (BotProcess | undefined)[] = [];
  const everyone: BotProcess[] = [];
  const front = await startFront();
  const ports = new Map<BotProcess, number>();
  const refreshFront = () =>
    front.setBackends(slots.flatMap((bot) => (bot && ports.has(bot) ? [ports.get(bot) ?? 0] : [])));

  async function launch(index: number): Promise<BotProcess> {
    const bot = spawnBot(env);
    everyone.push(bot);
    slots[index] = bot;
    ports.set(bot, await bot.ready);
    refreshFront();
    return bot;
  }
  await Promise.all(Array.from({ length: options.count }, (_, index) => launch(index)));

  const requesterFor = (baseUrl: string) =>
    createSlackRequester({
      baseUrl,
      signingSecret: SIGNING_SECRET,
      teamId: options.slack.teamId,
      botUserId: options.slack.botUserId,
      responseUrl: (context) => options.slack.responseUrl(context),
    });

  return {
    front,
    requester: requesterFor(front.url),
    get replicas() {
      return slots.filter((bot): bot is BotProcess => bot !== undefined);
    },
    async direct(index) {
      const bot = slots[index];
      if (!bot) throw new Error(`no replica in slot ${index}`);
      return requesterFor(`http://127.0.0.1:${await bot.ready}`);
    },
    async stop(index, signal) {
      const bot = slots[index];
      if (!bot) return;
      ports.delete(bot);
      refreshFront();
      slots[index] = undefined;
      await bot.kill(signal);
    },
    startAt: launch,
    lines: () => everyone.flatMap((bot) => bot.lines()),
    async close() {
      await Promise.all(slots.map((bot) => bot?.kill("SIGTERM")));
      await front.close();
    },
  };
}
