import type { Emulator } from "../../emulator/server.ts";
import type { FakeSlack } from "../../test/support/fake-slack.ts";
import {
  botEnv,
  isCardPost,
  mention,
  percentile,
  quick,
  reply,
  requesterFor,
  round,
  sleep,
  startBotChild,
  until,
} from "../common.ts";

export interface LatencyMode {
  name: string;
  env: Record<string, string>;
}

export async function benchFinishToCard(slack: FakeSlack, emulator: Emulator, mode: LatencyMode) {
  const threads = quick ? 12 : 30;
  const turnsPerThread = 4;
  emulator.reset();
  slack.resetCalls();
  const bot = await startBotChild(botEnv(slack, emulator, mode.env));
  const requester = requesterFor(slack, bot.port);
  const completions = new Map<string, number[]>();
  const onCompleted = (event: { sessionId: string; at: number }) => {
    completions.set(event.sessionId, [...(completions.get(event.sessionId) ?? []), event.at]);
  };
  emulator.events.on("task.completed", onCompleted);

  const cardLatencies: number[] = [];
  const resultLatencies: number[] = [];
  const sessionOf = (marker: string) =>
    [...emulator.state.sessions.values()].find((s) =>
      emulator.state.turnRequests(s.id).some((r) => r.message.includes(marker)),
    )?.id;

  const drive = async (i: number) => {
    await sleep(i * 100); // people do not all start in the same millisecond
    const channel = `C0LAT${mode.name.length}${i}`;
    const marker = `[thread ${i}]`;
    const root = await mention(slack, requester, channel, `Intro email ${marker} for VPs of Sales`);
    const sessionId = await until(() => sessionOf(marker), 30_000, `session of ${marker}`);
    for (let turn = 1; turn <= turnsPerThread; turn++) {
      const finishedAt = await until(
        () => completions.get(sessionId)?.[turn - 1],
        60_000,
        `turn ${turn} of ${marker}`,
      );
      const shown = await until(
        () =>
          slack.calls.find(
            (c) =>
              c.at >= finishedAt &&
              c.args.channel === channel &&
              (turn === 1 ? c.method === "chat.update" : isCardPost(c)),
          ),
        30_000,
        `result of turn ${turn} of ${marker}`,
      );
      (turn === 1 ? resultLatencies : cardLatencies).push(shown.at - finishedAt);
      if (turn < turnsPerThread) {
        await sleep(300); // a person reads, then answers
        const instruction =
          ["Mid-market SaaS, CRO sender", "make it shorter", "warmer please"][turn - 1] ?? "shorter";
        await reply(slack, requester, channel, root.ts, instruction);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: threads }, (_, i) => drive(i)));
  const seconds = (performance.now() - started) / 1000;
  await sleep(2500); // let trailing edits land before counting calls
  emulator.events.off("task.completed", onCompleted);
  const turns = threads * turnsPerThread;
  const methods = new Map<string, number>();
  for (const call of slack.calls) methods.set(call.method, (methods.get(call.method) ?? 0) + 1);
  const chatCalls = [...methods].filter(([m]) => m.startsWith("chat.")).reduce((sum, [, n]) => sum + n, 0);
  const stats = emulator.stats();
  await bot.stop();
  return {
    mode: mode.name,
    turns,
    seconds: round(seconds),
    cardP50Ms: round(percentile(cardLatencies, 50)),
    cardP95Ms: round(percentile(cardLatencies, 95)),
    firstAnswerP50Ms: round(percentile(resultLatencies, 50)),
    slackCallsPerTurn: round([...methods.values()].reduce((a, b) => a + b, 0) / turns, 2),
    slackChatCallsPerTurn: round(chatCalls / turns, 2),
    slackCallsByMethod: Object.fromEntries(methods),
    puffleSessionGetsPerTurn: round((stats.requests["sessions.get"] ?? 0) / turns, 2),
    puffleRequests: stats.requests,
  };
}
