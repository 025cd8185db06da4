import type { GeneratedExample, LeadInput } from "../../drafting/draft-view.ts";
import { type DraftView, fillMergeFields } from "../../drafting/draft-view.ts";
import type { Author } from "../../drafting/outcomes.ts";
import { ACTIONS, cardButtonValue, REFINES, type RefineKind, refineActionId } from "../ids.ts";
import { authorList, escapeMrkdwn } from "../text.ts";
import {
  actions,
  type Block,
  button,
  confirmDialog,
  context,
  divider,
  header,
  packMessages,
  type SlackMessage,
  section,
} from "./blocks.ts";
import { feedbackBlock } from "./feedback.ts";
import { richTextBlocks } from "./rich-text.ts";
import { skeletonBlocks } from "./skeleton.ts";
import { labelledTemplate, titledDraft } from "./template-text.ts";

/**
 * The draft card (SPEC section 3) and the examples card. Everything Puffle wrote is shown literally, in
 * rich_text (rich-text.ts): a body holding `*bold*`, `&amp;` or `<!channel>` shows those characters, pings
 * nobody, and copies as Puffle's text. Our own words around it are mrkdwn, with any name escaped.
 */

export interface DraftCardInput {
  view: DraftView;
  /** The card's revision, carried by the buttons so a click on an old card can be recognised. */
  revision: number;
  requestedBy: Author[];
  /** Only the latest card has buttons (and the thumbs). */
  live: boolean;
}

const REFINE_BLOCK_ID = "draft.refine";
const MORE_BLOCK_ID = "draft.more";
const NO_SUBJECT = "No subject yet.";
const NO_BODY = "No body yet.";

export function renderDraftCard({ view, revision, requestedBy, live }: DraftCardInput): SlackMessage[] {
  const title = view.frameworkVersion === null ? "Draft" : `Draft v${view.frameworkVersion}`;
  const blocks: Block[] = [
    header(title),
    ...placeContext(view),
    ...richTextBlocks(labelledTemplate("Subject", view.subject, NO_SUBJECT)),
    ...richTextBlocks(labelledTemplate("Body", view.body, NO_BODY)),
    ...skeletonBlocks(view),
    ...previewBlocks(view),
    context(summaryLine(view, requestedBy)),
    ...(live ? cardActions(view, revision) : []),
  ];
  const subject = view.subject ? `: ${escapeMrkdwn(view.subject)}` : "";
  return packMessages(blocks, (part, parts) =>
    part === 0 ? `${title}${subject}` : `${title} (part ${part + 1} of ${parts})`,
  );
}

/**
 * The same card without buttons or thumbs, marked as replaced by the card showing version
 * `supersededBy`. Trailing blocks are dropped if the notice needs room.
 */
export function renderSupersededCard(previous: SlackMessage, supersededBy: number): SlackMessage {
  // An edit keeps the version number: "superseded by v1" on a v1 card would read as nonsense.
  const sameVersion = previous.blocks.some(
    (block) => block.type === "header" && block.text.text === `Draft v${supersededBy}`,
  );
  const notice = context(
    sameVersion
      ? "Replaced by the edited draft below. Buttons are on the latest draft."
      : `Superseded by v${supersededBy} below. Buttons are on the latest draft.`,
  );
  const blocks = [
    notice,
    ...previous.blocks.filter((block) => block.type !== "actions" && block.type !== "context_actions"),
  ];
  return packMessages(blocks, () => previous.text)[0]!;
}

export interface ExamplesCardInput {
  view: DraftView;
  requestedBy: Author[];
  /** Display names by lead id, when the campaign's leads are known. */
  leadNames?: Record<string, string>;
}

