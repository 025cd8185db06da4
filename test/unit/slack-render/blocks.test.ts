import type { KnownBlock, ModalView as SlackModalView } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import {
  type Block,
  button,
  context,
  divider,
  header,
  packMessages,
  richText,
  section,
  sectionsFor,
  textLength,
} from "../../../src/slack/render/blocks.ts";
import { renderDraftCard } from "../../../src/slack/render/draft-card.ts";
import { pickerModal } from "../../../src/slack/render/picker-modal.ts";
import { draftView, expectValidMessages, textsOf } from "./fixtures.ts";

describe("block builders", () => {
  it("cut short text to Slack's limits", () => {
    expect(header("h".repeat(500)).text.text).toHaveLength(150);
    expect(section("s".repeat(5000)).text.text).toHaveLength(3000);
    expect(button({ actionId: "a", text: "b".repeat(100), value: "v" }).text.text).toHaveLength(75);
    expect(context(...Array.from({ length: 12 }, (_, i) => `c${i}`)).elements).toHaveLength(10);
  });

  it("cut a rich_text block's text to its budget and drop empty elements", () => {
    const block = richText([
      { type: "text", text: "" },
      { type: "text", text: "a".repeat(2000), style: { bold: true } },
      { type: "text", text: "b".repeat(2000) },
      { type: "text", text: "c" },
    ]);
    expect(block.elements[0]?.elements).toEqual([
      { type: "text", text: "a".repeat(2000), style: { bold: true } },
      { type: "text", text: `${"b".repeat(999)}…` },
    ]);
    expect(textLength(block)).toBe(3000);
  });

  it("never send empty text, which Slack refuses", () => {
    expectValidMessages([{ text: "x", blocks: [header(" "), section(""), context(""), richText([])] }]);
  });

  it("refuse a button value that would have to be cut", () => {
    expect(() => button({ actionId: "a", text: "b", value: "v".repeat(2001) })).toThrow(RangeError);
  });

  it("split long text into as many sections as needed, losing nothing", () => {
    const text = Array.from({ length: 400 }, (_, i) => `Sentence number ${i} is here.`).join(" ");
    const sections = sectionsFor(text);
    expect(sections.length).toBeGreaterThan(3);
    for (const block of sections) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    expect(textsOf(sections).join(" ")).toBe(text);
    expect(sectionsFor("  \n ")).toEqual([]);
  });
});

describe("packMessages", () => {
  it("keeps each message under 50 blocks and the text budget, in order", () => {
    const blocks: Block[] = [
      header("Title"),
      ...Array.from({ length: 120 }, (_, i) => section(`${i} ${"x".repeat(400)}`)),
      divider(),
      section("last"),
    ];
    const messages = packMessages(blocks, (part, parts) => `part ${part + 1} of ${parts}`);
    expectValidMessages(messages);
    expect(messages.length).toBeGreaterThan(3);
    for (const message of messages) {
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      expect(textLength(message.blocks)).toBeLessThanOrEqual(11_000);
    }
    expect(messages[0]?.blocks[0]).toEqual(header("Title"));
    expect(messages.at(-1)?.blocks.at(-1)).toEqual(section("last"));
    expect(messages.flatMap((message) => message.blocks).filter((b) => b.type === "section")).toHaveLength(
      121,
    );
    expect(messages[1]?.text).toBe(`part 2 of ${messages.length}`);
  });

  it("splits on the block count alone", () => {
    const messages = packMessages(
      Array.from({ length: 120 }, (_, i) => section(`${i}`)),
      () => "x",
    );
    expect(messages.map((message) => message.blocks.length)).toEqual([50, 50, 20]);
  });

  it("does not start a continuation message with a divider", () => {
    const blocks = [...Array.from({ length: 50 }, (_, i) => section(`${i}`)), divider(), section("next")];
    expect(packMessages(blocks, () => "x")[1]?.blocks).toEqual([section("next")]);
  });
});

describe("types", () => {
  it("are what the Slack Web API client takes", () => {
    const [message] = renderDraftCard({ view: draftView(), revision: 1, requestedBy: [], live: true });
    const blocks: KnownBlock[] = message?.blocks ?? [];
    const view: SlackModalView = pickerModal({
      campaigns: [],
      steps: [],
      askBrief: true,
      rememberDefault: false,
      privateMetadata: "{}",
    });
    expect(blocks.length).toBeGreaterThan(0);
    expect(view.type).toBe("modal");
  });
});
