import { type Logger, LogLevel, type WebAPIPlatformError, WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCK_KIT_LIMITS, validateMessage, validateView } from "../support/block-kit-limits.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

const CHANNEL = "C0DRAFTS";

let fake: FakeSlack;
let client: WebClient;

// The WebClient logs Slack's "[ERROR] ..." messages; here they are the expected outcome, not noise to print.
const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

beforeAll(async () => {
  fake = await startFakeSlack();
  client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: silent });
});

afterAll(async () => {
  await fake.close();
});

const section = (text: string, extra: object = {}) => ({
  type: "section",
  text: { type: "mrkdwn", text },
  ...extra,
});
const button = (text: string, actionId: string) => ({
  type: "button",
  text: { type: "plain_text", text },
  action_id: actionId,
});

/** The platform error a WebClient call failed with (code and Slack's messages). */
async function rejection(call: Promise<unknown>): Promise<{ error: string; messages: string[] }> {
  const error = (await call.then(
    () => expect.fail("Slack accepted the call"),
    (e: unknown) => e,
  )) as WebAPIPlatformError;
  return { error: error.data.error, messages: error.data.response_metadata?.messages ?? [] };
}

const post = (args: Record<string, unknown>) =>
  client.apiCall("chat.postMessage", { channel: CHANNEL, ...args });

describe("Block Kit limits enforced by the fake, seen through the WebClient", () => {
  it("refuses 51 blocks in a message", async () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: "divider" }));
    expect(await rejection(post({ text: "x", blocks }))).toEqual({
      error: "invalid_blocks",
      messages: ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"],
    });
  });

  it("refuses a 3001-character section and an empty one", async () => {
    const result = await rejection(post({ text: "x", blocks: [section("a".repeat(3001)), section("")] }));
    expect(result).toEqual({
      error: "invalid_blocks",
      messages: [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        "[ERROR] must be more than 0 characters [json-pointer:/blocks/1/text/text]",
      ],
    });
  });

  it("refuses 13,000 characters of text across blocks with msg_blocks_too_long", async () => {
    const blocks = Array.from({ length: 5 }, () => section("a".repeat(2600)));
    expect((await rejection(post({ text: "x", blocks }))).error).toBe("msg_blocks_too_long");
  });

  it("refuses a 4,001-character top-level text with msg_too_long, on post and on update", async () => {
    expect((await rejection(post({ text: "a".repeat(4001) }))).error).toBe("msg_too_long");
    const { ts } = await client.chat.postMessage({ channel: CHANNEL, text: "ok" });
    const update = client.apiCall("chat.update", { channel: CHANNEL, ts, text: "a".repeat(4001) });
    expect((await rejection(update)).error).toBe("msg_too_long");
  });

  it("refuses a 76-character button label", async () => {
    const blocks = [{ type: "actions", elements: [button("a".repeat(76), "draft.refine")] }];
    expect(await rejection(post({ text: "x", blocks }))).toEqual({
      error: "invalid_blocks",
      messages: ["[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"],
    });
  });

  it("refuses a duplicate action_id within a message", async () => {
    const blocks = [
      { type: "actions", elements: [button("Shorter", "draft.refine")] },
      { type: "actions", elements: [button("Warmer", "draft.refine")] },
    ];
    const result = await rejection(post({ text: "x", blocks }));
    expect(result.error).toBe("invalid_blocks");
    expect(result.messages).toEqual([
      '[ERROR] duplicate action_id "draft.refine" [json-pointer:/blocks/1/elements/0/action_id]',
    ]);
  });

  it("refuses a 25-character modal title with invalid_arguments, as views.open does", async () => {
    const view = { type: "modal", title: { type: "plain_text", text: "a".repeat(25) }, blocks: [] };
    expect(await rejection(client.apiCall("views.open", { trigger_id: "1.2.3", view }))).toEqual({
      error: "invalid_arguments",
      messages: ["[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"],
    });
  });

  it("applies the limits to chat.postEphemeral and response_url bodies too", async () => {
    const ephemeral = client.apiCall("chat.postEphemeral", {
      channel: CHANNEL,
      user: "U0DANA",
      text: "a".repeat(4001),
    });
    expect((await rejection(ephemeral)).error).toBe("msg_too_long");
    const response = await fetch(fake.responseUrl({ channel: CHANNEL, user: "U0DANA" }), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "x", blocks: [{ type: "carousel" }] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ ok: false, error: "invalid_blocks" });
    expect(fake.ephemerals(CHANNEL)).toEqual([]);
  });

  it("refuses message metadata above 4,000 bytes", async () => {
    const metadata = { event_type: "draft", event_payload: { body: "a".repeat(4000) } };
    expect((await rejection(post({ text: "x", metadata }))).error).toBe("invalid_metadata");
  });
});

