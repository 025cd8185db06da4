import { WebClient } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import {
  renderSeen,
  type Seen,
  type SeenSpan,
  seenMarkdown,
  seenMrkdwn,
  seenText,
  startFakeSlack,
} from "../support/fake-slack.ts";

/** The spans carrying a look, as [text, look] pairs, for compact assertions. */
function looks(seen: Seen): [string, Omit<SeenSpan, "text">][] {
  return seen.spans.filter((span) => Object.keys(span).length > 1).map(({ text, ...look }) => [text, look]);
}

const names = { nameOf: (id: string) => ({ U0DANA: "Dana Reyes" })[id] ?? id };

describe("seenMrkdwn: Slack's mrkdwn as a person sees it", () => {
  it("turns *bold*, _italic_ and ~strike~ into styles and drops the markers", () => {
    const seen = seenMrkdwn("*bold* and _italic_ and ~strike~, (*also*)");
    expect(seen.text).toBe("bold and italic and strike, (also)");
    expect(looks(seen)).toEqual([
      ["bold", { bold: true }],
      ["italic", { italic: true }],
      ["strike", { strike: true }],
      ["also", { bold: true }],
    ]);
  });

  it("nests styles", () => {
    expect(looks(seenMrkdwn("*bold _and italic_*"))).toEqual([
      ["bold ", { bold: true }],
      ["and italic", { bold: true, italic: true }],
    ]);
  });

  it("leaves markers inside words, around spaces, unpaired or doubled as typed", () => {
    for (const text of [
      "a*b*c snake_case_name 2*3*4",
      "* not bold *",
      "price: 5*",
      "**double**",
      "~/path_to_/x",
    ]) {
      const seen = seenMrkdwn(text);
      expect(seen.text).toBe(text);
      expect(looks(seen)).toEqual([]);
    }
  });

  it("shows code and preformatted text as typed, entities decoded", () => {
    const seen = seenMrkdwn("run `*not bold* &amp; a_b_c` then\n```\nif a < b:\n  x = *y*\n```");
    expect(seen.text).toBe("run *not bold* & a_b_c then\nif a < b:\n  x = *y*");
    expect(looks(seen)).toEqual([
      ["*not bold* & a_b_c", { code: true }],
      ["if a < b:\n  x = *y*", { pre: true }],
    ]);
    expect(seenMrkdwn("```unclosed *x*").text).toBe("```unclosed x");
  });

  it("decodes only &amp;, &lt; and &gt;, once", () => {
    expect(seenMrkdwn("&lt;b&gt; &amp;amp; AT&amp;T &quot;q&quot;").text).toBe(
      "<b> &amp; AT&T &quot;q&quot;",
    );
  });

  it("shows mentions, links and known emoji; escaped brackets stay text", () => {
    const seen = seenMrkdwn(
      "<@U0DANA> see <https://x.test/a_b|the_draft> <!here> <#C0DRAFTS|drafts> :tada: :not_an_emoji: &lt;!channel&gt;",
      names,
    );
    expect(seen.text).toBe("@Dana Reyes see the_draft @here #drafts 🎉 :not_an_emoji: <!channel>");
    expect(looks(seen)).toEqual([
      ["@Dana Reyes", { mention: "U0DANA" }],
      ["the_draft", { link: "https://x.test/a_b" }],
      ["@here", { mention: "here" }],
      ["#drafts", { mention: "C0DRAFTS" }],
      ["🎉", { emoji: "tada" }],
    ]);
  });

  it("links bare URLs without reading their underscores as italics", () => {
    const seen = seenMrkdwn("see https://x.test/_a_/b_c_ now.");
    expect(seen.text).toBe("see https://x.test/_a_/b_c_ now.");
    expect(looks(seen)).toEqual([["https://x.test/_a_/b_c_", { link: "https://x.test/_a_/b_c_" }]]);
  });

  it("quotes lines starting with > or &gt;, not a > elsewhere; >>> quotes the rest", () => {
    const seen = seenMrkdwn("> quoted\nnot > quoted, 3 &gt; 2\n&gt; also quoted");
    expect(seen.text).toBe("quoted\nnot > quoted, 3 > 2\nalso quoted");
    expect(looks(seen)).toEqual([
      ["quoted", { quote: true }],
      ["also quoted", { quote: true }],
    ]);
    const rest = seenMrkdwn("intro\n>>> all\nof *this*");
    expect(rest.text).toBe("intro\nall\nof this");
    expect(looks(rest)).toEqual([
      ["all\nof ", { quote: true }],
      ["this", { quote: true, bold: true }],
    ]);
  });

  it("keeps formatting within a line", () => {
    const seen = seenMrkdwn("*starts here\nends here*");
    expect(seen.text).toBe("*starts here\nends here*");
  });
});

describe("seenMarkdown: a markdown block", () => {
  it("renders Markdown, with backslash escapes shown as the character", () => {
    const seen = seenMarkdown(
      "# Title\n**bold** and *it* and \\*not italic\\* and snake_case_name\n> quote\n- item\n1. first\n```\n*raw* &amp;\n```\n[a **link**](https://x.test) ~~old~~",
    );
    expect(seen.text).toBe(
      "Title\nbold and it and *not italic* and snake_case_name\nquote\n• item\n1. first\n*raw* &amp;\na link old",
    );
    expect(looks(seen)).toEqual([
      ["Title", { heading: true }],
      ["bold", { bold: true }],
      ["it", { italic: true }],
      ["quote", { quote: true }],
      ["*raw* &amp;", { pre: true }],
      ["a ", { link: "https://x.test" }],
      ["link", { link: "https://x.test", bold: true }],
      ["old", { strike: true }],
    ]);
  });

  it("decodes entities outside code, and shows code spans as typed", () => {
    expect(seenMarkdown("AT&amp;T &#42;x&#42; `&amp; *y*`").text).toBe("AT&T *x* &amp; *y*");
  });
});

