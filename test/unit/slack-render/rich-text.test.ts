import { describe, expect, it } from "vitest";
import type { RichTextBlock } from "../../../src/slack/render/blocks.ts";
import { bold, italic, plain, type Run, richTextBlocks } from "../../../src/slack/render/rich-text.ts";
import { renderSeen } from "../../support/fake-slack.ts";

const field = (text: string): Run => ({ text, style: { code: true }, whole: true });
const textOf = (block: RichTextBlock | undefined) =>
  (block?.elements[0]?.elements ?? []).map((element) => element.text).join("");
const seen = (blocks: RichTextBlock[]) => renderSeen(blocks).text;

describe("richTextBlocks", () => {
  it("keeps short text in one block, neighbours with the same look joined", () => {
    const blocks = richTextBlocks([
      bold("Body"),
      plain("\n"),
      plain("Hi "),
      field("%first_name%"),
      plain(","),
    ]);
    expect(blocks).toEqual([
      {
        type: "rich_text",
        elements: [
          {
            type: "rich_text_section",
            elements: [
              { type: "text", text: "Body", style: { bold: true } },
              { type: "text", text: "\nHi " },
              { type: "text", text: "%first_name%", style: { code: true } },
              { type: "text", text: "," },
            ],
          },
        ],
      },
    ]);
    expect(richTextBlocks([plain("")])).toEqual([]);
  });

  it("cuts at a paragraph break in the second half, leaving out one newline", () => {
    const text = "First paragraph here.\n\nSecond one.\nThird line";
    const blocks = richTextBlocks([plain(text)], 40);
    expect(blocks.map(textOf)).toEqual(["First paragraph here.", "\nSecond one.\nThird line"]);
    // Blocks stack on separate lines: what a person sees is the text itself.
    expect(seen(blocks)).toBe(text);
  });

  it("cuts at a line break, then at a space, mid-word only when there is neither", () => {
    expect(richTextBlocks([plain("aaaa bbbb\ncccc dddd")], 12).map(textOf)).toEqual([
      "aaaa bbbb",
      "cccc dddd",
    ]);
    expect(richTextBlocks([plain("aaaa bbbb cccc dddd")], 12).map(textOf)).toEqual([
      "aaaa bbbb",
      "cccc dddd",
    ]);
    expect(richTextBlocks([plain("abcdefghijklmnopqrstuvwxyz")], 10).map(textOf)).toEqual([
      "abcdefghij",
      "klmnopqrst",
      "uvwxyz",
    ]);
  });

  it("never cuts inside a merge field or an emoji", () => {
    const glued = [plain("abcdefg"), field("%first_name%"), plain("xy")];
    expect(richTextBlocks(glued, 14).map(textOf)).toEqual(["abcdefg", "%first_name%xy"]);
    // The spaces inside a field are no place to cut either.
    const spaced = [plain("abcdefgh"), field("{{ company }}"), plain("z")];
    expect(richTextBlocks(spaced, 14).map(textOf)).toEqual(["abcdefgh", "{{ company }}z"]);
    expect(richTextBlocks([plain(`abcdefghi${"🎉".repeat(3)}`)], 10).map(textOf)).toEqual([
      "abcdefghi",
      "🎉🎉🎉",
    ]);
  });

  it("keeps each run's look on both sides of a cut", () => {
    const blocks = richTextBlocks([plain("Intro\n"), italic("&&write about\ntheir Q3 launch&&")], 20);
    expect(blocks.map((block) => block.elements[0]?.elements)).toEqual([
      [
        { type: "text", text: "Intro\n" },
        { type: "text", text: "&&write about", style: { italic: true } },
      ],
      [{ type: "text", text: "their Q3 launch&&", style: { italic: true } }],
    ]);
  });

  it("keeps every block within its budget on long text", () => {
    const runs = Array.from({ length: 400 }, (_, i) => [
      plain(`Line ${i} is about `),
      field("%company%"),
    ]).flat();
    const blocks = richTextBlocks(runs.flatMap((run, i) => (i % 2 === 1 ? [run, plain("\n")] : [run])));
    expect(blocks.length).toBeGreaterThan(3);
    for (const block of blocks) expect(textOf(block).length).toBeLessThanOrEqual(3000);
  });
});
