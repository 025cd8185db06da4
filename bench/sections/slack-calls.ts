import type { Emulator } from "../../emulator/server.ts";
import type { FakeSlack } from "../../test/support/fake-slack.ts";
import { botEnv, channelOf, quick, requesterFor, round, sleep, startBotChild } from "../common.ts";
import { runConversations } from "../conversations.ts";

/**
 * Slack Web API calls per ordinary turn (SPEC 6: <= 4 on average over a 4-turn conversation):
 * conversations with realtime on and runs that stream nothing (the status-message path). Every call the
 * bot made in a conversation's channel counts (posts, edits, deletes, the native thread status); calls
 * made once per process (auth.test, users.info) do not. Each call is also given to the turn whose
 * message came last before it.
 */
export async function benchSlackCalls(slack: FakeSlack, emulator: Emulator) {
  emulator.reset();
  slack.resetCalls();
  const bot = await startBotChild(botEnv(slack, emulator));
  try {
    const { samples, channels } = await runConversations({
      slack,
      emulator,
      requester: requesterFor(slack, bot.port),
      threads: quick ? 6 : 12,
      channelPrefix: "C0CALLS",
      staggerMs: 250,
    });
    await sleep(2500); // trailing edits and status clears land before the calls are counted
    const inConversations = slack.calls.filter((call) => channels.includes(String(channelOf(call))));
    const byMethod: Record<string, number> = {};
    for (const call of inConversations) byMethod[call.method] = (byMethod[call.method] ?? 0) + 1;
    const turnsPerThread = Math.max(...samples.map((s) => s.turn));
    const byTurn: number[] = Array.from({ length: turnsPerThread }, () => 0);
    for (const call of inConversations) {
      const asked = samples
        .filter((s) => s.channel === channelOf(call) && s.askedAt <= call.at)
        .sort((a, b) => b.askedAt - a.askedAt)[0];
      if (asked) byTurn[asked.turn - 1] = (byTurn[asked.turn - 1] ?? 0) + 1;
    }
    const threads = channels.length;
    const turns = samples.length;
    const chat = inConversations.filter((call) => call.method.startsWith("chat.")).length;
    return {
      threads,
      turns,
      callsPerTurn: round(inConversations.length / turns, 2),
      chatCallsPerTurn: round(chat / turns, 2),
      /** Everything but assistant.threads.setStatus (the thread status indicator, best effort in SPEC 2). */
      callsPerTurnWithoutThreadStatus: round(
        (inConversations.length - (byMethod["assistant.threads.setStatus"] ?? 0)) / turns,
        2,
      ),
      byMethodPerTurn: Object.fromEntries(Object.entries(byMethod).map(([m, n]) => [m, round(n / turns, 2)])),
      byTurnIndexPerThread: byTurn.map((n) => round(n / threads, 2)),
    };
  } finally {
    await bot.stop();
  }
}
