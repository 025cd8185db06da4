import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED } from "../../emulator/seed.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { botReplies, DANA, draftCards, LEE, visibleText } from "../support/harness.ts";
import { freshPostgresDatabase } from "../support/postgres.ts";
import { type ReplicaSet, startReplicaSet } from "../support/replica-set.ts";
import { appMentionEvent, messageEvent, type SlackRequester } from "../support/slack-requests.ts";

/**
 * Bot processes sharing one PostgreSQL database behind a round-robin front: one turn per human message,
 * at most one task per session, each result shown once, whatever replica gets what and whichever dies.
 */
let slack: FakeSlack;
let emulator: Emulator;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.addUser(DANA, "Dana");
  slack.addUser(LEE, "Lee");
  emulator = await startEmulator({ taskDelayMs: 600, realtimeHoldMs: 400 });
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await emulator.close();
  await slack.close();
});

async function replicas(count: number, env: Record<string, string> = {}): Promise<ReplicaSet> {
  const database = await freshPostgresDatabase();
  const set = await startReplicaSet({ slack, emulator, databaseUrl: database.url, count, env });
  cleanups.push(async () => {
    await set.close();
    await database.drop();
  });
  return set;
}

/** Every message Puffle received on /turn, for the seed campaign. */
const sentToPuffle = () =>
  emulator.state
    .sessionsOf(SEED.draftCampaign.id)
    .flatMap((session) => emulator.state.turnRequests(session.id).map((turn) => String(turn.message)));
const timesSent = (text: string) =>
  sentToPuffle().reduce((count, message) => count + message.split(text).length - 1, 0);

async function mention(requester: SlackRequester, channel: string, text: string) {
  const root = slack.addHumanMessage({ channel, user: DANA, text: `<@${slack.botUserId}> ${text}` });
  const answer = await requester.event(
    appMentionEvent({ user: DANA, channel, text: root.text, ts: root.ts }),
  );
  expect(answer.status).toBe(200);
  return root;
}

async function reply(
  requester: SlackRequester,
  channel: string,
  threadTs: string,
  text: string,
  user = DANA,
) {
  const message = slack.addHumanMessage({ channel, user, text, thread_ts: threadTs });
  const answer = await requester.event(
    messageEvent({ user, channel, text, ts: message.ts, thread_ts: threadTs }),
  );
  expect(answer.status).toBe(200);
}

/** No status message stuck at "Drafting..." or "Queued...", and each bot text once. */
function settledThread(channel: string, threadTs: string) {
  const texts = botReplies(slack, channel, threadTs).map(visibleText);
  expect(texts.filter((text) => /Drafting\.\.\.|Queued behind/.test(text))).toEqual([]);
  return texts;
}

const questionIn = (channel: string, threadTs: string) =>
  slack.waitFor(
    () => botReplies(slack, channel, threadTs).find((m) => /quick questions/i.test(visibleText(m))),
    {
      timeoutMs: 20_000,
    },
  );

