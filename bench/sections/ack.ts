import type { Emulator } from "../../emulator/server.ts";
import type { FakeSlack } from "../../test/support/fake-slack.ts";
import { messageEvent } from "../../test/support/slack-requests.ts";
import {
  botEnv,
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

export async function benchAck(slack: FakeSlack, emulator: Emulator) {
  const total = quick ? 300 : 1000;
  const ratePerSecond = 50;
  const bot = await startBotChild(botEnv(slack, emulator));
  const requester = requesterFor(slack, bot.port);
  // Threads the bot owns, so that some events are real turns.
  const mapped: { channel: string; ts: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const channel = `C0ACK${i}`;
    mapped.push({ channel, ts: (await mention(slack, requester, channel, `warm-up thread ${i}`)).ts });
  }
  await until(() => emulator.stats().requests["sessions.turn"] === 20 || undefined, 30_000, "warm-up turns");

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const kinds = { chatter: 0, reply: 0, mention: 0 };
  const start = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / ratePerSecond;
    await sleep(Math.max(0, at - performance.now()));
    const kind = i % 10 === 0 ? "mention" : i % 10 < 3 ? "reply" : "chatter";
    kinds[kind]++;
    const thread = mapped[i % mapped.length] ?? { channel: "C0ACK0", ts: "" };
    const send =
      kind === "mention"
        ? mention(slack, requester, `C0ACKNEW${i}`, `new brief ${i}`)
        : kind === "reply"
          ? reply(slack, requester, thread.channel, thread.ts, `note ${i}`)
          : (async () => {
              const message = slack.addHumanMessage({
                channel: "C0CHATTER",
                user: "U0OTHER",
                text: `chatter ${i}`,
              });
              const t0 = performance.now();
              const response = await requester.event(
                messageEvent({ user: "U0OTHER", channel: "C0CHATTER", text: message.text, ts: message.ts }),
              );
              return { ackMs: performance.now() - t0, status: response.status };
            })();
    sends.push(
      send.then((r) => {
        latencies.push(r.ackMs);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }),
    );
  }
  await Promise.all(sends);
  const elapsed = (performance.now() - start) / 1000;
  await bot.stop();
  return {
    events: total,
    achievedRate: round(total / elapsed),
    mix: kinds,
    statuses: Object.fromEntries(statuses),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    maxMs: round(Math.max(...latencies), 2),
  };
}
