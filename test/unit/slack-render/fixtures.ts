import { expect } from "vitest";
import type { DraftView } from "../../../src/drafting/draft-view.ts";
import type { SlackMessage } from "../../../src/slack/render/blocks.ts";
import { validateMessage, validateView } from "../../support/block-kit-limits.ts";

/** Model text that would ping the channel, mention a user and render a fake link if left unescaped. */
export const HOSTILE = "Hi <!channel> and <@U123>, see <https://evil.example|x> & more";

export function draftView(overrides: Partial<DraftView> = {}): DraftView {
  return {
    sessionId: "5f0c1e2a-0000-4000-8000-000000000001",
    campaignId: "c-1",
    nodeId: "n-1",
    campaignName: "Q3 Outbound",
    stepLabel: "Step 1 · Email",
    frameworkVersion: 3,
    subject: "Quick thought on %company%'s onboarding",
    body: "Hi %first_name%,\n\n&&2-sentence pain hook tied to %position%.&&\n\nWorth a 10-min chat?\n\n%sender_first%",
    skeleton: {
      subject: "Quick thought on %company%'s onboarding",
      body: "Hi %first_name%,\n\n&&2-sentence pain hook tied to %position%.&&\n\nWorth a 10-min chat?\n\n%sender_first%",
      blocks: [
        {
          name: "Opener",
          strategy: "Reference their role and company",
          personalization: {
            fields: ["first_name", "position", "company"],
            approach: "Single-line, no flattery",
            fallback: "Generic intro tied to role",
          },
        },
      ],
      exampleSubject: "Quick thought on Acme's onboarding",
      exampleBody: "Hi Sarah,\n\nOnboarding eats your first month.\n\nWorth a 10-min chat?",
    },
    examples: [],
    previewLead: null,
    leadNames: {},
    variables: ["company", "first_name", "position", "sender_first"],
    wordCount: 12,
    ...overrides,
  };
}

/** Every message must be accepted by Slack (as the fake enforces it) and by our own tighter budget. */
export function expectValidMessages(messages: SlackMessage[]): void {
  for (const message of messages) {
    expect(validateMessage(message)).toBeUndefined();
    expect(message.text.length).toBeLessThanOrEqual(3000);
  }
}

export function expectValidView(view: unknown): void {
  expect(validateView(view)).toBeUndefined();
}

/** Every `text` string of the messages, in order, at any depth (what a person reads). */
export function textsOf(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(textsOf);
  if (typeof node !== "object" || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === "text" && typeof value === "string" ? [value] : textsOf(value),
  );
}

/**
 * No `<` in the rendered JSON except mentions we made from requestedBy ids: model text can neither ping
 * nor link.
 */
export function expectNoSlackMarkup(rendered: unknown, allowedMentions: string[] = []): void {
  let json = JSON.stringify(rendered);
  for (const id of allowedMentions) json = json.replaceAll(`<@${id}>`, "");
  expect(json).not.toContain("<!channel>");
  expect(json).not.toContain("<@U123>");
  expect(json).not.toContain("<https://evil");
  expect(json).not.toContain("<");
}
