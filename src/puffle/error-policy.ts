import { ConnectionError, type PuffleError, type PuffleErrorCode } from "./errors.ts";

/**
 * How each Puffle error is handled, decided once, read everywhere: by the retry policy inside a call,
 * by the watcher reading a running task, by the turn engine after a dispatch, and by the words a person
 * reads (whether a Retry button makes sense).
 */
export interface ErrorHandling {
  /** Reads and other idempotent calls: try the call again (with backoff, honouring Retry-After)? */
  readAgain: boolean;
  /**
   * After /turn or /generate-examples failed: "retry" (surely not started: send again), "busy" (another
   * task holds the session: wait), "ambiguous" (it may have started: read the session to know), "fail".
   */
  afterDispatch: "retry" | "busy" | "ambiguous" | "fail" | ((error: PuffleError) => "retry" | "ambiguous");
  /** While watching a task: does this error end the watch at once (reading again cannot help)? */
  endsWatch: boolean;
  /** Can the person usefully press Retry on a turn that failed this way? */
  personCanRetry: boolean;
}

export const ERROR_POLICY: Record<PuffleErrorCode, ErrorHandling> = {
  session_busy: { readAgain: false, afterDispatch: "busy", endsWatch: false, personCanRetry: true },
  no_framework: { readAgain: false, afterDispatch: "fail", endsWatch: false, personCanRetry: false },
  bad_request: { readAgain: false, afterDispatch: "fail", endsWatch: false, personCanRetry: false },
  unauthorized: { readAgain: false, afterDispatch: "fail", endsWatch: true, personCanRetry: false },
  forbidden: { readAgain: false, afterDispatch: "fail", endsWatch: true, personCanRetry: false },
  not_found: { readAgain: false, afterDispatch: "fail", endsWatch: true, personCanRetry: false },
  out_of_credits: { readAgain: false, afterDispatch: "fail", endsWatch: false, personCanRetry: true },
  // Refused before anything started: safe to repeat, after the wait Puffle asked for.
  rate_limited: { readAgain: true, afterDispatch: "retry", endsWatch: false, personCanRetry: true },
  // Puffle documents that a 500 on dispatch released the claim; a 502/503/504 may come from a proxy
  // after the task started.
  server_error: {
    readAgain: true,
    afterDispatch: (error) => (error.status === 500 ? "retry" : "ambiguous"),
    endsWatch: false,
    personCanRetry: true,
  },
  connection: {
    readAgain: true,
    afterDispatch: (error) => (error instanceof ConnectionError && error.notSent ? "retry" : "ambiguous"),
    endsWatch: false,
    personCanRetry: true,
  },
  timeout: { readAgain: true, afterDispatch: "ambiguous", endsWatch: false, personCanRetry: true },
  bad_response: { readAgain: false, afterDispatch: "ambiguous", endsWatch: false, personCanRetry: true },
};

/** What to do after a dispatch failed with `error`. */
export function afterDispatch(error: PuffleError): "retry" | "busy" | "ambiguous" | "fail" {
  const rule = ERROR_POLICY[error.code].afterDispatch;
  return typeof rule === "function" ? rule(error) : rule;
}
