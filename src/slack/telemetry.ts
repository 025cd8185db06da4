/** What the Slack layer reports for the operators' metrics (SPEC 10): methods and error codes only. */
export interface SlackTelemetry {
  /** A Web API call and how it ended: "ok", Slack's error code, "ratelimited", "http_5xx" or "request_failed". */
  slackCall(method: string, result: string): void;
  /** A streamed reply that fell back to the status message, and why (an error code). */
  streamFallback(reason: string): void;
  /** A thumbs up or down on a draft card. */
  feedback(rating: "up" | "down"): void;
}

export const NO_SLACK_TELEMETRY: SlackTelemetry = {
  slackCall() {},
  streamFallback() {},
  feedback() {},
};

/**
 * A fetch for the Web API client that reports every call: the method is the URL's last segment, the
 * result Slack's `ok` / `error` (read from a copy of the answer), or the HTTP failure.
 */
export function meteredFetch(telemetry: SlackTelemetry, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = label(new URL(url).pathname.split("/").filter(Boolean).at(-1));
    let response: Response;
    try {
      response = await base(input, init);
    } catch (error) {
      telemetry.slackCall(method, "request_failed");
      throw error;
    }
    if (response.status === 429) telemetry.slackCall(method, "ratelimited");
    else if (response.status !== 200) telemetry.slackCall(method, `http_${response.status}`);
    else {
      // Read before answering, so a call is counted by the time its caller sees the result.
      const answer = await response
        .clone()
        .json()
        .then(
          (body: unknown) => (body ?? {}) as { ok?: boolean; error?: string },
          () => undefined,
        );
      telemetry.slackCall(
        method,
        answer === undefined ? "unreadable" : answer.ok ? "ok" : label(answer.error, "error"),
      );
    }
    return response;
  };
}

/** Slack's method names and error codes are short snake_case words; anything else is not a label. */
function label(value: string | undefined, fallback = "unknown"): string {
  if (value === undefined) return fallback;
  return /^[a-zA-Z0-9_.]{1,64}$/.test(value) ? value : "other";
}
