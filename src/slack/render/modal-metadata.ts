import type { z } from "zod";
import { SLACK_LIMITS as L } from "../limits.ts";

/**
 * A view's private_metadata: the ids a modal acts on, as JSON. It comes back from Slack untrusted, so
 * it is read through a schema (and checked against the store by the caller).
 */

/** JSON for a view's private_metadata; throws when it would not fit (a bug, not a user error). */
export function encodeMetadata(value: unknown): string {
  const text = JSON.stringify(value);
  if (text.length > L.privateMetadata) {
    throw new RangeError(`private_metadata is ${text.length} characters, over ${L.privateMetadata}`);
  }
  return text;
}

/** The metadata if it parses and matches `schema`, else undefined: never trust it blindly. */
export function decodeMetadata<T>(text: string | null | undefined, schema: z.ZodType<T>): T | undefined {
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
