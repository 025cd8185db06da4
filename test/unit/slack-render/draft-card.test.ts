import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  cardButtonValue,
  parseFeedbackButtonValue,
  REFINES,
  type RefineKind,
  refineActionId,
} from "../../../src/slack/ids.ts";
import type { ActionsBlock, Block, SlackMessage } from "../../../src/slack/render/blocks.ts";
import {
  renderDraftCard,
  renderExamplesCard,
  renderSupersededCard,
} from "../../../src/slack/render/draft-card.ts";
import { AI_PASSAGE_NOTE } from "../../../src/slack/render/template-text.ts";
import {
  draftView,
  expectNoSlackMarkup,
  expectValidMessages,
  HOSTILE,
  looksOf,
  seenOf,
  textsOf,
} from "./fixtures.ts";

const DANA = { id: "U0DANA", name: "Dana" };
const LEE = { id: "U0LEE", name: null };
const SAMPLE_LEAD = { first_name: "Sarah", last_name: "Chen", company: "Acme", position: "VP Sales" };

const actionsOf = (messages: SlackMessage[]) =>
  messages
    .flatMap((message) => message.blocks)
    .filter((block): block is ActionsBlock => block.type === "actions");
const feedbackOf = (messages: SlackMessage[]) =>
  messages.flatMap((message) => message.blocks).filter((block) => block.type === "context_actions");
const allText = (messages: SlackMessage[]) => textsOf(messages.map((message) => message.blocks)).join("\n");
/** What a person sees: the draft's own characters, with our labels and markers as styles. */
const seen = (messages: SlackMessage[]) => seenOf(messages).text;

