import {
  AI_PASSAGE_PATTERN,
  type DraftView,
  fillMergeFields,
  MERGE_FIELD_PATTERN,
} from "../../drafting/draft-view.ts";
import type { Author } from "../../drafting/outcomes.ts";
import type { GeneratedExample, LeadInput, Skeleton } from "../../puffle/schemas.ts";
import { ACTIONS, cardButtonValue, REFINES, type RefineKind, refineActionId } from "../ids.ts";
import { authorList, escapeMrkdwn, truncate } from "../text.ts";
import {
  type ActionsBlock,
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
  sectionsFor,
} from "./blocks.ts";

/**
 * The draft card (SPEC section 3) and the examples card. Everything the model wrote is escaped here:
 * a body holding `<!channel>` shows those characters and pings nobody.
 */

export interface DraftCardInput {
  view: DraftView;
  /** The card's revision, carried by the buttons so a click on an old card can be recognised. */
  revision: number;
  requestedBy: Author[];
  /** Only the latest card has buttons. */
  live: boolean;
}

const REFINE_BLOCK_ID = "draft.refine";
const MORE_BLOCK_ID = "draft.more";
const NO_SUBJECT = "_No subject yet._";
const NO_BODY = "_No body yet._";

export function renderDraftCard({ view, revision, requestedBy, live }: DraftCardInput): SlackMessage[] {
  const title = view.frameworkVersion === null ? "Draft" : `Draft v${view.frameworkVersion}`;
  const blocks: Block[] = [
    header(title),
    ...placeContext(view),
    ...sectionsFor(`*Subject*\n${view.subject ? templateToMrkdwn(view.subject) : NO_SUBJECT}`),
    ...sectionsFor(`*Body*\n${view.body ? templateToMrkdwn(view.body) : NO_BODY}`),
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
 * The same card without buttons, marked as replaced by the card showing version `supersededBy`.
 * Trailing blocks are dropped if the notice needs room.
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
  const blocks = [notice, ...previous.blocks.filter((block) => block.type !== "actions")];
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
    ...sectionsFor(exampleText(example, index, leadNames)),
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

// ---------------------------------------------------------------- templates

const TEMPLATE_TOKEN = new RegExp(`${AI_PASSAGE_PATTERN}|${MERGE_FIELD_PATTERN}`, "gi");
const MERGE_FIELD = new RegExp(MERGE_FIELD_PATTERN, "gi");

/**
 * A subject or body as mrkdwn: text escaped, merge fields marked as code, and `&&...&&` passages shown as
 * the instruction they are (the final words are written per lead), never as final text.
 */
function templateToMrkdwn(template: string): string {
  let out = "";
  let last = 0;
  for (const match of template.matchAll(TEMPLATE_TOKEN)) {
    out += escapeMrkdwn(template.slice(last, match.index));
    out += match[1] === undefined ? `\`%${match[2]}%\`` : aiInstruction(match[1]);
    last = match.index + match[0].length;
  }
  return out + escapeMrkdwn(template.slice(last));
}

function aiInstruction(instruction: string): string {
  // Italics in mrkdwn stop at a line break: keep the instruction on one line.
  const oneLine = instruction.replace(/\s+/g, " ").trim();
  // Merge fields inside the instruction are marked too; angle quotes keep the italics unbroken.
  const marked = escapeMrkdwn(oneLine).replace(MERGE_FIELD, "‹$1›");
  return oneLine ? `_✍ AI writes: ${marked}_` : "_✍ AI-written passage_";
}

function exampleText(example: GeneratedExample, index: number, leadNames: Record<string, string>): string {
  const leadId = example.lead_id;
  const name = leadId === null ? `Example ${index + 1}` : (leadNames[leadId] ?? `Lead ${leadId}`);
  const subject = example.subject ? templateToMrkdwn(example.subject) : "_none_";
  const body = example.body ? templateToMrkdwn(example.body) : "_No body._";
  return `*${escapeMrkdwn(name)}*\n*Subject:* ${subject}\n\n${body}`;
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
  const subject = view.subject ? templateToMrkdwn(fillMergeFields(view.subject, lead)) : NO_SUBJECT;
  const body = view.body ? templateToMrkdwn(fillMergeFields(view.body, lead)) : NO_BODY;
  return [
    divider(),
    ...sectionsFor(`*${escapeMrkdwn(previewTitle(lead))}*\n*Subject:* ${subject}\n\n${body}`),
  ];
}

function previewTitle(lead: LeadInput): string {
  const name =
    lead.full_name?.trim() ||
    [lead.first_name, lead.last_name].filter(Boolean).join(" ").trim() ||
    "a sample lead";
  return lead.company?.trim() ? `Preview for ${name} at ${lead.company.trim()}` : `Preview for ${name}`;
}

function cardActions(view: DraftView, revision: number): ActionsBlock[] {
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
  ];
}

// ---------------------------------------------------------------- skeleton

/** Keys rendered richly; every other key is shown generically, so nothing Puffle adds goes unseen. */
const KNOWN_SKELETON_KEYS = new Set(["subject", "body", "blocks", "exampleSubject", "exampleBody"]);
const SKELETON_TEXT_MAX = 600;
const SKELETON_JSON_MAX = 300;

function skeletonBlocks(view: DraftView): Block[] {
  const skeleton = view.skeleton;
  if (!skeleton) return [];
  const parts = [
    ...templateUnlessShown("Skeleton subject", skeleton.subject, view.subject),
    ...templateUnlessShown("Skeleton body", skeleton.body, view.body),
    ...skeletonStructure(skeleton.blocks),
    ...Object.entries(skeleton)
      .filter(([key]) => !KNOWN_SKELETON_KEYS.has(key))
      .flatMap(([key, value]) => labelled(`*${escapeMrkdwn(key)}*`, value)),
    // The preview shows the same thing for a real lead.
    ...(view.previewLead ? [] : skeletonExample(skeleton)),
  ];
  if (parts.length === 0) return [];
  return [divider(), ...sectionsFor(["*Skeleton*", ...parts].join("\n\n"))];
}

/** The skeleton's own subject/body, only when they differ from the draft shown above. */
function templateUnlessShown(label: string, value: unknown, shown: string | null): string[] {
  if (value === undefined || value === null || value === shown) return [];
  if (typeof value !== "string") return labelled(`*${label}*`, value);
  return value.trim() ? [`*${label}*\n${templateToMrkdwn(value)}`] : [];
}

function skeletonStructure(blocks: unknown): string[] {
  if (blocks === undefined || blocks === null) return [];
  if (!Array.isArray(blocks)) return labelled("*blocks*", blocks);
  return blocks.map(skeletonBlockText);
}

function skeletonBlockText(block: unknown, index: number): string {
  if (!isRecord(block)) return `*${index + 1}.* ${genericValue(block)}`;
  const { name, strategy, personalization, ...rest } = block;
  const title = typeof name === "string" && name.trim() ? escapeMrkdwn(truncate(name.trim(), 150)) : "Block";
  return [
    `*${index + 1}. ${title}*`,
    ...(typeof name === "string" ? [] : labelled("Name", name)),
    ...labelled("Strategy", strategy),
    ...personalizationLines(personalization),
    ...genericLines(rest),
  ].join("\n");
}

function personalizationLines(personalization: unknown): string[] {
  if (!isRecord(personalization)) return labelled("Personalization", personalization);
  const { fields, approach, fallback, ...rest } = personalization;
  return [
    ...fieldLines(fields),
    ...labelled("Approach", approach),
    ...labelled("Fallback", fallback),
    ...genericLines(rest),
  ];
}

function fieldLines(fields: unknown): string[] {
  if (!Array.isArray(fields) || !fields.every((field): field is string => typeof field === "string")) {
    return labelled("Personalization", fields);
  }
  const marked = fields.map((field) => `\`${escapeMrkdwn(field.replaceAll("`", ""))}\``);
  return marked.length > 0 ? [`Personalization: ${marked.join(", ")}`] : [];
}

function skeletonExample(skeleton: Skeleton): string[] {
  const { exampleSubject, exampleBody } = skeleton;
  if (typeof exampleSubject !== "string" && typeof exampleBody !== "string") {
    return [...labelled("*exampleSubject*", exampleSubject), ...labelled("*exampleBody*", exampleBody)];
  }
  const subject =
    typeof exampleSubject === "string" ? `\n*Subject:* ${templateToMrkdwn(exampleSubject)}` : "";
  const body = typeof exampleBody === "string" ? `\n\n${templateToMrkdwn(exampleBody)}` : "";
  return [`*Example*${subject}${body}`];
}

const genericLines = (record: Record<string, unknown>) =>
  Object.entries(record).flatMap(([key, value]) => labelled(escapeMrkdwn(key), value));

/** "Label: value", or nothing when there is no value. */
function labelled(label: string, value: unknown): string[] {
  return value === undefined || value === null ? [] : [`${label}: ${genericValue(value)}`];
}

/** Any JSON value, readable and escaped: text as text, lists comma-joined, objects as compact JSON. */
function genericValue(value: unknown): string {
  if (typeof value === "string") return escapeMrkdwn(truncate(value.trim(), SKELETON_TEXT_MAX)) || "—";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === "string" || typeof item === "number")) {
    return escapeMrkdwn(truncate(value.join(", "), SKELETON_TEXT_MAX)) || "—";
  }
  return escapeMrkdwn(truncate(JSON.stringify(value) ?? String(value), SKELETON_JSON_MAX));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
