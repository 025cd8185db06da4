import type { Emulator } from "../../emulator/server.ts";
import type { FakeSlack } from "../../test/support/fake-slack.ts";
import {
  botEnv,
  flightEnv,
  mention,
  quick,
  requesterFor,
  round,
  sleep,
  startBotChild,
  until,
} from "../common.ts";

export async function benchInFlight(slack: FakeSlack, emulator: Emulator) {
  const count = quick ? 300 : 1000;
  emulator.reset();
  slack.resetCalls();
  emulator.faults.inject({ kind: "never_finish", times: count });
  const bot = await startBotChild(botEnv(slack, emulator, flightEnv));
  const requester = requesterFor(slack, bot.port);
  const idle = await bot.metrics();
  const idleLive = await bot.live();
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  // New drafts arrive at 50 per second (the rate of the ack test), not all in one instant.
  for (let i = 0; i < count; i++) {
    await sleep(Math.max(0, started + i * 20 - performance.now()));
    sends.push(mention(slack, requester, `C0FLY${i % 50}`, `in-flight brief ${i}`));
  }
  await Promise.all(sends);
  await until(
    () => (emulator.stats().requests["sessions.turn"] ?? 0) >= count || undefined,
    120_000,
    "all turns dispatched",
  );
  const dispatchSeconds = (performance.now() - started) / 1000;
  await sleep(2000);
  await bot.reset();
  const windowSeconds = quick ? 10 : 20;
  await sleep(windowSeconds * 1000);
  const loaded = await bot.metrics();
  const live = await bot.live();
  const gets = emulator.stats().requests["sessions.get"] ?? 0;
  await bot.stop();
  emulator.reset();
  return {
    turnsInFlight: count,
    dispatchSeconds: round(dispatchSeconds),
    idleRssMb: round(idle.rssMb ?? 0),
    rssMb: round(loaded.rssMb ?? 0),
    peakRssMb: round(loaded.peakRssMb ?? 0),
    heapUsedMb: round(loaded.heapUsedMb ?? 0),
    idleLiveHeapMb: round(idleLive.heapUsedMb ?? 0),
    liveHeapMb: round(live.heapUsedMb ?? 0),
    liveRssMb: round(live.rssMb ?? 0),
    liveHeapTotalMb: round(live.heapTotalMb ?? 0),
    liveExternalMb: round(live.externalMb ?? 0),
    activeHandles: live.handles,
    /** What RSS is made of (Linux /proc/self/smaps), idle and loaded, after a full GC. */
    idleResidentMb: idleLive.residentByKind,
    loadedResidentMb: live.residentByKind,
    lagP50Ms: round(loaded.lagP50Ms ?? 0, 2),
    lagP99Ms: round(loaded.lagP99Ms ?? 0, 2),
    lagMaxMs: round(loaded.lagMaxMs ?? 0, 2),
    windowSeconds,
    puffleGetsPerSecond: round(gets / (dispatchSeconds + 2 + windowSeconds)),
  };
}
