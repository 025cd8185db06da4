import type { DraftView, Skeleton } from "../../drafting/draft-view.ts";
import { truncate } from "../text.ts";
import { type Block, divider } from "./blocks.ts";
import { BLANK_LINE, bold, joinRuns, NEWLINE, plain, type Run, richTextBlocks } from "./rich-text.ts";
import { labelledTemplate, templateRuns } from "./template-text.ts";

/**
 * The draft card's skeleton part (SPEC section 3): each block's name and strategy with its personalization
 * fields; every key Puffle adds is shown generically, so nothing goes unseen. Like the draft, it is
 * Puffle's text and is shown literally (rich_text), with only our labels styled.
 */

/** Keys rendered richly; every other key is shown generically. */
const KNOWN_SKELETON_KEYS = new Set(["subject", "body", "blocks", "exampleSubject", "exampleBody"]);
const SKELETON_TEXT_MAX = 600;
const SKELETON_JSON_MAX = 300;

/** A paragraph or a line, as runs. */
type Line = Run[];

export function skeletonBlocks(view: DraftView): Block[] {
  const skeleton = view.skeleton;
  if (!skeleton) return [];
  const parts: Line[] = [
    ...templateUnlessShown("Skeleton subject", skeleton.subject, view.subject),
    ...templateUnlessShown("Skeleton body", skeleton.body, view.body),
    ...skeletonStructure(skeleton.blocks),
    ...Object.entries(skeleton)
      .filter(([key]) => !KNOWN_SKELETON_KEYS.has(key))
      .flatMap(([key, value]) => labelled([bold(key)], value)),
    // The preview shows the same thing for a real lead.
    ...(view.previewLead ? [] : skeletonExample(skeleton)),
  ];
  if (parts.length === 0) return [];
  return [divider(), ...richTextBlocks(joinRuns([[bold("Skeleton")], ...parts], BLANK_LINE))];
}

/** The skeleton's own subject/body, only when they differ from the draft shown above. */
function templateUnlessShown(label: string, value: unknown, shown: string | null): Line[] {
  if (value === undefined || value === null || value === shown) return [];
  if (typeof value !== "string") return labelled([bold(label)], value);
  return value.trim() ? [labelledTemplate(label, value, "")] : [];
}

function skeletonStructure(blocks: unknown): Line[] {
  if (blocks === undefined || blocks === null) return [];
  if (!Array.isArray(blocks)) return labelled([bold("blocks")], blocks);
  return blocks.map(skeletonBlock);
}

function skeletonBlock(block: unknown, index: number): Line {
  if (!isRecord(block)) return [bold(`${index + 1}.`), plain(` ${genericValue(block)}`)];
  const { name, strategy, personalization, ...rest } = block;
  const title = typeof name === "string" && name.trim() ? truncate(name.trim(), 150) : "Block";
  return joinRuns([
    [bold(`${index + 1}. ${title}`)],
    ...(typeof name === "string" ? [] : labelled([plain("Name")], name)),
    ...labelled([plain("Strategy")], strategy),
    ...personalizationLines(personalization),
    ...genericLines(rest),
  ]);
}

function personalizationLines(personalization: unknown): Line[] {
  if (!isRecord(personalization)) return labelled([plain("Personalization")], personalization);
  const { fields, approach, fallback, ...rest } = personalization;
  return [
    ...fieldLines(fields),
    ...labelled([plain("Approach")], approach),
    ...labelled([plain("Fallback")], fallback),
    ...genericLines(rest),
  ];
}

/** The fields a block personalizes with, each marked like a merge field. */
function fieldLines(fields: unknown): Line[] {
  if (!Array.isArray(fields) || !fields.every((field): field is string => typeof field === "string")) {
    return labelled([plain("Personalization")], fields);
  }
  const marked = fields
    .filter((field) => field.length > 0)
    .map((field): Line => [{ text: field, style: { code: true }, whole: true }]);
  return marked.length > 0 ? [[plain("Personalization: "), ...joinRuns(marked, plain(", "))]] : [];
}

function skeletonExample(skeleton: Skeleton): Line[] {
  const { exampleSubject, exampleBody } = skeleton;
  if (typeof exampleSubject !== "string" && typeof exampleBody !== "string") {
    return [
      ...labelled([bold("exampleSubject")], exampleSubject),
      ...labelled([bold("exampleBody")], exampleBody),
    ];
  }
  const subject =
    typeof exampleSubject === "string" ? [NEWLINE, bold("Subject: "), ...templateRuns(exampleSubject)] : [];
  const body = typeof exampleBody === "string" ? [BLANK_LINE, ...templateRuns(exampleBody)] : [];
  return [[bold("Example"), ...subject, ...body]];
}

const genericLines = (record: Record<string, unknown>): Line[] =>
  Object.entries(record).flatMap(([key, value]) => labelled([plain(key)], value));

/** "Label: value", or nothing when there is no value. */
function labelled(label: Line, value: unknown): Line[] {
  return value === undefined || value === null ? [] : [[...label, plain(`: ${genericValue(value)}`)]];
}

/** Any JSON value, readable: text as text, lists comma-joined, objects as compact JSON. */
function genericValue(value: unknown): string {
  if (typeof value === "string") return truncate(value.trim(), SKELETON_TEXT_MAX) || "—";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === "string" || typeof item === "number")) {
    return truncate(value.join(", "), SKELETON_TEXT_MAX) || "—";
  }
  return truncate(JSON.stringify(value) ?? String(value), SKELETON_JSON_MAX);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
