import { describe, expect, it } from "vitest";
import { type Draft, draftTurn, renderForLead, type TurnInput } from "../../emulator/drafting.ts";

const BRIEF = "Intro email for VPs of Sales";

function turn(message: string, currentDraft: Draft | null, overrides: Partial<TurnInput> = {}) {
  return draftTurn({
    message,
    brief: BRIEF,
    isFirstTurn: false,
    currentDraft,
    nextVersion: 2,
    sampleLead: undefined,
    ...overrides,
  });
}

function firstFramework(): Draft {
  const draft = turn("VPs at Series B SaaS", null).revision?.draft;
  if (!draft) throw new Error("no framework");
  return draft;
}

describe("the fake framework model", () => {
  it("never shortens below one paragraph plus the ask and the sign-off", () => {
    let draft = firstFramework();
    const lengths: number[] = [];
    for (let i = 0; i < 8; i++) {
      draft = turn("shorter", draft).revision?.draft ?? draft;
      lengths.push(draft.body.length);
    }
    expect(lengths[1]).toBeLessThan(lengths[0] ?? 0);
    expect(new Set(lengths.slice(-3)).size).toBe(1);
    const paragraphs = draft.body.split("\n\n");
    expect(paragraphs[0]).toBe("Hi %first_name%,");
    expect(paragraphs.at(-1)).toBe("Best,\n%sender_first%");
    expect(paragraphs.length).toBeGreaterThanOrEqual(3);
  });

  it("keeps user text from opening merge fields or AI passages in the template", () => {
    const draft = turn("answer with 100% && more", null, { brief: "Brief with %weird% && stuff" }).revision
      ?.draft;
    const withoutPassage = draft?.body.replace(/&&[\s\S]*?&&/g, "") ?? "";
    expect(withoutPassage).not.toContain("&&");
    expect(draft?.body.match(/&&/g)).toHaveLength(2);
    expect(draft?.body).not.toContain("%weird%");
  });

  it("applies every instruction of a merged turn", () => {
    const base = firstFramework();
    const outcome = turn("Dana: make it shorter\nLee: new subject line please\nKim: warmer", base);
    expect(outcome.revision?.draft.subject).not.toBe(base.subject);
    expect(outcome.assistant).toMatch(/Shorter/);
    expect(outcome.assistant).toMatch(/New subject line/);
    expect(outcome.assistant).toMatch(/Warmer/);
  });

  it("fills merge fields with fallbacks and custom fields, and writes the AI passage for the lead", () => {
    const text = renderForLead("Hi %first_name% at %company% (%industry%, %unknown%) &&hook&&", {
      company: "Acme",
      custom_fields: { industry: "Robotics", team_size: 12 },
    });
    expect(text).toMatch(
      /^Hi there at Acme \(Robotics, \) In your role at Acme, you are probably .+ 12 in Robotics/,
    );
    expect(text).not.toMatch(/%|&&/);
  });
});