describe("validateMessage", () => {
  it("accepts a realistic draft card", () => {
    const card = {
      text: "Draft v2",
      blocks: [
        { type: "header", text: { type: "plain_text", text: "Draft v2 · Intro email" } },
        section("*Subject:* Cut onboarding time", { block_id: "subject" }),
        { type: "section", fields: [{ type: "mrkdwn", text: "*Words*\n120" }] },
        {
          type: "rich_text",
          elements: [
            {
              type: "rich_text_section",
              elements: [
                { type: "text", text: "Hi " },
                { type: "user", user_id: "U1" },
              ],
            },
            {
              type: "rich_text_list",
              style: "bullet",
              elements: [{ type: "rich_text_section", elements: [] }],
            },
          ],
        },
        { type: "markdown", text: "**bold** and [a link](https://example.com)" },
        { type: "context", elements: [{ type: "mrkdwn", text: "v2 · 120 words" }] },
        { type: "divider" },
        {
          type: "actions",
          elements: [
            button("Shorter", "draft.shorter"),
            {
              type: "overflow",
              action_id: "draft.more",
              options: [
                { text: { type: "plain_text", text: "Edit" }, value: "edit" },
                { text: { type: "plain_text", text: "Save" }, value: "save" },
              ],
            },
          ],
        },
      ],
    };
    expect(validateMessage(card)).toBeUndefined();
  });

  it.each([
    ["an unknown block type", [{ type: "carousel" }], "/blocks/0/type"],
    ["a mrkdwn header", [{ type: "header", text: { type: "mrkdwn", text: "Hi" } }], "/blocks/0/text/type"],
    [
      "a 151-character header",
      [{ type: "header", text: { type: "plain_text", text: "a".repeat(151) } }],
      "/blocks/0/text/text",
    ],
    [
      "11 section fields",
      [{ type: "section", fields: Array(11).fill({ type: "mrkdwn", text: "a" }) }],
      "/blocks/0/fields",
    ],
    [
      "a 2001-character field",
      [{ type: "section", fields: [{ type: "mrkdwn", text: "a".repeat(2001) }] }],
      "/blocks/0/fields/0/text",
    ],
    [
      "26 buttons",
      [{ type: "actions", elements: Array.from({ length: 26 }, (_, i) => button("b", `b${i}`)) }],
      "/blocks/0/elements",
    ],
    ["an empty actions block", [{ type: "actions", elements: [] }], "/blocks/0/elements"],
    [
      "a 2001-character button value",
      [{ type: "actions", elements: [{ ...button("b", "b"), value: "v".repeat(2001) }] }],
      "/blocks/0/elements/0/value",
    ],
    [
      "a 256-character action_id",
      [{ type: "actions", elements: [button("b", "a".repeat(256))] }],
      "/blocks/0/elements/0/action_id",
    ],
    [
      "a duplicate block_id",
      [section("a", { block_id: "x" }), section("b", { block_id: "x" })],
      "/blocks/1/block_id",
    ],
    [
      "11 context elements",
      [{ type: "context", elements: Array(11).fill({ type: "plain_text", text: "a" }) }],
      "/blocks/0/elements",
    ],
    ["a 12,001-character markdown block", [{ type: "markdown", text: "a".repeat(12_001) }], "/blocks/0/text"],
    ["a text object without type", [{ type: "section", text: { text: "hi" } }], "/blocks/0/text/type"],
    [
      "a rich_text with an unknown element",
      [{ type: "rich_text", elements: [{ type: "rich_text_table" }] }],
      "/blocks/0/elements/0/type",
    ],
    [
      "a rich_text link without url",
      [{ type: "rich_text", elements: [{ type: "rich_text_section", elements: [{ type: "link" }] }] }],
      "/blocks/0/elements/0/elements/0",
    ],
    [
      "an overflow with 6 options",
      [
        {
          type: "actions",
          elements: [
            {
              type: "overflow",
              action_id: "o",
              options: Array(6).fill({ text: { type: "plain_text", text: "a" }, value: "a" }),
            },
          ],
        },
      ],
      "/blocks/0/elements/0/options",
    ],
    ["an image without alt_text", [{ type: "image", image_url: "https://example.com/a.png" }], "/blocks/0"],
  ])("refuses %s with invalid_blocks", (_name, blocks, pointer) => {
    const result = validateMessage({ text: "x", blocks });
    expect(result?.error).toBe("invalid_blocks");
    expect(result?.response_metadata?.messages.join("\n")).toContain(`[json-pointer:${pointer}]`);
  });

  it("refuses blocks that are not an array with invalid_blocks_format", () => {
    expect(validateMessage({ blocks: "[not json" })?.error).toBe("invalid_blocks_format");
  });

  it("exports the limits table", () => {
    expect(BLOCK_KIT_LIMITS).toMatchObject({
      messageBlocks: 50,
      viewBlocks: 100,
      sectionText: 3000,
      modalTitle: 24,
    });
  });
});

