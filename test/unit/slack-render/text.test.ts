import { describe, expect, it } from "vitest";
import {
  authorList,
  decodeIncoming,
  escapeMrkdwn,
  markdownToMrkdwn,
  splitMrkdwn,
  splitText,
  truncate,
} from "../../../src/slack/text.ts";

describe("escapeMrkdwn", () => {
  it("turns mentions, broadcasts and links into literal text", () => {
    expect(escapeMrkdwn("<!channel> <@U123> <https://evil|x> A&B")).toBe(
      "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|x&gt; A&amp;B",
    );
  });

  it("escapes an existing entity again, so it shows as typed", () => {
    expect(escapeMrkdwn("&amp;")).toBe("&amp;amp;");
  });
});

describe("decodeIncoming", () => {
  const decode = (text: string) => decodeIncoming(text, { botUserId: "UBOT" });

  it("removes our own mention, with or without a label", () => {
    expect(decode("<@UBOT> intro email for VPs")).toBe("intro email for VPs");
    expect(decode("<@UBOT|puffle> shorter please")).toBe("shorter please");
  });

  it("turns other mentions into names", () => {
    expect(decode("ask <@U123|dana> and <@U456>")).toBe("ask @dana and @U456");
    expect(decode("post in <#C123|general> or <#C999>")).toBe("post in #general or #C999");
    expect(decode("<!here> <!channel> <!everyone>")).toBe("@here @channel @everyone");
    expect(decode("cc <!subteam^S1|@team>")).toBe("cc @team");
  });

  it("turns links into readable text", () => {
    expect(decode("see <https://x.com|label>")).toBe("see label (https://x.com)");
    expect(decode("see <https://x.com>")).toBe("see https://x.com");
    expect(decode("mail <mailto:a@b.c|a@b.c>")).toBe("mail a@b.c");
    expect(decode("typed <http://x.com|x.com>")).toBe("typed x.com");
  });

  it("decodes Slack's escapes once, after the markup", () => {
    expect(decode("VPs &amp; directors &lt;3 &gt; &amp;lt;")).toBe("VPs & directors <3 > &lt;");
  });

  it("collapses leading and trailing whitespace", () => {
    expect(decode("  <@UBOT>   \n hello \n ")).toBe("hello");
  });
});

describe("markdownToMrkdwn", () => {
  it("converts emphasis", () => {
    expect(markdownToMrkdwn("**bold** __also__ *it* _it2_ ~~gone~~ ***both***")).toBe(
      "*bold* *also* _it_ _it2_ ~gone~ *_both_*",
    );
  });

  it("leaves lone asterisks and snake_case alone", () => {
    expect(markdownToMrkdwn("2 * 3 * 4 = 24 in snake_case_name")).toBe("2 * 3 * 4 = 24 in snake_case_name");
  });

  it("shows link targets instead of hiding them", () => {
    expect(markdownToMrkdwn("read [the docs](https://x.com/a_b**c) now")).toBe(
      "read the docs (https://x.com/a_b**c) now",
    );
    expect(markdownToMrkdwn("[https://x.com](https://x.com) and <https://y.com>")).toBe(
      "https://x.com and https://y.com",
    );
    expect(markdownToMrkdwn("bare https://z.com/__init__ stays")).toBe("bare https://z.com/__init__ stays");
  });

  it("turns headings into bold lines", () => {
    expect(markdownToMrkdwn("# Plan\n## Step **one** ##\ntext")).toBe("*Plan*\n*Step one*\ntext");
  });

  it("converts bullets, keeps numbered lists", () => {
    expect(markdownToMrkdwn("- a\n* b\n+ c\n  - nested\n1. first\n2) second")).toBe(
      "• a\n• b\n• c\n  ◦ nested\n1. first\n2. second",
    );
  });

  it("keeps code verbatim (escaped only) and drops the language tag", () => {
    const markdown = "```ts\nconst a = **b** < c && <@U123>;\n- not a list\n```\nuse `**x**` here";
    expect(markdownToMrkdwn(markdown)).toBe(
      "```\nconst a = **b** &lt; c &amp;&amp; &lt;@U123&gt;;\n- not a list\n```\nuse `**x**` here",
    );
  });

  it("closes a code block the model left open", () => {
    expect(markdownToMrkdwn("```\ncode")).toBe("```\ncode\n```");
  });

  it("keeps quotes as real quote markers and escapes everything else", () => {
    expect(markdownToMrkdwn("> quoted **bold** <!channel>\n> > nested\na > b")).toBe(
      "> quoted *bold* &lt;!channel&gt;\n> nested\na &gt; b",
    );
  });

  it("turns horizontal rules into a line", () => {
    expect(markdownToMrkdwn("a\n---\n* * *\nb")).toBe("a\n———\n———\nb");
  });

  it("never produces < or > except a quote marker at line start", () => {
    const hostile = "<!channel> <@U123> <https://evil.example|x> [t](https://a.b) > x <b>\n```\n<@U1>\n```";
    for (const line of markdownToMrkdwn(hostile).split("\n")) {
      expect(line.replace(/^> ?/, "")).not.toMatch(/[<>]/);
    }
  });
});

