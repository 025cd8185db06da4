import { type RequestEvent, startEmulator } from "../../emulator/server.ts";
import type { FakeSlack } from "../../test/support/fake-slack.ts";
import {
  botEnv,
  mention,
  metricSum,
  quick,
  requesterFor,
  scrapeMetrics,
  sleep,
  startBotChild,
} from "../common.ts";

/**
 * The Puffle request budget (SPEC 10) with 1,000 turns in flight and realtime off: 1,000 new drafts
 * arrive at 50/s, each needing a session create and a turn, then reads until its task ends; the
 * emulator's tasks take 1 to 2 minutes (quick: 15 to 30 s). Requests are counted at the emulator over
 * a fixed window from the first draft: the most in any sliding 60 s, and per calendar minute of the
 * window. Twice: the bot at PUFFLE_MAX_RPM=100 against an unlimited emulator, then the bot at 200
 * against an emulator that answers 429 above 100 per minute (a 429 storm).
 */
const TURNS = 1000;

export interface BudgetRun {
  name: string;
  botMaxRpm: number;
  emulatorLimitPerMinute: number | null;
  windowSeconds: number;
  requests: number;
  refused429: number;
  maxPerSlidingMinute: number;
  maxAllowedPerSlidingMinute: number;
  perCalendarMinute: number[];
  emulatorMaxPerMinute: number;
  requestsByRoute: Record<string, number>;
  tasksDispatched: number;
  tasksCompleted: number;
  turnsShown: number;
  budgetPauses: number;
}

export async function benchBudget(slack: FakeSlack) {
  const limited = await budgetRun(slack, { name: "max-rpm-100", botMaxRpm: 100, emulatorLimit: null });
  const storm = await budgetRun(slack, { name: "429-storm", botMaxRpm: 200, emulatorLimit: 100 });
  return { turns: TURNS, runs: [limited, storm] };
}

async function budgetRun(
  slack: FakeSlack,
  options: { name: string; botMaxRpm: number; emulatorLimit: number | null },
): Promise<BudgetRun> {
  const windowMs = quick ? 45_000 : 105_000;
  const emulator = await startEmulator({
    taskDelayMs: quick ? 15_000 : 60_000,
    taskJitterMs: quick ? 15_000 : 60_000,
    streams: false,
    seed: 7,
    ...(options.emulatorLimit !== null && { rateLimitPerMinute: options.emulatorLimit }),
  });
  slack.resetCalls();
  const bot = await startBotChild(
    botEnv(slack, emulator, { TRIGGER_API_URL: "off", PUFFLE_MAX_RPM: String(options.botMaxRpm) }),
  );
  const requester = requesterFor(slack, bot.port);
  const requests: { at: number; status: number }[] = [];
  const onRequest = (event: RequestEvent) => {
    if (event.path.startsWith("/api")) requests.push({ at: performance.now(), status: event.status });
  };
  let dispatched = 0;
  let completed = 0;
  const onStarted = () => dispatched++;
  const onCompleted = () => completed++;
  emulator.events.on("request", onRequest);
  emulator.events.on("task.started", onStarted);
  emulator.events.on("task.completed", onCompleted);
  try {
    const started = performance.now();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < TURNS; i++) {
      await sleep(Math.max(0, started + i * 20 - performance.now()));
      sends.push(mention(slack, requester, `C0BUD${options.name.length}X${i % 50}`, `budget brief ${i}`));
    }
    await Promise.all(sends);
    await sleep(Math.max(0, started + windowMs - performance.now()));
    const metrics = await scrapeMetrics(bot.port);
    const inWindow = requests.filter((r) => r.at - started <= windowMs);
    const times = inWindow.map((r) => r.at);
    const allowed = inWindow.filter((r) => r.status !== 429).map((r) => r.at);
    const perCalendarMinute: number[] = [];
    for (const r of inWindow) {
      const minute = Math.floor((r.at - started) / 60_000);
      perCalendarMinute[minute] = (perCalendarMinute[minute] ?? 0) + 1;
    }
    const keys = Object.values(emulator.keyStats().keys);
    return {
      name: options.name,
      botMaxRpm: options.botMaxRpm,
      emulatorLimitPerMinute: options.emulatorLimit,
      windowSeconds: windowMs / 1000,
      requests: inWindow.length,
      refused429: inWindow.filter((r) => r.status === 429).length,
      maxPerSlidingMinute: maxInWindow(times, 60_000),
      maxAllowedPerSlidingMinute: maxInWindow(allowed, 60_000),
      perCalendarMinute: Array.from(perCalendarMinute, (n) => n ?? 0),
      emulatorMaxPerMinute: Math.max(0, ...keys.map((k) => k.maxPerMinute)),
      requestsByRoute: emulator.stats().requests,
      tasksDispatched: dispatched,
      tasksCompleted: completed,
      turnsShown: metricSum(metrics, "puffle_drafter_turns_total", 'outcome="done"'),
      budgetPauses: metricSum(metrics, "puffle_drafter_budget_pauses_total"),
    };
  } finally {
    emulator.events.off("request", onRequest);
    emulator.events.off("task.started", onStarted);
    emulator.events.off("task.completed", onCompleted);
    await bot.stop();
    await emulator.close();
  }
}

/** The most timestamps (sorted ascending) in any half-open window of `spanMs`. */
export function maxInWindow(times: readonly number[], spanMs: number): number {
  let best = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[last] ?? 0) - (times[first] ?? 0) >= spanMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}
