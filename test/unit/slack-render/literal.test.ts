// SPEC section 9, "The body is shown literally": read through the fake Slack's renderer, a card shows
// Puffle's subject and body character for character (what copying gives), and the only looks in them are
// the ones we add on purpose: merge fields in code style, `&&...&&` AI passages in italics.

import { describe, expect, it } from "vitest";
import type { LeadInput } from "../../../src/puffle/schemas.ts";
import { SLACK_LIMITS } from "../../../src/slack/limits.ts";
import type { SlackMessage } from "../../../src/slack/render/blocks.ts";
import {
  renderDraftCard,
  renderExamplesCard,
  renderSupersededCard,
} from "../../../src/slack/render/draft-card.ts";
import { AI_PASSAGE_NOTE } from "../../../src/slack/render/template-text.ts";
import { validateMessage } from "../../support/block-kit-limits.ts";
import { type Seen, type SeenSpan, seenMrkdwn } from "../../support/fake-slack.ts";
import { draftView, expectNoSlackMarkup, expectValidMessages, seenOf, spansBetween } from "./fixtures.ts";

/** Text Slack would format, ping, link or turn into a picture if it parsed it. */
const TRICKY: Record<string, string> = {
  bold: "This is *bold* on purpose",
  italic: "an _x_ here",
  strike: "a ~y~ there",
  code: "run `code` now",
  fence: "```\nconst a = 1;\n```",
  quote: "> a line starting with a quote marker",
  "quote at the end": "ok\n>>> the rest",
  entities: "Tom &amp; Jerry &lt;3 &gt; &quot;",
  angles: "a < b > c & d <= e",
  channel: "Heads up <!channel> and <!here>",
  user: "ping <@U123> now",
  link: "see <https://evil.example|x> or <https://evil.example>",
  emoji: "Congrats :tada: :white_check_mark:",
};

const LEAD: LeadInput = { first_name: "Sarah", last_name: "Chen", company: "Acme", position: "VP Sales" };
const FIELD = /%[a-z][a-z0-9_]*%|\{\{\s*[a-z][a-z0-9_]*\s*\}\}/gi;
const AI_PASSAGE = /&&[\s\S]*?&&/g;

/**
 * The looks a template should have, worked out on its own: plain text, code-styled merge fields, AI
 * passages in italics (their fields code and italic). Neighbours with the same look are joined, as seen.
 */
function expectedLooks(template: string): SeenSpan[] {
  const spans: SeenSpan[] = [];
  const push = (span: SeenSpan) => {
    const last = spans.at(-1);
    if (span.text && last && last.italic === span.italic && last.code === span.code) last.text += span.text;
    else if (span.text) spans.push(span);
  };
  const withFields = (text: string, italic: boolean) => {
    let last = 0;
    for (const match of text.matchAll(FIELD)) {
      push({ text: text.slice(last, match.index), ...(italic ? { italic: true } : {}) });
      push({ text: match[0], ...(italic ? { italic: true } : {}), code: true });
      last = match.index + match[0].length;
    }
    push({ text: text.slice(last), ...(italic ? { italic: true } : {}) });
  };
  let last = 0;
  for (const match of template.matchAll(AI_PASSAGE)) {
    withFields(template.slice(last, match.index), false);
    withFields(match[0], true);
    last = match.index + match[0].length;
  }
  withFields(template.slice(last), false);
  return spans;
}

/** `before` + `template` + `after` is shown, and the template's characters look exactly as expected. */
function expectShownLiterally(seen: Seen, before: string, template: string, after = "\n"): void {
  const at = seen.text.indexOf(`${before}${template}${after}`);
  expect(at, `${JSON.stringify(before + template)} in ${JSON.stringify(seen.text)}`).toBeGreaterThanOrEqual(
    0,
  );
  const start = at + before.length;
  expect(spansBetween(seen, start, start + template.length)).toEqual(expectedLooks(template));
}

const fill = (text: string) => text.replaceAll("%first_name%", "Sarah").replaceAll("%company%", "Acme");

function card(subject: string, body: string, extra: Parameters<typeof draftView>[0] = {}): SlackMessage[] {
  const view = draftView({ subject, body, skeleton: null, ...extra });
  const messages = renderDraftCard({ view, revision: 1, requestedBy: [], live: true });
  expectValidMessages(messages);
  expectNoSlackMarkup(messages);
  return messages;
}

