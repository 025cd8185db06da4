import { type Logger, LogLevel, WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateMessage, validateView } from "../support/block-kit-limits.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

const CHANNEL = "C0DRAFTS";

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

let fake: FakeSlack;
let client: WebClient;

beforeAll(async () => {
  fake = await startFakeSlack();
  client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: silent });
  fake.addUser(fake.botUserId, "Puffle Drafter");
});

afterAll(async () => {
  await fake.close();
});

const plain = (text: string) => ({ type: "plain_text", text });
const feedback = (actionId = "draft.feedback") => ({
  type: "feedback_buttons",
  action_id: actionId,
  positive_button: { text: plain("Good"), value: "up", accessibility_label: "This draft is good" },
  negative_button: { text: plain("Bad"), value: "down" },
});
const iconButton = (actionId: string) => ({
  type: "icon_button",
  action_id: actionId,
  icon: "trash",
  text: plain("Delete"),
  value: "delete",
  visible_to_user_ids: ["U0DANA"],
});
const contextActions = (elements: unknown[]) => ({ type: "context_actions", elements });

describe("context_actions with feedback buttons", () => {
  it("accepts feedback_buttons and icon_button, up to 5 elements", () => {
    const blocks = [
      contextActions([
        feedback("f1"),
        iconButton("i1"),
        iconButton("i2"),
        iconButton("i3"),
        iconButton("i4"),
      ]),
    ];
    expect(validateMessage({ text: "Draft v1", blocks })).toBeUndefined();
  });

  it.each([
    [
      "6 elements",
      [contextActions(Array.from({ length: 6 }, (_, i) => iconButton(`i${i}`)))],
      "/blocks/0/elements",
    ],
    ["no elements", [contextActions([])], "/blocks/0/elements"],
    [
      "a plain button",
      [contextActions([{ type: "button", text: plain("Go"), action_id: "b" }])],
      "/blocks/0/elements/0/type",
    ],
    [
      "a feedback button without negative_button",
      [contextActions([{ type: "feedback_buttons", positive_button: { text: plain("Good"), value: "up" } }])],
      "/blocks/0/elements/0",
    ],
    [
      "a feedback button with a mrkdwn label",
      [
        contextActions([
          { ...feedback(), positive_button: { text: { type: "mrkdwn", text: "*Good*" }, value: "up" } },
        ]),
      ],
      "/blocks/0/elements/0/positive_button/text/type",
    ],
    [
      "a feedback button without value",
      [contextActions([{ ...feedback(), negative_button: { text: plain("Bad") } }])],
      "/blocks/0/elements/0/negative_button",
    ],
    [
      "a 76-character accessibility_label",
      [contextActions([{ ...iconButton("i"), accessibility_label: "a".repeat(76) }])],
      "/blocks/0/elements/0/accessibility_label",
    ],
    [
      "an icon button without icon",
      [contextActions([{ ...iconButton("i"), icon: undefined }])],
      "/blocks/0/elements/0",
    ],
  ])("refuses %s with invalid_blocks", (_name, blocks, pointer) => {
    const result = validateMessage({ text: "x", blocks });
    expect(result?.error).toBe("invalid_blocks");
    expect(result?.response_metadata?.messages.join("\n")).toContain(`[json-pointer:${pointer}]`);
  });

  it("refuses them in a Home tab or a modal: messages only", () => {
    const view = { type: "home", blocks: [contextActions([feedback()])] };
    expect(validateView(view)?.response_metadata?.messages.join("\n")).toContain("only allowed in messages");
  });

  it("is posted through the WebClient, rejected beyond 5, and rendered as thumbs", async () => {
    const blocks = [
      { type: "section", text: { type: "mrkdwn", text: "Draft v1" } },
      contextActions([feedback(), iconButton("draft.delete")]),
    ];
    const { ts = "" } = await client.chat.postMessage({ channel: CHANNEL, text: "Draft v1", blocks });
    expect(fake.render(CHANNEL)).toContain("  Draft v1\n  [👍][👎] [Delete]");
    expect(fake.message(CHANNEL, ts)?.blocks).toEqual(blocks);

    const tooMany = [contextActions(Array.from({ length: 6 }, (_, i) => iconButton(`x${i}`)))];
    await expect(
      client.chat.postMessage({ channel: CHANNEL, text: "x", blocks: tooMany }),
    ).rejects.toMatchObject({
      data: { error: "invalid_blocks" },
    });
  });
});
