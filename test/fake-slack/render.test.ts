import { type Button, type RichTextSection, WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

const CHANNEL = "C0DRAFTS";

let fake: FakeSlack;
let client: WebClient;

beforeEach(async () => {
  fake = await startFakeSlack();
  client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
  fake.addUser("U0BOT", "Puffle Drafter");
});

afterEach(async () => {
  await fake.close();
});

const button = (text: string, actionId: string): Button => ({
  type: "button",
  text: { type: "plain_text", text },
  action_id: actionId,
});

describe("render", () => {
  it("prints a thread as a person reads it", async () => {
    const root = fake.addHumanMessage({
      channel: CHANNEL,
      user: "U0DANA",
      text: "<@U0BOT> intro email for VPs &amp; directors",
    });
    const status = await client.chat.postMessage({
      channel: CHANNEL,
      thread_ts: root.ts,
      text: "Drafting... turn 1",
    });
    await client.chat.update({
      channel: CHANNEL,
      ts: status.ts ?? "",
      text: "Draft v1",
      blocks: [
        { type: "header", text: { type: "plain_text", text: "Draft v1 · Intro email" } },
        {
          type: "section",
          text: { type: "mrkdwn", text: "*Subject:* Cut onboarding time\nHi %first_name%," },
          fields: [
            { type: "mrkdwn", text: "*Words* 120" },
            { type: "plain_text", text: "Tone: warm" },
          ],
        },
        { type: "divider" },
        {
          type: "rich_text",
          elements: [
            { type: "rich_text_list", style: "bullet", elements: [rtSection("Hook"), rtSection("Proof")] },
            {
              type: "rich_text_quote",
              elements: [
                { type: "text", text: "asked by " },
                { type: "user", user_id: "U0DANA" },
              ],
            },
          ],
        },
        {
          type: "context",
          elements: [
            { type: "mrkdwn", text: "v1" },
            { type: "plain_text", text: "asked by Dana" },
          ],
        },
        {
          type: "actions",
          elements: [button("Shorter", "draft.shorter"), button("Custom...", "draft.custom")],
        },
      ],
    });

    expect(fake.render(CHANNEL, root.ts)).toBe(
      [
        `Dana · ${root.ts}`,
        "  @Puffle Drafter intro email for VPs & directors",
        "",
        `Puffle Drafter · ${status.ts} · edited`,
        "  # Draft v1 · Intro email",
        "  *Subject:* Cut onboarding time",
        "  Hi %first_name%,",
        "  *Words* 120",
        "  Tone: warm",
        "  ---",
        "  • Hook",
        "  • Proof",
        "  > asked by @Dana",
        "  v1 · asked by Dana",
        "  [Shorter] [Custom...]",
      ].join("\n"),
    );
  });

  it("prints the channel's top level without threadTs", async () => {
    const root = fake.addHumanMessage({ channel: CHANNEL, user: "U0DANA", text: "root" });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts, text: "hidden reply" });
    await client.chat.postMessage({
      channel: CHANNEL,
      text: "<!here> new draft, see <https://x.test|the thread>",
    });
    expect(fake.render(CHANNEL)).not.toContain("hidden reply");
    expect(fake.render(CHANNEL)).toContain("  @here new draft, see the thread");
  });
});

function rtSection(text: string): RichTextSection {
  return { type: "rich_text_section", elements: [{ type: "text", text }] };
}
