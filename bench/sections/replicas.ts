import type { Emulator } from "../../emulator/server.ts";
import type { FakeSlack } from "../../test/support/fake-slack.ts";
import { startFront } from "../../test/support/front.ts";
import { messageEvent, type SlackRequester } from "../../test/support/slack-requests.ts";
import {
  type BotChild,
  botEnv,
  mention,
  percentile,
  quick,
  reply,
  requesterAt,
  round,
  sleep,
  startBotChild,
  until,
} from "../common.ts";
import { resultLatencies, runConversations } from "../conversations.ts";
import { type BenchPostgres, commitLatency, freshDatabase } from "../postgres.ts";

/**
 * One SQLite process vs 2 replicas on one PostgreSQL database, in the same run under the same load,
 * both behind the same round-robin front (one backend, then two), with realtime on: events at 50/s
 * (the ack section's mix: new mentions, replies in busy threads, chatter) while threads of 4-turn
 * conversations measure task finished -> result in Slack.
 */
export async function benchReplicas(slack: FakeSlack, emulator: Emulator, postgres: BenchPostgres) {
  const sqlite = await underLoad(slack, emulator, "sqlite", async () => [
    await startBotChild(botEnv(slack, emulator)),
  ]);
  const database = await freshDatabase(postgres, "replicas");
  try {
    const replicated = await underLoad(slack, emulator, "postgres", async () => {
      const env = botEnv(slack, emulator, { DATABASE_URL: database.url });
      // One first, so the two do not race to migrate (they may: the migrations lock), then the second.
      const first = await startBotChild(env);
      return [first, await startBotChild(env)];
    });
    const commit = await commitLatency(database.url);
    return {
      postgresSource: postgres.source,
      /** One durable commit on that server, measured after the run: a floor under every PostgreSQL ack. */
      commitP50Ms: commit.p50Ms,
      commitP99Ms: commit.p99Ms,
      sqlite,
      postgres: replicated,
      cardRatio: round(replicated.cardP50Ms / sqlite.cardP50Ms, 2),
    };
  } finally {
    await database.drop();
  }
}

async function underLoad(
  slack: FakeSlack,
  emulator: Emulator,
  name: "sqlite" | "postgres",
  start: () => Promise<BotChild[]>,
) {
  emulator.reset();
  slack.resetCalls();
  const bots = await start();
  const front = await startFront(bots.map((bot) => bot.port));
  const requester = requesterAt(slack, front.url);
  try {
    const prefix = name === "sqlite" ? "C0RSQ" : "C0RPG";
    // Busy threads the replies of the event load go to.
    const busy: { channel: string; ts: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const channel = `${prefix}BUSY${i}`;
      busy.push({ channel, ts: (await mention(slack, requester, channel, `busy thread ${i}`)).ts });
    }
    await until(
      () => (emulator.stats().requests["sessions.turn"] ?? 0) >= 20 || undefined,
      60_000,
      "busy threads",
    );
    const [events, conversations] = await Promise.all([
      eventLoad(slack, requester, busy, prefix, quick ? 300 : 1000),
      runConversations({
        slack,
        emulator,
        requester,
        threads: quick ? 10 : 24,
        channelPrefix: `${prefix}CONV`,
      }),
    ]);
    const latency = resultLatencies(conversations.samples);
    return {
      processes: bots.length,
      events: events.latencies.length,
      achievedRate: events.achievedRate,
      statuses: events.statuses,
      ackP50Ms: round(percentile(events.latencies, 50), 2),
      ackP99Ms: round(percentile(events.latencies, 99), 2),
      ackMaxMs: round(Math.max(...events.latencies), 2),
      /** Which events wait: new drafts (a thread created), replies in busy threads (a turn queued), chatter. */
      ackP99ByKindMs: events.p99ByKind,
      turns: conversations.samples.length,
      cardP50Ms: round(percentile(latency.card, 50)),
      cardP95Ms: round(percentile(latency.card, 95)),
      firstAnswerP50Ms: round(percentile(latency.firstAnswer, 50)),
      servedByBackend: [...front.served.values()],
    };
  } finally {
    await Promise.all(bots.map((bot) => bot.stop()));
    await front.close();
  }
}

/** `total` events at 50/s: 10% new mentions, 20% replies in busy threads, 70% chatter nobody drafts. */
async function eventLoad(
  slack: FakeSlack,
  requester: SlackRequester,
  busy: { channel: string; ts: string }[],
  prefix: string,
  total: number,
) {
  const ratePerSecond = 50;
  const latencies: number[] = [];
  const byKind: Record<"mention" | "reply" | "chatter", number[]> = { mention: [], reply: [], chatter: [] };
  const statuses: Record<number, number> = {};
  const start = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    await sleep(Math.max(0, start + (i * 1000) / ratePerSecond - performance.now()));
    const thread = busy[i % busy.length] ?? { channel: `${prefix}BUSY0`, ts: "" };
    const kind = i % 10 === 0 ? "mention" : i % 10 < 3 ? "reply" : "chatter";
    const send =
      i % 10 === 0
        ? mention(slack, requester, `${prefix}NEW${i}`, `new brief ${i}`)
        : i % 10 < 3
          ? reply(slack, requester, thread.channel, thread.ts, `note ${i}`)
          : (async () => {
              const channel = `${prefix}CHATTER`;
              const message = slack.addHumanMessage({ channel, user: "U0OTHER", text: `chatter ${i}` });
              const t0 = performance.now();
              const response = await requester.event(
                messageEvent({ user: "U0OTHER", channel, text: message.text, ts: message.ts }),
              );
              return { ackMs: performance.now() - t0, status: response.status };
            })();
    sends.push(
      send.then((r) => {
        latencies.push(r.ackMs);
        byKind[kind].push(r.ackMs);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }),
    );
  }
  await Promise.all(sends);
  const p99ByKind = Object.fromEntries(
    Object.entries(byKind).map(([kind, values]) => [kind, round(percentile(values, 99), 2)]),
  );
  return {
    latencies,
    p99ByKind,
    statuses,
    achievedRate: round(total / ((performance.now() - start) / 1000)),
  };
}
