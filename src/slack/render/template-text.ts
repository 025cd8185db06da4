import { AI_PASSAGE_PATTERN, MERGE_FIELD_PATTERN } from "../../drafting/draft-view.ts";
import type { RichTextStyle } from "./blocks.ts";
import { BLANK_LINE, bold, italic, NEWLINE, plain, type Run } from "./rich-text.ts";

/**
 * A subject or body template as styled runs, every character kept: merge fields (`%first_name%`, and the
 * `{{company}}` some older Puffle pages use) in code style; an `&&...&&` AI passage in italics, its `&&`
 * kept, so it reads as the instruction it is (the final words are written per lead) and copying the text
 * gives the template Puffle holds.
 */

const BRACED_FIELD_PATTERN = "\\{\\{\\s*[a-z][a-z0-9_]*\\s*\\}\\}";
const FIELD = new RegExp(`${MERGE_FIELD_PATTERN}|${BRACED_FIELD_PATTERN}`, "gi");
const AI_PASSAGE = new RegExp(AI_PASSAGE_PATTERN, "g");
const HAS_AI_PASSAGE = new RegExp(AI_PASSAGE_PATTERN);

/** Said once next to a label when the text below holds an AI passage. */
export const AI_PASSAGE_NOTE = " · ✍ italic &&…&& passages are instructions: AI writes them for each lead";

/** "Label\ntemplate", or the label over `missing` in italics when there is no template. */
export function labelledTemplate(label: string, template: string | null | undefined, missing: string): Run[] {
  return [
    bold(label),
    ...(hasAiPassage(template) ? [plain(AI_PASSAGE_NOTE)] : []),
    NEWLINE,
    ...(template ? templateRuns(template) : [italic(missing)]),
  ];
}

/** "Title\nSubject: subject\n\nbody": a preview for a lead, a per-lead example. */
export function titledDraft(
  title: string,
  draft: { subject: string | null | undefined; body: string | null | undefined },
  missing: { subject: string; body: string },
): Run[] {
  return [
    bold(title),
    ...(hasAiPassage(draft.subject, draft.body) ? [plain(AI_PASSAGE_NOTE)] : []),
    NEWLINE,
    bold("Subject: "),
    ...(draft.subject ? templateRuns(draft.subject) : [italic(missing.subject)]),
    BLANK_LINE,
    ...(draft.body ? templateRuns(draft.body) : [italic(missing.body)]),
  ];
}

export function templateRuns(template: string): Run[] {
  const runs: Run[] = [];
  let last = 0;
  for (const match of template.matchAll(AI_PASSAGE)) {
    runs.push(...fieldRuns(template.slice(last, match.index)));
    runs.push(...fieldRuns(match[0], { italic: true }));
    last = match.index + match[0].length;
  }
  runs.push(...fieldRuns(template.slice(last)));
  return runs;
}

export function hasAiPassage(...templates: (string | null | undefined)[]): boolean {
  return templates.some((template) => HAS_AI_PASSAGE.test(template ?? ""));
}

/** Text with its merge fields marked; `style` applies to all of it. */
function fieldRuns(text: string, style?: RichTextStyle): Run[] {
  const runs: Run[] = [];
  const push = (part: string) => {
    if (part) runs.push(style ? { text: part, style } : { text: part });
  };
  let last = 0;
  for (const match of text.matchAll(FIELD)) {
    push(text.slice(last, match.index));
    runs.push({ text: match[0], style: { ...style, code: true }, whole: true });
    last = match.index + match[0].length;
  }
  push(text.slice(last));
  return runs;
}
