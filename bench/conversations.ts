import type { Emulator } from "../emulator/server.ts";
import type { TaskEvent } from "../emulator/tasks.ts";
import type { FakeSlack } from "../test/support/fake-slack.ts";
import type { SlackRequester } from "../test/support/slack-requests.ts";
import { isCardPost, mention, reply, sleep, until } from "./common.ts";

/**
 * Threads of 4-turn conversations, the way the card section drives them (a brief, the answers to the
 * clarifying questions, then two refinements), against any requester: one bot, or a front before
 * several replicas. Every turn's task start and end come from the emulator; what people saw comes from
 * the fake Slack.
 */
export interface TurnSample {
  channel: string;
  threadTs: string;
  sessionId: string;
  /** 1-based. */
  turn: number;
  runId: string;
  /** performance.now() when the person's message for this turn was sent (the mention, then replies). */
  askedAt: number;
  /** performance.now() when the task started and when Puffle finished it. */
  startedAt: number;
  finishedAt: number;
  /** When the result was visible: the first answer (turn 1), the draft card (later turns). */
  shownAt: number;
}

export interface ConversationOptions {
  slack: FakeSlack;
  emulator: Emulator;
  requester: SlackRequester;
  threads: number;
  turnsPerThread?: number;
  /** Channel names start with it, so runs sharing the fake Slack stay apart. */
  channelPrefix: string;
  /** Between thread starts: people do not all start in the same millisecond. */
  staggerMs?: number;
}

const INSTRUCTIONS = ["Mid-market SaaS, CRO sender", "make it shorter", "warmer please"];

export async function runConversations(options: ConversationOptions) {
  const { slack, emulator, requester } = options;
  const turnsPerThread = options.turnsPerThread ?? 4;
  const started = new Map<string, TaskEvent[]>();
  const completed = new Map<string, TaskEvent[]>();
  const onStarted = (event: TaskEvent) =>
    started.set(event.sessionId, [...(started.get(event.sessionId) ?? []), event]);
  const onCompleted = (event: TaskEvent) =>
    completed.set(event.sessionId, [...(completed.get(event.sessionId) ?? []), event]);
  emulator.events.on("task.started", onStarted);
  emulator.events.on("task.completed", onCompleted);
  const sessionOf = (marker: string) =>
    [...emulator.state.sessions.values()].find((s) =>
      emulator.state.turnRequests(s.id).some((r) => r.message.includes(marker)),
    )?.id;

  const samples: TurnSample[] = [];
  const drive = async (i: number) => {
    await sleep(i * (options.staggerMs ?? 100));
    const channel = `${options.channelPrefix}${i}`;
    const marker = `[${options.channelPrefix} thread ${i}]`;
    let askedAt = performance.now();
    const root = await mention(slack, requester, channel, `Intro email ${marker} for VPs of Sales`);
    const sessionId = await until(() => sessionOf(marker), 60_000, `session of ${marker}`);
    for (let turn = 1; turn <= turnsPerThread; turn++) {
      const finished = await until(
        () => completed.get(sessionId)?.[turn - 1],
        120_000,
        `turn ${turn} of ${marker}`,
      );
      const shown = await until(
        () =>
          slack.calls.find(
            (c) =>
              c.at >= finished.at &&
              c.args.channel === channel &&
              (turn === 1 ? ["chat.update", "chat.stopStream"].includes(c.method) : isCardPost(c)),
          ),
        60_000,
        `result of turn ${turn} of ${marker}`,
      );
      const start = started.get(sessionId)?.[turn - 1];
      samples.push({
        channel,
        threadTs: root.ts,
        sessionId,
        turn,
        runId: finished.runId,
        askedAt,
        startedAt: start?.at ?? Number.NaN,
        finishedAt: finished.at,
        shownAt: shown.at,
      });
      if (turn < turnsPerThread) {
        await sleep(300); // a person reads, then answers
        askedAt = performance.now();
        await reply(slack, requester, channel, root.ts, INSTRUCTIONS[turn - 1] ?? "shorter");
      }
    }
  };
  const began = performance.now();
  try {
    await Promise.all(Array.from({ length: options.threads }, (_, i) => drive(i)));
  } finally {
    emulator.events.off("task.started", onStarted);
    emulator.events.off("task.completed", onCompleted);
  }
  return {
    samples,
    seconds: (performance.now() - began) / 1000,
    channels: Array.from({ length: options.threads }, (_, i) => `${options.channelPrefix}${i}`),
  };
}

/** Finish -> draft card (turns after the first) and finish -> first answer (turn 1), in ms. */
export function resultLatencies(samples: readonly TurnSample[]) {
  return {
    card: samples.filter((s) => s.turn > 1).map((s) => s.shownAt - s.finishedAt),
    firstAnswer: samples.filter((s) => s.turn === 1).map((s) => s.shownAt - s.finishedAt),
  };
}