describe("the draft card shows Puffle's text literally", () => {
  for (const [name, tricky] of Object.entries(TRICKY)) {
    it(`${name}: subject, body and preview show the characters as written`, () => {
      const subject = `Re: ${tricky.split("\n")[0]} for %company%`;
      const body = `Hi %first_name%,\n\n${tricky}\n\nBest from {{company}}`;
      const messages = card(subject, body, { previewLead: LEAD });
      const seen = seenOf(messages);
      expectShownLiterally(seen, "Subject\n", subject);
      expectShownLiterally(seen, "Body\n", body);
      // The preview fills `%...%` fields from the lead; `{{company}}` is left as it is, still marked.
      expectShownLiterally(seen, "Preview for Sarah Chen at Acme\nSubject: ", fill(subject), "\n\n");
      expectShownLiterally(seen, `${fill(subject)}\n\n`, fill(body));
      expect(seen.spans.filter((span) => span.emoji || span.mention || span.link || span.quote)).toEqual([]);
      expect(seen.spans.filter((span) => span.pre || span.strike)).toEqual([]);
    });
  }

  it("keeps a card's literal text when it is superseded", () => {
    const body = Object.values(TRICKY).join("\n");
    const [live] = card("Subject *x*", body);
    const superseded = renderSupersededCard(live!, 2);
    expectValidMessages([superseded]);
    expectShownLiterally(seenOf([superseded]), "Body\n", body);
  });

  it("keeps the notification text (escaped mrkdwn) harmless: no ping, no disguised link", () => {
    const [message] = card(`${TRICKY.channel} ${TRICKY.user} ${TRICKY.link}`, "Hi");
    const seen = seenMrkdwn(message!.text);
    expect(seen.spans.filter((span) => span.mention)).toEqual([]);
    // Slack may link a bare URL, which shows where it goes; no label hides a target.
    expect(seen.spans.filter((span) => span.link && span.link !== span.text)).toEqual([]);
    expect(seen.text).toContain(`Draft v3: ${TRICKY.channel} ${TRICKY.user} see <https://evil.example|x`);
  });
});

describe("AI passages are shown as instructions, their characters kept", () => {
  it("shows `&&...&&` in italics with a note by the label, and copies as written", () => {
    const body = "Hi %first_name%,\n\n&&write about their Q3 launch&&\n\nBest";
    const seen = seenOf(card("Quick one", body));
    // The only added characters are the note on the label's line, outside the body.
    expectShownLiterally(seen, `Body${AI_PASSAGE_NOTE}\n`, body);
    expect(spansBetween(seen, seen.text.indexOf("Body"), seen.text.indexOf("Body") + 4)).toEqual([
      { text: "Body", bold: true },
    ]);
    expect(seen.text).toContain("\n&&write about their Q3 launch&&\n");
    expect(seen.spans).toContainEqual({ text: "&&write about their Q3 launch&&", italic: true });
    // No note where there is no passage.
    expect(seen.text).toContain("Subject\nQuick one\n");
  });

  it("marks fields inside a passage and leaves its other characters alone", () => {
    const body = "&&mention %company%'s *launch* and <!here>,\nover two lines&& then :tada:";
    const seen = seenOf(card("s", body));
    expectShownLiterally(seen, `Body${AI_PASSAGE_NOTE}\n`, body);
    expect(seen.spans).toContainEqual({ text: "%company%", italic: true, code: true });
  });

  it("does the same in the examples card", () => {
    const examples = [{ lead_id: "l1", subject: "Re: &&a subject idea&&", body: "Hi,\n&&write about Q3&&" }];
    const messages = renderExamplesCard({ view: draftView({ examples }), requestedBy: [] });
    expectValidMessages(messages);
    expectShownLiterally(
      seenOf(messages),
      `Lead l1${AI_PASSAGE_NOTE}\nSubject: `,
      "Re: &&a subject idea&&",
      "\n\n",
    );
    expectShownLiterally(seenOf(messages), "Re: &&a subject idea&&\n\n", "Hi,\n&&write about Q3&&", "\n");
  });
});