/** A seeded generator, so the property test is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function randomText(random: () => number, length: number): string {
  const pieces = ["word", "&amp;", "&lt;", " ", " ", "\n", "\n\n", ". ", "! ", "longerword", "😀", "é"];
  let text = "";
  while (text.length < length) text += pieces[Math.floor(random() * pieces.length)];
  return text;
}

const withoutWhitespace = (text: string) => text.replace(/\s+/g, "");

describe("splitText", () => {
  it("keeps every chunk within the limit and loses nothing but whitespace at the cuts", () => {
    const random = seededRandom(7);
    for (let run = 0; run < 200; run += 1) {
      const text = randomText(random, Math.floor(random() * 3000));
      const max = 10 + Math.floor(random() * 400);
      const chunks = splitText(text, max);
      for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(max);
      expect(withoutWhitespace(chunks.join(""))).toBe(withoutWhitespace(text));
      // No cut inside an entity or an emoji.
      for (const chunk of chunks) {
        expect(chunk).not.toMatch(/&[a-z]{0,3}$/);
        expect(chunk).not.toMatch(/[\uD800-\uDBFF]$/);
      }
    }
  });

  it("splits a 10,000-character text without spaces mid-word, in order", () => {
    const text = "abcdefghij".repeat(1000);
    const chunks = splitText(text, 3000);
    expect(chunks.map((chunk) => chunk.length)).toEqual([3000, 3000, 3000, 1000]);
    expect(chunks.join("")).toBe(text);
  });

  it("prefers paragraph breaks, then lines, then sentences, then spaces", () => {
    const paragraph = `${"a".repeat(60)}\n${"b".repeat(20)}. ${"c".repeat(10)}`;
    expect(splitText(`${paragraph}\n\n${paragraph}`, 100)).toEqual([paragraph, paragraph]);
    expect(splitText(paragraph, 90)).toEqual(["a".repeat(60), `${"b".repeat(20)}. ${"c".repeat(10)}`]);
    expect(splitText(`${"b".repeat(60)}. ${"c".repeat(20)} ${"d".repeat(10)}`, 90)).toEqual([
      `${"b".repeat(60)}.`,
      `${"c".repeat(20)} ${"d".repeat(10)}`,
    ]);
    expect(splitText(`${"c".repeat(60)} ${"d".repeat(20)} e`, 82)).toEqual([
      `${"c".repeat(60)} ${"d".repeat(20)}`,
      "e",
    ]);
  });

  it("never cuts through an escape entity", () => {
    expect(splitText("abcd&amp;efgh", 6)).toEqual(["abcd", "&amp;e", "fgh"]);
  });

  it("returns short text whole, and nothing for empty text", () => {
    expect(splitText("short", 10)).toEqual(["short"]);
    expect(splitText("", 10)).toEqual([]);
  });
});

describe("splitMrkdwn", () => {
  it("closes a code block at the cut and reopens it in the next chunk", () => {
    const code = `\`\`\`\n${Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n")}\n\`\`\``;
    const chunks = splitMrkdwn(`intro\n\n${code}\n\nafter`, 120);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(120);
      expect((chunk.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
  });
});

describe("truncate", () => {
  it("cuts with an ellipsis, never through an entity", () => {
    expect(truncate("short", 10)).toBe("short");
    expect(truncate("hello world", 8)).toBe("hello w…");
    expect(truncate("abc &amp; def", 8)).toBe("abc…");
  });
});

describe("authorList", () => {
  it("escapes names and mentions only real Slack user ids", () => {
    expect(
      authorList([
        { id: "U1", name: "Dana <!here>" },
        { id: "U0LEE", name: null },
        { id: "<!channel>", name: null },
      ]),
    ).toBe("Dana &lt;!here&gt;, <@U0LEE>, &lt;!channel&gt;");
  });
});