describe("renderDraftCard", () => {
  it("shows header, place, subject, body, skeleton and a summary line", () => {
    const messages = renderDraftCard({
      view: draftView(),
      revision: 4,
      requestedBy: [DANA, LEE],
      live: true,
    });
    expectValidMessages(messages);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.blocks[0]).toMatchObject({ type: "header", text: { text: "Draft v3" } });
    expect(message?.text).toBe("Draft v3: Quick thought on %company%'s onboarding");
    const text = allText(messages);
    const shown = seenOf(messages);
    expect(shown.text).toContain("Q3 Outbound · Step 1 · Email");
    expect(shown.text).toContain("Subject\nQuick thought on %company%'s onboarding");
    expect(looksOf(shown, "Subject")).toEqual([{ text: "Subject", bold: true }]);
    expect(looksOf(shown, "%company%")).toEqual([{ text: "%company%", code: true }]);
    expect(shown.text).toContain(`Body${AI_PASSAGE_NOTE}\nHi %first_name%,`);
    expect(looksOf(shown, "Body")).toEqual([{ text: "Body", bold: true }]);
    expect(looksOf(shown, "%first_name%")).toEqual([{ text: "%first_name%", code: true }]);
    // The AI passage is an instruction, not final text.
    expect(looksOf(shown, "&&2-sentence pain hook tied to %position%.&&")).toEqual([
      { text: "&&2-sentence pain hook tied to ", italic: true },
      { text: "%position%", italic: true, code: true },
      { text: ".&&", italic: true },
    ]);
    expect(shown.text).toContain("1. Opener\nStrategy: Reference their role and company");
    expect(looksOf(shown, "1. Opener")).toEqual([{ text: "1. Opener", bold: true }]);
    expect(looksOf(shown, "Personalization: first_name, position, company")).toEqual([
      { text: "Personalization: " },
      { text: "first_name", code: true },
      { text: ", " },
      { text: "position", code: true },
      { text: ", " },
      { text: "company", code: true },
    ]);
    expect(shown.text).toContain("Approach: Single-line, no flattery\nFallback: Generic intro tied to role");
    expect(looksOf(shown, "Example\nSubject: Quick thought on Acme's onboarding")).toEqual([
      { text: "Example", bold: true },
      { text: "\n" },
      { text: "Subject: ", bold: true },
      { text: "Quick thought on Acme's onboarding" },
    ]);
    expect(text).toContain(
      "v3 · 12 words · variables: company, first_name, position, sender_first · asked by Dana, <@U0LEE>",
    );
    // The skeleton's subject and body equal the draft's: not shown twice.
    expect(shown.text).not.toContain("Skeleton subject");
  });

  it("says 'Draft' when there is no framework version yet, and copes with an empty draft", () => {
    const view = draftView({
      frameworkVersion: null,
      subject: null,
      body: null,
      skeleton: null,
      wordCount: 0,
    });
    const messages = renderDraftCard({ view, revision: 1, requestedBy: [], live: false });
    expectValidMessages(messages);
    expect(messages[0]?.blocks[0]).toMatchObject({ type: "header", text: { text: "Draft" } });
    expect(seen(messages)).toContain("Body\nNo body yet.");
    expect(looksOf(seenOf(messages), "No body yet.")).toEqual([{ text: "No body yet.", italic: true }]);
  });

  it("shows a preview for the sample lead instead of the skeleton's example", () => {
    const view = draftView({ previewLead: SAMPLE_LEAD });
    const messages = renderDraftCard({ view, revision: 1, requestedBy: [], live: true });
    expectValidMessages(messages);
    const shown = seenOf(messages);
    expect(shown.text).toContain(
      `Preview for Sarah Chen at Acme${AI_PASSAGE_NOTE}\nSubject: Quick thought on Acme's onboarding`,
    );
    expect(looksOf(shown, "Preview for Sarah Chen at Acme")).toEqual([
      { text: "Preview for Sarah Chen at Acme", bold: true },
    ]);
    expect(shown.text).toContain("\n\nHi Sarah,");
    expect(looksOf(shown, "&&2-sentence pain hook tied to VP Sales.&&")).toEqual([
      { text: "&&2-sentence pain hook tied to VP Sales.&&", italic: true },
    ]);
    // Unknown to the lead: still marked as a merge field (the draft above shows it too: the second one).
    expect(looksOf(shown, "%sender_first%", 1)).toEqual([{ text: "%sender_first%", code: true }]);
    expect(shown.text).not.toMatch(/^Example$/m);
  });

  it("escapes model text everywhere: subject, body, skeleton, preview", () => {
    const view = draftView({
      subject: HOSTILE,
      body: `${HOSTILE}\n\n&&${HOSTILE}&&`,
      skeleton: {
        blocks: [
          { name: HOSTILE, strategy: HOSTILE, personalization: { fields: [HOSTILE], approach: HOSTILE } },
        ],
        [HOSTILE]: HOSTILE,
        nested: { text: HOSTILE },
        exampleBody: HOSTILE,
      },
      variables: [HOSTILE],
    });
    const withoutPreview = renderDraftCard({ view, revision: 1, requestedBy: [LEE], live: true });
    const withPreview = renderDraftCard({
      view: { ...view, previewLead: { full_name: HOSTILE, company: HOSTILE } },
      revision: 1,
      requestedBy: [LEE],
      live: true,
    });
    for (const messages of [withoutPreview, withPreview]) {
      expectValidMessages(messages);
      expectNoSlackMarkup(messages, [LEE.id]);
    }
    // The words are still there for people to read, exactly as written.
    expect(seen(withoutPreview)).toContain(`Subject\n${HOSTILE}\nBody`);
  });

  it("has refine and action buttons carrying the session and revision when live", () => {
    const view = draftView();
    const messages = renderDraftCard({ view, revision: 7, requestedBy: [], live: true });
    const [refine, more] = actionsOf(messages);
    const value = cardButtonValue(view.sessionId, 7);
    const kinds = Object.keys(REFINES) as RefineKind[];
    expect(refine?.elements.map((b) => [b.action_id, b.text.text, b.value])).toEqual([
      ...kinds.map((kind) => [refineActionId(kind), REFINES[kind].label, value]),
      [ACTIONS.custom, "Custom...", value],
    ]);
    expect(more?.elements.map((b) => [b.action_id, b.value])).toEqual([
      [ACTIONS.examples, value],
      [ACTIONS.edit, value],
      [ACTIONS.save, value],
    ]);
    expect(more?.elements[2]?.confirm).toEqual({
      title: { type: "plain_text", text: "Save to campaign?", emoji: true },
      text: {
        type: "plain_text",
        text: "This writes the subject and body to Q3 Outbound · Step 1 · Email in Puffle.",
        emoji: true,
      },
      confirm: { type: "plain_text", text: "Save", emoji: true },
      deny: { type: "plain_text", text: "Cancel", emoji: true },
    });
  });

  it("ends with thumbs up and down whose values name the rating, the session and the revision", () => {
    const view = draftView();
    const messages = renderDraftCard({ view, revision: 7, requestedBy: [], live: true });
    expectValidMessages(messages);
    expect(messages[0]?.blocks.at(-1)).toEqual({
      type: "context_actions",
      elements: [
        {
          type: "feedback_buttons",
          action_id: ACTIONS.feedback,
          positive_button: {
            text: { type: "plain_text", text: "Good draft", emoji: true },
            value: `up:${view.sessionId}:7`,
            accessibility_label: "This draft works",
          },
          negative_button: {
            text: { type: "plain_text", text: "Needs changes", emoji: true },
            value: `down:${view.sessionId}:7`,
            accessibility_label: "This draft needs changes: say what",
          },
        },
      ],
    });
    expect(parseFeedbackButtonValue(`down:${view.sessionId}:7`)).toEqual({
      rating: "down",
      sessionId: view.sessionId,
      revision: 7,
    });
    for (const forged of [`sideways:${view.sessionId}:7`, `up:${view.sessionId}`, "up", 7, undefined])
      expect(parseFeedbackButtonValue(forged)).toBeUndefined();
  });

  it("has no buttons and no thumbs when not live", () => {
    const messages = renderDraftCard({ view: draftView(), revision: 1, requestedBy: [], live: false });
    expect(actionsOf(messages)).toEqual([]);
    expect(feedbackOf(messages)).toEqual([]);
  });

  it("splits a 10,000-character body across sections and messages, losing nothing", () => {
    const words = Array.from({ length: 1700 }, (_, i) => `word${i}`).join(" ");
    const noSpaces = "abcdefghij".repeat(1000);
    for (const body of [words, noSpaces]) {
      const view = draftView({ body, previewLead: SAMPLE_LEAD });
      const messages = renderDraftCard({ view, revision: 2, requestedBy: [DANA], live: true });
      expectValidMessages(messages);
      expect(messages.length).toBeGreaterThan(1);
      expect(messages[0]?.blocks[0]?.type).toBe("header");
      expect(
        messages
          .at(-1)
          ?.blocks.slice(-2)
          .map((block) => block.type),
      ).toEqual(["actions", "context_actions"]);
      expect(messages.slice(0, -1).flatMap((message) => actionsOf([message]))).toEqual([]);
      expect(messages.slice(0, -1).flatMap((message) => feedbackOf([message]))).toEqual([]);
      const text = allText(messages).replace(/\s+/g, "");
      expect(text).toContain(body.replace(/\s+/g, ""));
    }
  });
});

