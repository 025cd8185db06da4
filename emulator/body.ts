// The shape of an email body as the fake model edits it (greeting, middle paragraphs, sign-off) and
// small text helpers shared by the drafting modules.

export interface BodyParts {
  greeting: string | null;
  middle: string[];
  signoff: string | null;
}

export function splitBody(body: string): BodyParts {
  const paragraphs = body
    .replace(/\r\n?/g, "\n")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const first = paragraphs[0];
  const greeting = first && /^(hi|hey|hello|dear)\b/i.test(first) && first.length <= 60 ? first : null;
  const rest = greeting ? paragraphs.slice(1) : paragraphs;
  const last = rest.at(-1);
  const signoff =
    last && (last.includes("%sender_first%") || /^(best|thanks|cheers|regards|warmly)\b/i.test(last))
      ? last
      : null;
  return { greeting, middle: signoff ? rest.slice(0, -1) : rest, signoff };
}

export function joinBody(parts: BodyParts): string {
  return [parts.greeting, ...parts.middle, parts.signoff].filter((p): p is string => p !== null).join("\n\n");
}

/** Replaces the closing ask; a body that ends on its AI passage has none, so the ask is added after it. */
export function replaceLast(middle: string[], paragraph: string): string[] {
  const last = middle.at(-1);
  if (last === undefined || last.includes("&&")) return [...middle, paragraph];
  return [...middle.slice(0, -1), paragraph];
}

export function insertBeforeLast(middle: string[], paragraph: string): string[] {
  return middle.length === 0 ? [paragraph] : [...middle.slice(0, -1), paragraph, ...middle.slice(-1)];
}

/** The entry after `currentIndex` (wrapping), or the first when the current text is not from the list. */
export function nextInRotation(list: string[], currentIndex: number): string {
  return list[(currentIndex + 1) % list.length] ?? "";
}

export function sentencesOf(paragraph: string): string[] {
  return paragraph.match(/[^.!?]+(?:[.!?]+|$)/g)?.map((s) => s.trim()) ?? [paragraph];
}

export function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

export function topicOf(message: string): string {
  return excerptOf(message, 80);
}

/** First `max` characters of the message on one line, cut at a word boundary, without end punctuation. */
export function excerptOf(message: string, max: number): string {
  const line = message.replace(/\s+/g, " ").trim();
  const cut =
    line.length <= max
      ? line
      : line.slice(0, line.lastIndexOf(" ", max) > 0 ? line.lastIndexOf(" ", max) : max);
  return cut.replace(/[\s.!?,;:]+$/, "");
}

/** User text placed inside a template must not open a merge field or an AI passage. */
export function templateSafe(text: string): string {
  return text.replaceAll("&&", "and").replaceAll("%", " percent");
}
