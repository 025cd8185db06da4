import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  cardButtonValue,
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
import { draftView, expectNoSlackMarkup, expectValidMessages, HOSTILE, textsOf } from "./fixtures.ts";

const DANA = { id: "U0DANA", name: "Dana" };
const LEE = { id: "U0LEE", name: null };
const SAMPLE_LEAD = { first_name: "Sarah", last_name: "Chen", company: "Acme", position: "VP Sales" };

const actionsOf = (messages: SlackMessage[]) =>
  messages
    .flatMap((message) => message.blocks)
    .filter((block): block is ActionsBlock => block.type === "actions");
const allText = (messages: SlackMessage[]) => textsOf(messages.map((message) => message.blocks)).join("\n");

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
    expect(text).toContain("Q3 Outbound · Step 1 · Email");
    expect(text).toContain("*Subject*\nQuick thought on `%company%`'s onboarding");
    expect(text).toContain("*Body*\nHi `%first_name%`,");
    // The AI passage is an instruction, not final text.
    expect(text).toContain("_✍ AI writes: 2-sentence pain hook tied to ‹position›._");
    expect(text).toContain("*1. Opener*\nStrategy: Reference their role and company");
    expect(text).toContain("Personalization: `first_name`, `position`, `company`");
    expect(text).toContain("Approach: Single-line, no flattery\nFallback: Generic intro tied to role");
    expect(text).toContain("*Example*\n*Subject:* Quick thought on Acme's onboarding");
    expect(text).toContain(
      "v3 · 12 words · variables: company, first_name, position, sender_first · asked by Dana, <@U0LEE>",
    );
    // The skeleton's subject and body equal the draft's: not shown twice.
    expect(text).not.toContain("Skeleton subject");
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
    expect(allText(messages)).toContain("_No body yet._");
  });

  it("shows a preview for the sample lead instead of the skeleton's example", () => {
    const view = draftView({ previewLead: SAMPLE_LEAD });
    const messages = renderDraftCard({ view, revision: 1, requestedBy: [], live: true });
    expectValidMessages(messages);
    const text = allText(messages);
    expect(text).toContain("*Preview for Sarah Chen at Acme*\n*Subject:* Quick thought on Acme's onboarding");
    expect(text).toContain("Hi Sarah,");
    expect(text).toContain("_✍ AI writes: 2-sentence pain hook tied to VP Sales._");
    // Unknown to the lead: still marked as a merge field.
    expect(text).toContain("`%sender_first%`");
    expect(text).not.toContain("*Example*");
  });

  it("renders unknown skeleton keys generically", () => {
    const skeleton = {
      hook: "Pain of slow onboarding",
      value_prop: { metric: "40%", proof: ["Acme", "Globex"] },
      tone: ["warm", "direct"],
      blocks: ["just a string", { name: "CTA", extra: 3 }],
      body: "A different template body",
      huge: "z".repeat(5000),
    };
    const messages = renderDraftCard({
      view: draftView({ skeleton }),
      revision: 1,
      requestedBy: [],
      live: false,
    });
    expectValidMessages(messages);
    const text = allText(messages);
    expect(text).toContain("*hook*: Pain of slow onboarding");
    expect(text).toContain('*value_prop*: {"metric":"40%","proof":["Acme","Globex"]}');
    expect(text).toContain("*tone*: warm, direct");
    expect(text).toContain("*1.* just a string");
    expect(text).toContain("*2. CTA*\nextra: 3");
    expect(text).toContain("*Skeleton body*\nA different template body");
    expect(text).not.toContain("z".repeat(601));
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
    expect(allText(withoutPreview)).toContain("Hi &lt;!channel&gt; and &lt;@U123&gt;");
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

  it("has no buttons when not live", () => {
    expect(
      actionsOf(renderDraftCard({ view: draftView(), revision: 1, requestedBy: [], live: false })),
    ).toEqual([]);
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
      expect(messages.at(-1)?.blocks.at(-1)?.type).toBe("actions");
      expect(messages.slice(0, -1).flatMap((message) => actionsOf([message]))).toEqual([]);
      const text = allText(messages).replace(/\s+/g, "");
      expect(text).toContain(body.replace(/\s+/g, ""));
    }
  });

  it("keeps a 60-block skeleton within limits", () => {
    const blocks = Array.from({ length: 60 }, (_, i) => ({
      name: `Block ${i}`,
      strategy: `Strategy ${i} `.repeat(20),
      personalization: { fields: ["first_name", "company"], approach: "a".repeat(100), fallback: "f" },
    }));
    const messages = renderDraftCard({
      view: draftView({ skeleton: { blocks } }),
      revision: 1,
      requestedBy: [],
      live: true,
    });
    expectValidMessages(messages);
    const text = allText(messages);
    expect(text).toContain("*1. Block 0*");
    expect(text).toContain("*60. Block 59*");
  });
});

describe("renderSupersededCard", () => {
  it("removes the buttons and says where the latest draft is", () => {
    const [card] = renderDraftCard({ view: draftView(), revision: 1, requestedBy: [], live: true });
    const superseded = renderSupersededCard(card!, 4);
    expectValidMessages([superseded]);
    expect(actionsOf([superseded])).toEqual([]);
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
    const text = allText(messages);
    expect(text).toContain("*Sarah Chen*\n*Subject:* Hi Sarah\n\nHello Sarah, `%unknown_field%` here.");
    expect(text).toContain("*Lead lead-2*");
    expect(text).toContain("*Example 3*");
    expect(text).toContain("3 examples · asked by Dana");
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
    expect(allText(messages)).toContain("*Lead lead-9*");
  });

  it("says so when there are no examples", () => {
    const messages = renderExamplesCard({ view: draftView(), requestedBy: [] });
    expectValidMessages(messages);
    expect(allText(messages)).toContain("Puffle returned no examples.");
  });
});
