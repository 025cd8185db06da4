/**
 * Puffle documents no chunk format for its realtime streams: text deltas are taken in the shapes
 * common in the wild, and anything else (tool calls, finish markers, metadata) is ignored.
 */
export function textOfChunk(chunk: unknown): string | undefined {
  if (typeof chunk === "string") return chunk;
  if (typeof chunk !== "object" || chunk === null || Array.isArray(chunk)) return undefined;
  const record = chunk as Record<string, unknown>;
  if (record.type === "text-delta" && typeof record.delta === "string") return record.delta;
  // A typed chunk of another kind is not text, even if it has a `text` field.
  if (record.type !== undefined) return undefined;
  if (typeof record.delta === "string") return record.delta;
  if (typeof record.text === "string") return record.text;
  return undefined;
}

/** The stream to read among those a run lists: a named one before the implicit "default". */
export function pickStreamKey(keys: readonly string[]): string | undefined {
  return keys.find((key) => key !== "default") ?? keys[0];
}
