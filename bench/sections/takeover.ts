import pg from "pg";
import type { Emulator } from "../../emulator/server.ts";
import type { TaskEvent } from "../../emulator/tasks.ts";
import type { FakeSlack } from "../../test/support/fake-slack.ts";
import { startFront } from "../../test/support/front.ts";
import {
  type BotChild,
  botEnv,
  mention,
  metricSum,
  percentile,
  quick,
  requesterAt,
  scrapeMetrics,
  sleep,
  startBotChild,
  until,
  untilAsync,
} from "../common.ts";
import { type BenchPostgres, freshDatabase } from "../postgres.ts";

/**
 * Two replicas on PostgreSQL behind a round-robin front. Each round starts a few drafts whose Puffle
 * tasks run until the bench finishes them, finds in the database which replica holds each thread's
 * lease, waits a random part of a renewal period, SIGKILLs the replica driving the first thread and
 * finishes every task at that moment. For each thread the killed replica drove: kill -> its result
 * (the first answer) visible in Slack, shown by the other replica. Then a new replica takes the
 * killed one's place.
 */
const LEASE_TTL_MS = 15_000;
const POLL_INTERVAL_MS = 2_000;
/** Threads started per round (about half land on the replica that is killed). */
const THREADS_PER_ROUND = 4;
const ANSWER = "three quick questions";
const TAKEOVERS = "puffle_drafter_lease_takeovers_total";

export async function benchTakeover(slack: FakeSlack, emulator: Emulator, postgres: BenchPostgres) {
  const kills = quick ? 3 : 10;
  emulator.reset();
  slack.resetCalls();
  const database = await freshDatabase(postgres, "takeover");
  const env = botEnv(slack, emulator, {
    DATABASE_URL: database.url,
    LEASE_TTL_MS: String(LEASE_TTL_MS),
    POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
  });
  const replicas: BotChild[] = [await startBotChild(env)];
  replicas.push(await startBotChild(env));
  const front = await startFront(replicas.map((bot) => bot.port));
  const requester = requesterAt(slack, front.url);
  const db = new pg.Client({ connectionString: database.url });
  db.on("error", () => {});
  await db.connect();
  const startedTasks: TaskEvent[] = [];
  const onStarted = (event: TaskEvent) => startedTasks.push(event);
  emulator.events.on("task.started", onStarted);

  const samples: number[] = [];
  const unaffected: number[] = [];
  let shownTwice = 0;
  let takeovers = 0;
  try {
    for (let round = 0; round < kills; round++) {
      const before = startedTasks.length;
      emulator.faults.inject({ kind: "never_finish", times: THREADS_PER_ROUND });
      const threads: { channel: string; ts: string }[] = [];
      for (let k = 0; k < THREADS_PER_ROUND; k++) {
        const channel = `C0TKO${round}X${k}`;
        threads.push({
          channel,
          ts: (await mention(slack, requester, channel, `takeover brief ${round}.${k}`)).ts,
        });
      }
      await until(
        () => startedTasks.length - before >= THREADS_PER_ROUND || undefined,
        60_000,
        `round ${round}: tasks started`,
      );
      const sessions = startedTasks.slice(before).map((event) => event.sessionId);
      await untilAsync(
        async () => (await ownersNow(db, threads)).every((owner) => owner !== null),
        30_000,
        `round ${round}: every thread driven`,
      );
      // Kill at a random point of the renewal period (renewals come every LEASE_TTL_MS / 3).
      await sleep(Math.random() * (LEASE_TTL_MS / 3));
      const owners = await ownersNow(db, threads);
      const slot = replicas.findIndex((bot) => bot.replicaId === owners[0]);
      const victim = replicas[slot];
      const survivor = replicas[1 - slot];
      if (!victim || !survivor) throw new Error(`bench: no replica ${owners[0]} to kill`);
      const driven = owners.map((owner) => owner === victim.replicaId);
      const takenBefore = metricSum(await scrapeMetrics(survivor.port), TAKEOVERS);
      const killedAt = performance.now();
      await victim.kill("SIGKILL");
      front.setBackends([survivor.port]);
      for (const sessionId of sessions) emulator.finishTask(sessionId);
      for (const [k, thread] of threads.entries()) {
        const seenAt = await until(
          () => slack.seenAt(thread.channel, thread.ts, ANSWER),
          LEASE_TTL_MS + 60_000,
          `round ${round}: the answer in ${thread.channel}`,
        );
        (driven[k] ? samples : unaffected).push(seenAt - killedAt);
      }
      await sleep(500); // a second copy of an answer would show now
      for (const thread of threads)
        if (slack.timesShown(thread.channel, thread.ts, ANSWER) !== 1) shownTwice++;
      takeovers += metricSum(await scrapeMetrics(survivor.port), TAKEOVERS) - takenBefore;
      replicas[slot] = await startBotChild(env);
      front.setBackends(replicas.map((bot) => bot.port));
    }
  } finally {
    emulator.events.off("task.started", onStarted);
    await db.end().catch(() => {});
    await Promise.all(replicas.map((bot) => bot.stop().catch(() => {})));
    await front.close();
    await database.drop();
  }
  const boundMs = LEASE_TTL_MS + POLL_INTERVAL_MS;
  return {
    kills,
    leaseTtlMs: LEASE_TTL_MS,
    pollIntervalMs: POLL_INTERVAL_MS,
    boundMs,
    samples: samples.length,
    p50Ms: Math.round(percentile(samples, 50)),
    p95Ms: Math.round(percentile(samples, 95)),
    minMs: Math.round(Math.min(...samples)),
    maxMs: Math.round(Math.max(...samples)),
    withinBound: samples.filter((ms) => ms <= boundMs).length,
    /** Threads the surviving replica drove all along: their answers after the kill. */
    unaffectedP50Ms: Math.round(percentile(unaffected, 50)),
    answersShownOtherThanOnce: shownTwice,
    /** lease_takeovers_total on the surviving replicas (the metric). */
    takeoversCounted: takeovers,
    samplesMs: samples.map(Math.round),
  };
}

async function ownersNow(
  db: pg.Client,
  threads: { channel: string; ts: string }[],
): Promise<(string | null)[]> {
  const { rows } = await db.query<{ channel_id: string; thread_ts: string; lease_owner: string | null }>(
    "SELECT channel_id, thread_ts, lease_owner FROM threads WHERE channel_id = ANY($1) AND lease_expires_at > $2",
    [threads.map((t) => t.channel), Date.now()],
  );
  return threads.map(
    (thread) =>
      rows.find((row) => row.channel_id === thread.channel && row.thread_ts === thread.ts)?.lease_owner ??
      null,
  );
}
