/** Words the checks share: secrets shown without their value, URLs without credentials, network errors. */

/** `xoxb-… (57 chars)`: enough to tell which secret was read, never enough to use it. */
export function maskSecret(value: string): string {
  const prefix = /^(xox[a-z]-|xapp-|pk_live_|pk_test_)/.exec(value)?.[1] ?? "";
  return `${prefix}… (${value.length} chars)`;
}

/** A URL for people: no user:password part, no trailing slash noise. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

/** "ECONNREFUSED" or "no answer within 3000 ms" rather than "fetch failed". */
export function networkProblem(error: unknown, timeoutMs: number): string {
  const e = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `no answer within ${timeoutMs} ms`;
  if (typeof e?.cause?.code === "string") return e.cause.code;
  if (typeof e?.cause?.message === "string") return e.cause.message;
  return typeof e?.message === "string" ? e.message : String(error);
}

/** "1 campaign", "3 campaigns". */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