describe("replicas on PostgreSQL", () => {
  it("two replicas behind a round-robin front draft one conversation whose events land on both", async () => {
    const set = await replicas(2);
    const channel = "C0REP2";
    const root = await mention(set.requester, channel, "intro for VPs, two replicas");
    await questionIn(channel, root.ts);
    await reply(set.requester, channel, root.ts, "Mid-market SaaS, CRO sends it");
    await slack.waitFor(() => draftCards(slack, channel, root.ts).length === 1, { timeoutMs: 20_000 });
    await reply(set.requester, channel, root.ts, "make it shorter");
    await slack.waitFor(() => draftCards(slack, channel, root.ts).length === 2, { timeoutMs: 20_000 });
    expect(timesSent("intro for VPs, two replicas")).toBe(1);
    expect(timesSent("make it shorter")).toBe(1);
    expect([...set.front.served.values()].filter((count) => count > 0)).toHaveLength(2);
    const texts = settledThread(channel, root.ts);
    expect(texts.filter((text) => /quick questions/i.test(text))).toHaveLength(1);
  }, 90_000);

  it("the same message delivered to two replicas at once (retry, app_mention and message copies) is one turn", async () => {
    const set = await replicas(2);
    const channel = "C0REPDUP";
    const root = slack.addHumanMessage({ channel, user: DANA, text: `<@${slack.botUserId}> one turn only` });
    const mentionCopy = appMentionEvent({ user: DANA, channel, text: root.text, ts: root.ts });
    const messageCopy = messageEvent({ user: DANA, channel, text: root.text, ts: root.ts });
    const [first, second] = [await set.direct(0), await set.direct(1)];
    const answers = await Promise.all([
      first.event(mentionCopy, { eventId: "Ev0DUPA" }),
      second.event(mentionCopy, { eventId: "Ev0DUPA", retryNum: 1 }),
      second.event(messageCopy, { eventId: "Ev0DUPB" }),
      first.event(messageCopy, { eventId: "Ev0DUPB", retryNum: 1 }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    await questionIn(channel, root.ts);
    expect(timesSent("one turn only")).toBe(1);
    expect(
      botReplies(slack, channel, root.ts).filter((m) => /quick questions/i.test(visibleText(m))),
    ).toHaveLength(1);
  }, 90_000);

  it("a replica SIGKILLed mid-turn: its turns finish on another, once, within the lease lifetime and a poll", async () => {
    const set = await replicas(3);
    const channel = "C0REPKILL";
    const roots = [];
    for (let i = 0; i < 6; i++) roots.push(await mention(set.requester, channel, `kill test brief [${i}]`));
    // Every turn dispatched: find the replica driving the most threads, and kill it mid-turn.
    await slack.waitFor(
      () => set.lines().filter((line) => line.msg === "turn.dispatched").length >= roots.length,
      { timeoutMs: 20_000 },
    );
    const drivers = new Map<string, number>();
    for (const line of set.lines().filter((l) => l.msg === "turn.dispatched"))
      drivers.set(String(line.replica), (drivers.get(String(line.replica)) ?? 0) + 1);
    const victim = [...drivers.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const index = set.replicas.findIndex((bot) => bot.lines().some((line) => line.replica === victim));
    const killedAt = Date.now();
    await set.stop(index, "SIGKILL");
    for (const root of roots) await questionIn(channel, root.ts);
    const tookOver = Date.now() - killedAt;
    // The task itself takes 0.6 s; the lease lives 3 s; the sweep runs every second.
    expect(tookOver).toBeLessThan(3000 + 2000 + 1500);
    for (let i = 0; i < roots.length; i++) expect(timesSent(`kill test brief [${i}]`)).toBe(1);
    for (const root of roots) settledThread(channel, root.ts);
    expect(set.lines().some((line) => line.msg === "lease.taken_over")).toBe(true);
  }, 90_000);

  it("a rolling restart of every replica during 20 active threads: nothing lost, doubled or left unresolved", async () => {
    const set = await replicas(3);
    const channel = "C0ROLL";
    const roots = [];
    for (let i = 0; i < 20; i++) roots.push(await mention(set.requester, channel, `rolling brief [${i}]`));
    // Tasks take 2 s while the replicas roll, and each replica is stopped only once it has started one:
    // every stop happens with work in hand, whatever the machine's speed.
    emulator.faults.inject({ kind: "slow_task", delayMs: 2000 });
    const restarts = (async () => {
      for (let index = 0; index < 3; index++) {
        const replica = set.replicas[index];
        await slack.waitFor(() => replica?.lines().some((line) => line.msg === "turn.dispatched"), {
          timeoutMs: 20_000,
        });
        await set.stop(index, "SIGTERM");
        await set.startAt(index);
      }
      emulator.faults.clear();
    })();
    // People keep writing while the replicas roll.
    for (const [i, root] of roots.entries()) {
      await reply(set.requester, channel, root.ts, `detail ${i} from Lee`, LEE);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await restarts;
    for (const root of roots)
      await slack.waitFor(() => draftCards(slack, channel, root.ts).length >= 1, { timeoutMs: 30_000 });
    for (let i = 0; i < roots.length; i++) {
      expect(timesSent(`rolling brief [${i}]`)).toBe(1);
      expect(timesSent(`detail ${i} from Lee`)).toBe(1);
    }
    for (const root of roots) {
      expect(draftCards(slack, channel, root.ts)).toHaveLength(1);
      settledThread(channel, root.ts);
    }
    expect(set.lines().filter((line) => line.msg === "lease.handed_over").length).toBeGreaterThan(0);
  }, 120_000);
});