export function renderExamplesCard({ view, requestedBy, leadNames = {} }: ExamplesCardInput): SlackMessage[] {
  const title = view.frameworkVersion === null ? "Examples" : `Examples for v${view.frameworkVersion}`;
  const entries = view.examples.flatMap((example, index) => [
    ...(index > 0 ? [divider()] : []),
    ...richTextBlocks(exampleRuns(example, index, leadNames)),
  ]);
  const count = `${view.examples.length} ${view.examples.length === 1 ? "example" : "examples"}`;
  const summary = requestedBy.length > 0 ? `${count} · asked by ${authorList(requestedBy)}` : count;
  const blocks: Block[] = [
    header(title),
    ...placeContext(view),
    ...(entries.length > 0 ? entries : [section("_Puffle returned no examples._")]),
    context(summary),
  ];
  return packMessages(blocks, (part, parts) =>
    part === 0 ? `${title}: ${count}` : `${title} (part ${part + 1} of ${parts})`,
  );
}

function exampleRuns(example: GeneratedExample, index: number, leadNames: Record<string, string>) {
  const leadId = example.lead_id;
  const name = leadId === null ? `Example ${index + 1}` : (leadNames[leadId] ?? `Lead ${leadId}`);
  return titledDraft(name, example, { subject: "none", body: "No body." });
}

// ---------------------------------------------------------------- card parts

function placeName(view: DraftView): string | null {
  return [view.campaignName, view.stepLabel].filter((part) => part?.trim()).join(" · ") || null;
}

function placeContext(view: DraftView): Block[] {
  const place = placeName(view);
  return place ? [context(escapeMrkdwn(place))] : [];
}

function summaryLine(view: DraftView, requestedBy: Author[]): string {
  const parts = [
    view.frameworkVersion === null ? null : `v${view.frameworkVersion}`,
    `${view.wordCount} ${view.wordCount === 1 ? "word" : "words"}`,
    view.variables.length > 0 ? `variables: ${escapeMrkdwn(view.variables.join(", "))}` : null,
    requestedBy.length > 0 ? `asked by ${authorList(requestedBy)}` : null,
  ];
  return parts.filter((part) => part !== null).join(" · ");
}

function previewBlocks(view: DraftView): Block[] {
  const lead = view.previewLead;
  if (!lead || (!view.subject && !view.body)) return [];
  const filled = {
    subject: view.subject ? fillMergeFields(view.subject, lead) : null,
    body: view.body ? fillMergeFields(view.body, lead) : null,
  };
  return [
    divider(),
    ...richTextBlocks(titledDraft(previewTitle(lead), filled, { subject: NO_SUBJECT, body: NO_BODY })),
  ];
}

function previewTitle(lead: LeadInput): string {
  const name =
    lead.full_name?.trim() ||
    [lead.first_name, lead.last_name].filter(Boolean).join(" ").trim() ||
    "a sample lead";
  return lead.company?.trim() ? `Preview for ${name} at ${lead.company.trim()}` : `Preview for ${name}`;
}

function cardActions(view: DraftView, revision: number): Block[] {
  const value = cardButtonValue(view.sessionId, revision);
  const refines = (Object.keys(REFINES) as RefineKind[]).map((kind) =>
    button({ actionId: refineActionId(kind), text: REFINES[kind].label, value }),
  );
  const save = button({
    actionId: ACTIONS.save,
    text: "Save to campaign",
    value,
    style: "primary",
    confirm: confirmDialog({
      title: "Save to campaign?",
      text: `This writes the subject and body to ${placeName(view) ?? "this campaign step"} in Puffle.`,
      confirm: "Save",
      deny: "Cancel",
    }),
  });
  return [
    actions(REFINE_BLOCK_ID, [...refines, button({ actionId: ACTIONS.custom, text: "Custom...", value })]),
    actions(MORE_BLOCK_ID, [
      button({ actionId: ACTIONS.examples, text: "Generate examples", value }),
      button({ actionId: ACTIONS.edit, text: "Edit", value }),
      save,
    ]),
    feedbackBlock(view.sessionId, revision),
  ];
}
