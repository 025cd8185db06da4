import { describe, expect, it } from "vitest";
import type { FailureCode } from "../../../src/drafting/outcomes.ts";
import { ACTIONS, turnButtonValue } from "../../../src/slack/ids.ts";
import type { SlackMessage } from "../../../src/slack/render/blocks.ts";
import {
  renderFailure,
  renderMoved,
  renderReply,
  renderStatusMessage,
  renderTimedOut,
  statusText,
} from "../../../src/slack/render/status.ts";
import { expectNoSlackMarkup, expectValidMessages, HOSTILE, textsOf } from "./fixtures.ts";

const DANA = { id: "U0DANA", name: "Dana" };
const LEE = { id: "U0LEE", name: "Lee" };

const buttonsOf = (message: SlackMessage) =>
  message.blocks.flatMap((block) => (block.type === "actions" ? block.elements : []));

describe("statusText", () => {
  it("describes each state in plain words", () => {
    expect(statusText({ kind: "drafting", turnNumber: 3, requestedBy: [] })).toBe("Drafting... turn 3");
    expect(statusText({ kind: "drafting", turnNumber: 3, requestedBy: [DANA] })).toBe(
      "Drafting... turn 3 for Dana",
    );
    expect(statusText({ kind: "queued", count: 2, authors: [DANA, LEE] })).toBe(
      "Queued behind the current turn (2 messages: Dana, Lee)",
    );
    expect(statusText({ kind: "queued", count: 1, authors: [] })).toBe(
      "Queued behind the current turn (1 message)",
    );
    expect(statusText({ kind: "examples", leadCount: 5 })).toBe("Generating examples for 5 leads");
    expect(statusText({ kind: "creating" })).toBe("Starting a Puffle session...");
  });

  it("escapes names", () => {
    expect(
      statusText({ kind: "drafting", turnNumber: 1, requestedBy: [{ id: "U1", name: "<!channel>" }] }),
    ).toBe("Drafting... turn 1 for &lt;!channel&gt;");
  });
});

describe("renderStatusMessage", () => {
  it("is a valid message with an hourglass", () => {
    const message = renderStatusMessage({ kind: "queued", count: 2, authors: [DANA, LEE] });
    expectValidMessages([message]);
    expect(textsOf(message.blocks)).toEqual([
      ":hourglass_flowing_sand: Queued behind the current turn (2 messages: Dana, Lee)",
    ]);
  });
});

describe("renderReply", () => {
  it("converts the assistant's Markdown and escapes it", () => {
    const messages = renderReply([`**Here is v2.** See [docs](https://x.com).\n\n${HOSTILE}`]);
    expectValidMessages(messages);
    expectNoSlackMarkup(messages);
    expect(textsOf(messages[0]?.blocks)).toEqual([
      "*Here is v2.* See docs (https://x.com).\n\nHi &lt;!channel&gt; and &lt;@U123&gt;, see &lt;https://evil.example|x&gt; &amp; more",
    ]);
  });

  it("splits a very long reply across sections and messages", () => {
    const paragraph = `${"A sentence of the reply. ".repeat(40)}\n\n`;
    const messages = renderReply([paragraph.repeat(30), "```\ncode\n```"]);
    expectValidMessages(messages);
    expect(messages.length).toBeGreaterThan(1);
    const text = textsOf(messages.map((message) => message.blocks)).join("");
    expect(text.replace(/\s+/g, "")).toBe(`${paragraph.repeat(30)}\`\`\`\ncode\n\`\`\``.replace(/\s+/g, ""));
  });

  it("renders nothing for empty replies", () => {
    expect(renderReply([])).toEqual([]);
    expect(renderReply(["  "])).toEqual([]);
  });
});

/** Every failure code, checked by the compiler: adding a code without words here fails typecheck. */
const EVERY_CODE: Record<FailureCode, true> = {
  session_busy: true,
  no_framework: true,
  bad_request: true,
  unauthorized: true,
  forbidden: true,
  out_of_credits: true,
  not_found: true,
  rate_limited: true,
  server_error: true,
  connection: true,
  timeout: true,
  bad_response: true,
  no_reply: true,
  not_enough_leads: true,
  not_confirmed: true,
  internal: true,
  uninstalled: true,
  no_puffle_key: true,
};
const CODES = Object.keys(EVERY_CODE) as FailureCode[];

