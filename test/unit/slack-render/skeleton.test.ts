import { describe, expect, it } from "vitest";
import { renderDraftCard } from "../../../src/slack/render/draft-card.ts";
import { draftView, expectValidMessages, looksOf, seenOf } from "./fixtures.ts";

describe("the draft card's skeleton", () => {
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
    const shown = seenOf(messages);
    expect(looksOf(shown, "hook: Pain of slow onboarding")).toEqual([
      { text: "hook", bold: true },
      { text: ": Pain of slow onboarding" },
    ]);
    expect(looksOf(shown, 'value_prop: {"metric":"40%","proof":["Acme","Globex"]}')).toEqual([
      { text: "value_prop", bold: true },
      { text: ': {"metric":"40%","proof":["Acme","Globex"]}' },
    ]);
    expect(looksOf(shown, "tone: warm, direct")).toEqual([
      { text: "tone", bold: true },
      { text: ": warm, direct" },
    ]);
    expect(looksOf(shown, "1. just a string")).toEqual([
      { text: "1.", bold: true },
      { text: " just a string" },
    ]);
    expect(looksOf(shown, "2. CTA\nextra: 3")).toEqual([
      { text: "2. CTA", bold: true },
      { text: "\nextra: 3" },
    ]);
    expect(looksOf(shown, "Skeleton body\nA different template body")).toEqual([
      { text: "Skeleton body", bold: true },
      { text: "\nA different template body" },
    ]);
    expect(shown.text).toContain(`huge: ${"z".repeat(599)}`);
    expect(shown.text).not.toContain("z".repeat(601));
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
    const shown = seenOf(messages);
    expect(looksOf(shown, "1. Block 0")).toEqual([{ text: "1. Block 0", bold: true }]);
    expect(looksOf(shown, "60. Block 59")).toEqual([{ text: "60. Block 59", bold: true }]);
  });

  it("shows Puffle's skeleton text literally, labels bold and fields marked", () => {
    const strategy = "Open with *their* launch_date, `quoted` & <!here> :tada:";
    const skeleton = {
      blocks: [{ name: "Hook *1*", strategy, personalization: { fields: ["first_name"] } }],
      exampleBody: "> Hi %first_name%\n&&one line on ~growth~&&",
    };
    const messages = renderDraftCard({
      view: draftView({ skeleton }),
      revision: 1,
      requestedBy: [],
      live: false,
    });
    expectValidMessages(messages);
    const shown = seenOf(messages);
    expect(looksOf(shown, `1. Hook *1*\nStrategy: ${strategy}\nPersonalization: first_name`)).toEqual([
      { text: "1. Hook *1*", bold: true },
      { text: `\nStrategy: ${strategy}\nPersonalization: ` },
      { text: "first_name", code: true },
    ]);
    expect(looksOf(shown, "> Hi %first_name%\n&&one line on ~growth~&&")).toEqual([
      { text: "> Hi " },
      { text: "%first_name%", code: true },
      { text: "\n" },
      { text: "&&one line on ~growth~&&", italic: true },
    ]);
  });
});
