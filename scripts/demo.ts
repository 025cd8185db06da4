import { pathToFileURL } from "node:url";
import { ACTIONS, refineActionId } from "../src/slack/ids.ts";
import {
  botReplies,
  buttonsOf,
  DANA,
  draftCards,
  LEE,
  startE2E,
  visibleText,
} from "../test/support/harness.ts";
import { appMentionEvent, messageEvent } from "../test/support/slack-requests.ts";

/**
 * `npm run demo`: no credentials at all. A scripted conversation goes through the real app
 * (Bolt over signed HTTP, the real Web API client, the real Trigger.dev SDK) against a local
 * fake Slack and the Puffle emulator, then the thread is printed as a person would read it.
 */
const CHANNEL = "C0DEMO";

export async function runDemo(print: (line: string) => void = console.log): Promise<string> {
  const e2e = await startE2E({
    emulator: { taskDelayMs: 700, examplesDelayMs: 900 },
    minEditIntervalMs: 2000,
  });
  const { slack, requester } = e2e;
  const wait = <T>(probe: () => T | undefined | false, what: string) =>
    slack.waitFor(probe, { timeoutMs: 20_000, message: what });
  try {
    print("Dana mentions the bot with a brief...");
    const root = slack.addHumanMessage({
      channel: CHANNEL,
      user: DANA,
      text: `<@${slack.botUserId}> intro email for VPs of Sales at mid-market SaaS, time-to-ROI angle`,
    });
    await requester.event(appMentionEvent({ user: DANA, channel: CHANNEL, text: root.text, ts: root.ts }));
    await wait(
      () => botReplies(slack, CHANNEL, root.ts).find((m) => /question/i.test(visibleText(m))),
      "Puffle's clarifying questions",
    );

    print("Puffle asks a few questions; Dana answers in the thread...");
    const answer = "CRO signs it, 200-2,000 employees, ask for a 15-minute call next week";
    const reply = slack.addHumanMessage({ channel: CHANNEL, user: DANA, text: answer, thread_ts: root.ts });
    await requester.event(
      messageEvent({ user: DANA, channel: CHANNEL, text: answer, ts: reply.ts, thread_ts: root.ts }),
    );
    const v1 = await wait(() => draftCards(slack, CHANNEL, root.ts)[0], "the first draft card");

    print('The draft card arrives; Lee clicks "Shorter"...');
    await requester.blockAction({
      user: LEE,
      channel: CHANNEL,
      message: v1,
      actions: [{ action_id: refineActionId("shorter"), value: buttonValue(v1, refineActionId("shorter")) }],
    });
    const v2 = await wait(
      () => draftCards(slack, CHANNEL, root.ts).find((m) => buttonsOf(m).length > 0 && m.ts !== v1.ts),
      "draft v2",
    );

    print('Version 2 replaces version 1; Dana clicks "Generate examples"...');
    await requester.blockAction({
      user: DANA,
      channel: CHANNEL,
      message: v2,
      actions: [{ action_id: ACTIONS.examples, value: buttonValue(v2, ACTIONS.examples) }],
    });
    await wait(
      () => slack.thread(CHANNEL, root.ts).find((m) => m.bot_id && /^Examples/.test(m.text)),
      "the examples card",
    );
    // Let the last status edit land (edits are at most one per 2 s per message).
    await new Promise((resolve) => setTimeout(resolve, 2200));

    const thread = slack.render(CHANNEL, root.ts);
    print("");
    print("──────── the thread, as people in the channel see it ────────");
    print("");
    print(thread);
    return thread;
  } finally {
    await e2e.close();
  }
}

function buttonValue(message: Parameters<typeof buttonsOf>[0], actionId: string): string {
  return buttonsOf(message).find((b) => b.action_id === actionId)?.value ?? "";
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  runDemo().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`The demo could not finish: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