describe("renderFailure", () => {
  it.each(CODES)("explains %s in plain words, with Retry only when retryable", (code) => {
    for (const kind of ["chat", "examples"] as const) {
      const retryable = renderFailure({ code, detail: null, retryable: true, turnId: 9, kind });
      const final = renderFailure({ code, detail: null, retryable: false, turnId: 9, kind });
      expectValidMessages([retryable, final]);
      expect(buttonsOf(retryable)).toEqual([
        expect.objectContaining({
          action_id: ACTIONS.retry,
          value: turnButtonValue(9),
          text: expect.anything(),
        }),
      ]);
      expect(buttonsOf(final)).toEqual([]);
      expect(final.text).not.toMatch(/Retry/);
      expect(retryable.text).toMatch(/Retry/);
      expect(final.text).not.toMatch(/\bat \S+:\d+|Error:/);
    }
  });

  it("uses the words people need for the common failures", () => {
    const words = (code: FailureCode, retryable = false) =>
      renderFailure({ code, detail: null, retryable, turnId: 1, kind: "chat" }).text;
    expect(words("out_of_credits", true)).toBe(
      "Your Puffle workspace is out of credits. Add credits in Puffle, then press Retry.",
    );
    expect(words("unauthorized")).toBe(
      "Puffle did not accept the API key. An admin needs to check the workspace's Puffle key (the app's Home tab, or PUFFLE_API_KEY).",
    );
    expect(words("no_framework")).toBe(
      "Puffle needs a draft before it can generate examples. Reply in the thread first.",
    );
    expect(words("bad_response")).toMatch(/^Puffle sent an answer we could not read/);
    expect(words("session_busy")).toMatch(/^Puffle is still busy with this draft/);
    expect(words("not_found")).toMatch(/^This draft's Puffle session no longer exists/);
    expect(words("no_reply")).toMatch(/^Puffle finished without a reply/);
  });

  it("shows Puffle's detail escaped and cut short", () => {
    const message = renderFailure({
      code: "bad_request",
      detail: `${HOSTILE} ${"x".repeat(2000)}`,
      retryable: false,
      turnId: 1,
      kind: "examples",
    });
    expectValidMessages([message]);
    expectNoSlackMarkup(message);
    const detail = textsOf(message.blocks).find((text) => text.startsWith("Puffle said:"));
    expect(detail).toContain("Puffle said: Hi &lt;!channel&gt;");
    expect(detail?.length).toBeLessThan(700);
  });
});

describe("renderTimedOut", () => {
  it("offers Check again", () => {
    const message = renderTimedOut({ turnId: 12, minutes: 5 });
    expectValidMessages([message]);
    expect(message.text).toMatch(/^Puffle is taking longer than usual \(5 min\)/);
    expect(buttonsOf(message)).toEqual([
      expect.objectContaining({ action_id: ACTIONS.checkAgain, value: turnButtonValue(12) }),
    ]);
  });
});

describe("renderMoved", () => {
  it("links to the thread that holds the session", () => {
    const permalink = "https://team.slack.com/archives/C1/p123?thread_ts=1.2&cid=C1";
    const message = renderMoved({ permalink });
    expectValidMessages([message]);
    expect(message.text).toBe(
      "This campaign step's Puffle session is already being drafted in " +
        "<https://team.slack.com/archives/C1/p123?thread_ts=1.2&amp;cid=C1|another thread>; your message was added there.",
    );
  });

  it("does not link anything that is not a plain http(s) URL", () => {
    for (const permalink of ["javascript:alert(1)", "https://x.com|<!channel>", "https://x.com> <!here"]) {
      const message = renderMoved({ permalink });
      expectValidMessages([message]);
      expectNoSlackMarkup(message);
      expect(message.text).toContain("already being drafted in another thread;");
    }
  });
});
