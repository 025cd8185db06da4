import { expect } from "vitest";
import type { DraftView } from "../../../src/drafting/draft-view.ts";
import type { SlackMessage } from "../../../src/slack/render/blocks.ts";
import { validateMessage, validateView } from "../../support/block-kit-limits.ts";
import { renderSeen, type Seen, type SeenSpan } from "../../support/fake-slack.ts";

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
 * Model text can neither ping nor link. Where Slack parses text (mrkdwn, top-level text), there is no `<`
 * except mentions we made from requestedBy ids. rich_text `text` elements are shown as typed, so `<!channel>`
 * may sit in one: there, no other kind of inline element (user, broadcast, link...) may appear. And a
 * person sees no mention but the allowed ones, and no link whose label hides its target.
 */
export function expectNoSlackMarkup(rendered: unknown, allowedMentions: string[] = []): void {
  const inline: unknown[] = [];
  let json = JSON.stringify(rendered, (_key, value: unknown) => {
    if (isRichTextInline(value)) {
      inline.push(value.type);
      return value.type === "text" ? { type: "text" } : value;
    }
    return value;
  });
  for (const id of allowedMentions) json = json.replaceAll(`<@${id}>`, "");
  expect(json).not.toContain("<!channel>");
  expect(json).not.toContain("<@U123>");
  expect(json).not.toContain("<https://evil");
  expect(json).not.toContain("<");
  expect(inline.filter((type) => type !== "text")).toEqual([]);
  const seen = seenOf(messagesIn(rendered));
  // A bare URL Slack links in mrkdwn shows where it goes; a label over another target would not.
  expect(seen.spans.filter((span) => span.link !== undefined && span.link !== span.text)).toEqual([]);
  expect(
    seen.spans.filter((span) => span.mention !== undefined && !allowedMentions.includes(span.mention)),
  ).toEqual([]);
}

const RICH_TEXT_INLINE = new Set([
  "text",
  "user",
  "usergroup",
  "channel",
  "broadcast",
  "link",
  "emoji",
  "team",
  "date",
  "color",
]);

/** A rich_text inline element (a text object is `plain_text` or `mrkdwn`, never one of these). */
function isRichTextInline(value: unknown): value is { type: string } {
  return (
    typeof value === "object" && value !== null && "type" in value && RICH_TEXT_INLINE.has(String(value.type))
  );
}

function messagesIn(rendered: unknown): SlackMessage[] {
  const all = Array.isArray(rendered) ? rendered : [rendered];
  return all.filter(
    (item): item is SlackMessage => typeof item === "object" && item !== null && "blocks" in item,
  );
}

/** What a person sees of the messages, one after the other (the fake Slack's renderer). */
export function seenOf(messages: SlackMessage[]): Seen {
  return renderSeen(messages.flatMap((message) => message.blocks));
}

/** The spans a person sees over the `occurrence`-th (0-based) appearance of `text`, cut to it. */
export function looksOf(seen: Seen, text: string, occurrence = 0): SeenSpan[] {
  let start = -1;
  for (let n = 0; n <= occurrence; n += 1) {
    start = seen.text.indexOf(text, start + 1);
    if (start === -1) throw new Error(`"${text}" is not shown (occurrence ${occurrence})`);
  }
  return spansBetween(seen, start, start + text.length);
}

/** The spans over characters `start` to `end` of what is seen, cut to that range. */
export function spansBetween(seen: Seen, start: number, end: number): SeenSpan[] {
  const out: SeenSpan[] = [];
  let offset = 0;
  for (const span of seen.spans) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + span.text.length);
    if (from < to) out.push({ ...span, text: span.text.slice(from - offset, to - offset) });
    offset += span.text.length;
  }
  return out;
}
