import { isPuffleError } from "../puffle/errors.ts";
import type { FailureCode } from "./outcomes.ts";
import { NoPuffleKeyError } from "./service/context.ts";

/**
 * What went wrong with a drafting call, as one of the failure codes people have words for (the Slack
 * layer's words live in render/failure-words.ts). Callers need not know Puffle's error types.
 */
export function failureOf(error: unknown): FailureCode {
  if (error instanceof NoPuffleKeyError) return "no_puffle_key";
  if (isPuffleError(error)) return error.code;
  return "internal";
}

/** A failure for a log line: the code and, for Puffle, its status and path; never user text or a key. */
export function failureLog(error: unknown): Record<string, unknown> {
  if (isPuffleError(error)) return error.toLog();
  if (error instanceof NoPuffleKeyError) return { code: "no_puffle_key", teamId: error.teamId };
  return { code: "internal", err: error instanceof Error ? error.message : String(error) };
}