describe("the examples card shows each lead's subject and body literally", () => {
  it("for every tricky text, and for a lead name with markup in it", () => {
    const examples = Object.values(TRICKY).map((tricky, i) => ({
      lead_id: `lead-${i}`,
      subject: `Re: ${tricky.split("\n")[0]}`,
      body: `Hi Sarah,\n${tricky}\n%unknown_field% stays marked`,
    }));
    const leadNames = { "lead-0": "*Sarah* <!here> & co" };
    const messages = renderExamplesCard({ view: draftView({ examples }), requestedBy: [], leadNames });
    expectValidMessages(messages);
    expectNoSlackMarkup(messages);
    const seen = seenOf(messages);
    for (const [i, example] of examples.entries()) {
      const name = i === 0 ? "*Sarah* <!here> & co" : `Lead lead-${i}`;
      expectShownLiterally(seen, `${name}\nSubject: `, example.subject, "\n\n");
      expectShownLiterally(seen, `${example.subject}\n\n`, example.body);
    }
    expect(seen.spans).toContainEqual({ text: "*Sarah* <!here> & co", bold: true });
    expect(seen.spans.filter((span) => span.emoji || span.mention || span.link || span.quote)).toEqual([]);
  });
});

describe("a 10,000-character body", () => {
  const paragraph = (i: number) =>
    `Paragraph ${i}: %first_name%, *our* _team_ at {{company}} & <you> ~ship~ \`fast\` :rocket:\n> noted`;

  /** Where the body is in what is seen: after its label, up to the preview or the summary line. */
  function bodyOf(messages: SlackMessage[]): { seen: Seen; start: number; end: number } {
    const seen = seenOf(messages);
    const start = seen.text.indexOf("Body\n") + "Body\n".length;
    const preview = seen.text.indexOf("\nPreview for ");
    return { seen, start, end: preview >= 0 ? preview : seen.text.lastIndexOf("\nv3 · ") };
  }

  function expectWithinLimits(messages: SlackMessage[]): void {
    for (const message of messages) {
      expect(validateMessage(message)).toBeUndefined();
      for (const block of message.blocks) {
        if (block.type !== "rich_text") continue;
        const text = block.elements.flatMap((section) => section.elements.map((element) => element.text));
        expect(text.join("").length).toBeLessThanOrEqual(SLACK_LIMITS.richTextBlockText);
      }
    }
    // The buttons and the thumbs end the last message.
    expect(
      messages
        .at(-1)
        ?.blocks.slice(-2)
        .map((block) => block.type),
    ).toEqual(["actions", "context_actions"]);
  }

  it("with paragraphs is shown in full and exactly, across blocks and messages", () => {
    let body = "";
    for (let i = 0; body.length < 10_000; i += 1) body += `${i > 0 ? "\n\n" : ""}${paragraph(i)}`;
    const messages = card("Long one", body, { previewLead: LEAD });
    expectWithinLimits(messages);
    // With the preview, the card holds 20,000 characters of draft: more than one message.
    expect(messages.length).toBeGreaterThan(1);
    const { seen, start, end } = bodyOf(messages);
    expect(seen.text.slice(start, end)).toBe(body);
    expect(spansBetween(seen, start, end)).toEqual(expectedLooks(body));
    expectShownLiterally(seen, "Subject: Long one\n\n", fill(body), "\nv3 · ");
  });

  it("on one line is shown in full; a space at each cut becomes the break between blocks", () => {
    let body = "";
    for (let i = 0; body.length < 10_000; i += 1) body += `${paragraph(i).replace("\n", " ")} `;
    const messages = card("Long one", body.trim());
    expectWithinLimits(messages);
    const { seen, start, end } = bodyOf(messages);
    const shown = seen.text.slice(start, end);
    expect(shown.replaceAll("\n", " ")).toBe(body.trim());
    // Every field is whole and marked: the cuts fell between words.
    const fields = spansBetween(seen, start, end).filter((span) => span.code);
    expect(fields.map((span) => span.text)).toEqual(body.match(FIELD));
  });

  it("without any space is cut mid-word, never inside a merge field", () => {
    const body = "abcdefghi%first_name%".repeat(500);
    const messages = card("Long one", body);
    expectWithinLimits(messages);
    const { seen, start, end } = bodyOf(messages);
    expect(seen.text.slice(start, end).replaceAll("\n", "")).toBe(body);
    const fields = spansBetween(seen, start, end).filter((span) => span.code);
    expect(fields.map((span) => span.text).join("")).toBe("%first_name%".repeat(500));
    expect(fields.every((span) => /^(%first_name%)+$/.test(span.text))).toBe(true);
  });
});