describe("renderSupersededCard", () => {
  it("removes the buttons and the thumbs and says where the latest draft is", () => {
    const [card] = renderDraftCard({ view: draftView(), revision: 1, requestedBy: [], live: true });
    expect(feedbackOf([card!])).toHaveLength(1);
    const superseded = renderSupersededCard(card!, 4);
    expectValidMessages([superseded]);
    expect(actionsOf([superseded])).toEqual([]);
    expect(feedbackOf([superseded])).toEqual([]);
    expect(superseded.blocks[0]).toMatchObject({
      type: "context",
      elements: [{ text: "Superseded by v4 below. Buttons are on the latest draft." }],
    });
    expect(superseded.text).toBe(card?.text);
  });

  it("says 'edited' when the new draft keeps the version (an Edit does not bump it)", () => {
    const [card] = renderDraftCard({
      view: draftView({ frameworkVersion: 3 }),
      revision: 1,
      requestedBy: [],
      live: true,
    });
    const replaced = renderSupersededCard(card!, 3);
    expect(replaced.blocks[0]).toMatchObject({
      type: "context",
      elements: [{ text: "Replaced by the edited draft below. Buttons are on the latest draft." }],
    });
  });

  it("drops trailing blocks when the card was already at the limit", () => {
    const full: Block[] = Array.from({ length: 50 }, (_, i) => ({
      type: "section",
      text: { type: "mrkdwn", text: `${i} ${"x".repeat(215)}` },
    }));
    const superseded = renderSupersededCard({ text: "Draft v1", blocks: full }, 2);
    expectValidMessages([superseded]);
    expect(superseded.blocks).toHaveLength(50);
    expect(superseded.blocks.at(-1)).toEqual(full[48]);
  });
});

describe("renderExamplesCard", () => {
  const examples = [
    { lead_id: "lead-1", subject: "Hi Sarah", body: "Hello Sarah, %unknown_field% here." },
    { lead_id: "lead-2", subject: HOSTILE, body: HOSTILE },
    { lead_id: null, subject: null, body: null },
  ];

  it("shows one entry per example with the lead's name when known", () => {
    const messages = renderExamplesCard({
      view: draftView({ examples }),
      requestedBy: [DANA],
      leadNames: { "lead-1": "Sarah Chen" },
    });
    expectValidMessages(messages);
    expect(messages[0]?.blocks[0]).toMatchObject({ type: "header", text: { text: "Examples for v3" } });
    const shown = seenOf(messages);
    expect(looksOf(shown, "Sarah Chen\nSubject: Hi Sarah\n\nHello Sarah, %unknown_field% here.")).toEqual([
      { text: "Sarah Chen", bold: true },
      { text: "\n" },
      { text: "Subject: ", bold: true },
      { text: "Hi Sarah\n\nHello Sarah, " },
      { text: "%unknown_field%", code: true },
      { text: " here." },
    ]);
    expect(looksOf(shown, "Lead lead-2\n")[0]).toEqual({ text: "Lead lead-2", bold: true });
    expect(looksOf(shown, "Example 3\n")[0]).toEqual({ text: "Example 3", bold: true });
    expect(shown.text).toContain("Example 3\nSubject: none\n\nNo body.");
    expect(allText(messages)).toContain("3 examples · asked by Dana");
    expectNoSlackMarkup(messages);
  });

  it("splits many long examples across messages", () => {
    const long = Array.from({ length: 10 }, (_, i) => ({
      lead_id: `lead-${i}`,
      subject: `Subject ${i}`,
      body: `Paragraph ${i}. `.repeat(250),
    }));
    const messages = renderExamplesCard({ view: draftView({ examples: long }), requestedBy: [] });
    expectValidMessages(messages);
    expect(messages.length).toBeGreaterThan(1);
    expect(looksOf(seenOf(messages), "Lead lead-9\n")[0]).toEqual({ text: "Lead lead-9", bold: true });
  });

  it("says so when there are no examples", () => {
    const messages = renderExamplesCard({ view: draftView(), requestedBy: [] });
    expectValidMessages(messages);
    expect(allText(messages)).toContain("Puffle returned no examples.");
  });
});