describe("validateView", () => {
  const modal = (extra: object) => ({
    type: "modal",
    title: { type: "plain_text", text: "Draft" },
    blocks: [],
    ...extra,
  });
  const input = (element: object, label = "Brief") => ({
    type: "input",
    label: { type: "plain_text", text: label },
    element,
  });

  it("accepts a picker modal", () => {
    const options = Array.from({ length: 100 }, (_, i) => ({
      text: { type: "plain_text", text: `C${i}` },
      value: `c${i}`,
    }));
    const view = modal({
      callback_id: "picker.submit",
      submit: { type: "plain_text", text: "Start" },
      private_metadata: JSON.stringify({ channel: "C1" }),
      blocks: [
        input({ type: "static_select", action_id: "campaign", options }, "Campaign"),
        input({
          type: "plain_text_input",
          action_id: "brief",
          multiline: true,
          max_length: 3000,
          initial_value: "hi",
        }),
        input({ type: "checkboxes", action_id: "remember", options: [options[0]] }, "Remember"),
      ],
    });
    expect(validateView(view)).toBeUndefined();
  });

  it.each([
    ["101 blocks", modal({ blocks: Array(101).fill({ type: "divider" }) }), "/view/blocks"],
    [
      "a 25-character submit",
      modal({ submit: { type: "plain_text", text: "a".repeat(25) } }),
      "/view/submit/text",
    ],
    [
      "a 25-character close",
      modal({ close: { type: "plain_text", text: "a".repeat(25) } }),
      "/view/close/text",
    ],
    [
      "3001 characters of private_metadata",
      modal({ private_metadata: "a".repeat(3001) }),
      "/view/private_metadata",
    ],
    ["a 256-character callback_id", modal({ callback_id: "a".repeat(256) }), "/view/callback_id"],
    ["no title", { type: "modal", blocks: [] }, "/view"],
    [
      "an input without label",
      modal({
        submit: { type: "plain_text", text: "Go" },
        blocks: [{ type: "input", element: { type: "plain_text_input" } }],
      }),
      "/view/blocks/0",
    ],
    [
      "an input without element",
      modal({
        submit: { type: "plain_text", text: "Go" },
        blocks: [{ type: "input", label: { type: "plain_text", text: "L" } }],
      }),
      "/view/blocks/0",
    ],
    ["input blocks without submit", modal({ blocks: [input({ type: "plain_text_input" })] }), "/view"],
    [
      "max_length 3001",
      modal({
        submit: { type: "plain_text", text: "Go" },
        blocks: [input({ type: "plain_text_input", max_length: 3001 })],
      }),
      "/view/blocks/0/element/max_length",
    ],
    [
      "an initial_value longer than max_length",
      modal({
        submit: { type: "plain_text", text: "Go" },
        blocks: [input({ type: "plain_text_input", max_length: 5, initial_value: "123456" })],
      }),
      "/view/blocks/0/element/initial_value",
    ],
    [
      "101 select options",
      modal({
        submit: { type: "plain_text", text: "Go" },
        blocks: [
          input({
            type: "static_select",
            options: Array(101).fill({ text: { type: "plain_text", text: "a" }, value: "a" }),
          }),
        ],
      }),
      "/view/blocks/0/element/options",
    ],
    [
      "a 76-character option",
      modal({
        submit: { type: "plain_text", text: "Go" },
        blocks: [
          input({
            type: "static_select",
            options: [{ text: { type: "plain_text", text: "a".repeat(76) }, value: "a" }],
          }),
        ],
      }),
      "/view/blocks/0/element/options/0/text/text",
    ],
    [
      "a 151-character option value",
      modal({
        submit: { type: "plain_text", text: "Go" },
        blocks: [
          input({
            type: "static_select",
            options: [{ text: { type: "plain_text", text: "a" }, value: "v".repeat(151) }],
          }),
        ],
      }),
      "/view/blocks/0/element/options/0/value",
    ],
    [
      "a 2001-character label",
      modal({
        submit: { type: "plain_text", text: "Go" },
        blocks: [input({ type: "plain_text_input" }, "a".repeat(2001))],
      }),
      "/view/blocks/0/label/text",
    ],
    ["an unknown view type", { type: "dialog" }, "/view/type"],
  ])("refuses %s with invalid_arguments", (_name, view, pointer) => {
    const result = validateView(view);
    expect(result?.error).toBe("invalid_arguments");
    expect(result?.response_metadata?.messages.join("\n")).toContain(`[json-pointer:${pointer}]`);
  });
});