describe("seenText / renderSeen: blocks", () => {
  const body = "Hi *team*, use `x` & <tags> > 3_000 ~~ _maybe_";

  it("shows plain_text and rich_text characters exactly, with rich_text style flags", () => {
    const seen = renderSeen([
      { type: "header", text: { type: "plain_text", text: "Draft *v1*" } },
      { type: "section", text: { type: "plain_text", text: body, emoji: false } },
      {
        type: "rich_text",
        elements: [
          {
            type: "rich_text_section",
            elements: [
              { type: "text", text: body },
              { type: "text", text: " *code*", style: { code: true } },
            ],
          },
          { type: "rich_text_preformatted", elements: [{ type: "text", text: "a_b_c" }] },
          { type: "rich_text_quote", elements: [{ type: "text", text: "&amp; stays" }] },
        ],
      },
    ]);
    expect(seen.text).toBe(`Draft *v1*\n${body}\n${body} *code*\na_b_c\n&amp; stays`);
    expect(looks(seen)).toEqual([
      ["Draft *v1*", { heading: true }],
      [" *code*", { code: true }],
      ["a_b_c", { pre: true }],
      ["&amp; stays", { quote: true }],
    ]);
  });

  it("shows why a body in mrkdwn is not literal even when escaped", () => {
    const escaped = body.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
    const seen = renderSeen([{ type: "section", text: { type: "mrkdwn", text: escaped } }]);
    expect(seen.text).not.toBe(body);
    expect(seen.text).toBe("Hi team, use x & <tags> > 3_000 ~~ maybe");
    expect(looks(seen).map(([, look]) => Object.keys(look)[0])).toEqual(["bold", "code", "italic"]);
  });

  it("turns emoji shortcodes in plain_text into emoji unless emoji is false", () => {
    expect(renderSeen([{ type: "section", text: { type: "plain_text", text: "ok :tada:" } }]).text).toBe(
      "ok 🎉",
    );
    expect(
      renderSeen([{ type: "section", text: { type: "plain_text", text: "ok :tada:", emoji: false } }]).text,
    ).toBe("ok :tada:");
  });

  it("shows fields, context, buttons and feedback buttons; nothing for dividers", () => {
    const seen = renderSeen([
      {
        type: "section",
        text: { type: "mrkdwn", text: "*Subject:* Hello" },
        fields: [{ type: "plain_text", text: "Words 120" }],
      },
      { type: "divider" },
      {
        type: "context",
        elements: [
          { type: "mrkdwn", text: "v2" },
          { type: "plain_text", text: "by Dana" },
        ],
      },
      {
        type: "actions",
        elements: [{ type: "button", text: { type: "plain_text", text: "Shorter" }, action_id: "a" }],
      },
      {
        type: "context_actions",
        elements: [
          {
            type: "feedback_buttons",
            positive_button: { text: { type: "plain_text", text: "Good" }, value: "up" },
            negative_button: { text: { type: "plain_text", text: "Bad" }, value: "down" },
          },
        ],
      },
    ]);
    expect(seen.text).toBe("Subject: Hello\nWords 120\nv2 by Dana\nShorter\n👍 👎");
    expect(looks(seen)).toEqual([
      ["Subject:", { bold: true }],
      ["Shorter", { control: true }],
      ["👍", { control: true }],
      ["👎", { control: true }],
    ]);
  });

  it("reads a message's top-level text as mrkdwn when it has no blocks", () => {
    expect(seenText({ text: "*Draft* ready" }).text).toBe("Draft ready");
    expect(seenText({ text: "fallback *x*", blocks: [{ type: "markdown", text: "**y**" }] }).text).toBe("y");
  });
});

describe("FakeSlack.seen", () => {
  it("shows a stored message with the fake's user names, a stream as its markdown then its blocks", async () => {
    const fake = await startFakeSlack();
    try {
      fake.addUser("U0DANA", "Dana Reyes");
      const client = new WebClient(fake.token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
      const posted = await client.chat.postMessage({ channel: "D0DANA", text: "<@U0DANA> your *draft*" });
      expect(fake.seen("D0DANA", posted.ts ?? "")?.text).toBe("@Dana Reyes your draft");
      const root = fake.addHumanMessage({ channel: "D0DANA", user: "U0DANA", text: "go" });
      const { ts = "" } = await client.chat.startStream({
        channel: "D0DANA",
        thread_ts: root.ts,
        markdown_text: "**Hi**",
      });
      await client.chat.stopStream({
        channel: "D0DANA",
        ts,
        blocks: [{ type: "context", elements: [{ type: "plain_text", text: "v1" }] }],
      });
      expect(fake.seen("D0DANA", ts)).toMatchObject({
        text: "Hi\nv1",
        spans: [{ text: "Hi", bold: true }, { text: "\nv1" }],
      });
      expect(fake.seen("D0DANA", "1.000000")).toBeUndefined();
    } finally {
      await fake.close();
    }
  });
});
