import { startEmulator } from "../../emulator/server.ts";
import type { FakeSlack } from "../../test/support/fake-slack.ts";
import {
  botEnv,
  channelOf,
  metricSum,
  percentile,
  quick,
  requesterFor,
  round,
  scrapeMetrics,
  sleep,
  startBotChild,
} from "../common.ts";
import { resultLatencies, runConversations, type TurnSample } from "../conversations.ts";

/**
 * Live writing (SPEC 9), realtime on: every Puffle turn replies with the same 80-word text, which the
 * emulator's runs write word by word to their realtime stream while the task runs (3 to 6 s, the card
 * section's timing). Measured on 4-turn conversations: Puffle's first chunk written -> first text a
 * person sees in the fake Slack, the Slack Web API calls per streamed turn (everything the bot called
 * in the conversation's channel, appends included), and finish -> card. Then the same conversations
 * with the runs writing no stream (the status-message path), under the same load, for comparison.
 */
const REPLY = [
  "Here is where the draft stands after your note. I kept the opening about ramping new reps, since",
  "that is what your VPs of Sales care about most, and moved the proof point up into the first three",
  "lines. The call to action now asks for a fifteen minute chat next week instead of a demo. Want it",
  "shorter? I can cut the second paragraph. Want it warmer? I can open with a line about their recent",
  "hiring instead.",
].join(" ");

export const REPLY_WORDS = REPLY.split(/\s+/).length;

export async function benchStreaming(slack: FakeSlack) {
  const emulator = await startEmulator({
    taskDelayMs: 3000,
    taskJitterMs: 3000,
    realtimeHoldMs: 20_000,
    streams: true,
    seed: 7,
  });
  try {
    const streamed = await conversationRun(slack, emulator, true);
    const plain = await conversationRun(slack, emulator, false);
    return {
      replyWords: REPLY_WORDS,
      streamed,
      notStreamed: plain,
      cardRatio: round(streamed.cardP50Ms / plain.cardP50Ms, 2),
    };
  } finally {
    await emulator.close();
  }
}

async function conversationRun(
  slack: FakeSlack,
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  streams: boolean,
) {
  emulator.reset();
  emulator.configure({ streams });
  emulator.faults.inject({ kind: "scripted_reply", assistant: REPLY, times: Number.POSITIVE_INFINITY });
  slack.resetCalls();
  const bot = await startBotChild(botEnv(slack, emulator));
  const requester = requesterFor(slack, bot.port);
  try {
    const prefix = streams ? "C0STR" : "C0NST";
    const { samples, channels } = await runConversations({
      slack,
      emulator,
      requester,
      threads: quick ? 8 : 20,
      channelPrefix: prefix,
    });
    await sleep(2500); // trailing edits land before the calls are counted
    const metrics = await scrapeMetrics(bot.port);
    const inConversations = slack.calls.filter((call) => channels.includes(String(channelOf(call))));
    const byMethod: Record<string, number> = {};
    for (const call of inConversations) byMethod[call.method] = (byMethod[call.method] ?? 0) + 1;
    const latency = resultLatencies(samples);
    const firstText = streams ? firstTextLatencies(slack, emulator, samples) : undefined;
    return {
      streams,
      turns: samples.length,
      ...(firstText && {
        streamedTurns: firstText.latencies.length,
        firstChunkToTextP50Ms: round(percentile(firstText.latencies, 50)),
        firstChunkToTextP95Ms: round(percentile(firstText.latencies, 95)),
        firstChunkToTextMaxMs: round(Math.max(...firstText.latencies)),
      }),
      slackCallsPerTurn: round(inConversations.length / samples.length, 2),
      slackCallsByMethod: byMethod,
      cardP50Ms: round(percentile(latency.card, 50)),
      cardP95Ms: round(percentile(latency.card, 95)),
      firstAnswerP50Ms: round(percentile(latency.firstAnswer, 50)),
      streamFallbacks: metricSum(metrics, "puffle_drafter_stream_fallbacks_total"),
    };
  } finally {
    await bot.stop();
  }
}

/**
 * For each turn: when the run's first chunk was written (the emulator's schedule, in epoch ms, brought
 * to performance.now()) and when the turn's streamed message first showed text.
 */
function firstTextLatencies(
  slack: FakeSlack,
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  samples: readonly TurnSample[],
) {
  const epochToPerf = Date.now() - performance.now();
  const latencies: number[] = [];
  for (const sample of samples) {
    const stream = emulator.state.runs.get(sample.runId)?.streams.get("reply");
    const first = stream?.records().find((record) => record.chunk !== undefined);
    if (!stream || !first) continue;
    const writtenAt = stream.writtenAt(first) - epochToPerf;
    const message = slack
      .thread(sample.channel, sample.threadTs)
      .find(
        (m) => m.stream && m.stream.startedAt >= sample.startedAt && m.stream.startedAt <= sample.shownAt,
      );
    const visible =
      message && slack.streamHistory(sample.channel, message.ts).find((v) => v.text.trim() !== "");
    if (visible) latencies.push(visible.at - writtenAt);
  }
  return { latencies };
}
