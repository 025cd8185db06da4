import type { WebClient } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import { createMessageEditor } from "../../src/slack/message-editor.ts";
import { flush, ManualClock } from "../support/manual-clock.ts";

function stubClient(clock: ManualClock) {
  const updates: { at: number; ts: string; text: string }[] = [];
  const client = {
    chat: {
      update: async (args: { ts: string; text: string }) => {
        updates.push({ at: clock.now(), ts: args.ts, text: args.text });
        return { ok: true };
      },
    },
  } as unknown as WebClient;
  const update = async (channel: string, ts: string, message: { text: string; blocks: unknown[] }) => {
    await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never });
  };
  return { client, update, updates };
}

const message = (text: string) => ({ text, blocks: [] });

describe("message editor", () => {
  it("applies at most one chat.update per message per 2 s, keeping only the newest content", async () => {
    const clock = new ManualClock();
    const { update, updates } = stubClient(clock);
    const editor = createMessageEditor({ update, clock, minIntervalMs: 2000 });
    const start = clock.now();

    await editor.edit("C1", "1.1", message("queued"));
    const done: string[] = [];
    void editor.edit("C1", "1.1", message("drafting")).then(() => done.push("drafting"));
    void editor.edit("C1", "1.1", message("result")).then(() => done.push("result"));
    await flush();
    expect(updates.map((u) => u.text)).toEqual(["queued"]);

    await clock.advance(1999);
    expect(updates).toHaveLength(1);
    await clock.advance(1);
    expect(updates.map((u) => [u.text, u.at - start])).toEqual([
      ["queued", 0],
      ["result", 2000],
    ]);
    // Both waiting callers learn their content is (superseded and) shown.
    expect(done.sort()).toEqual(["drafting", "result"]);
  });

  it("edits of different messages never wait for each other", async () => {
    const clock = new ManualClock();
    const { update, updates } = stubClient(clock);
    const editor = createMessageEditor({ update, clock, minIntervalMs: 2000 });
    await editor.edit("C1", "1.1", message("a"));
    await editor.edit("C1", "2.2", message("b"));
    await editor.edit("C2", "1.1", message("c"));
    expect(updates.map((u) => u.text)).toEqual(["a", "b", "c"]);
  });

  it("flush applies waiting edits at once (shutdown)", async () => {
    const clock = new ManualClock();
    const { update, updates } = stubClient(clock);
    const editor = createMessageEditor({ update, clock, minIntervalMs: 2000 });
    await editor.edit("C1", "1.1", message("first"));
    void editor.edit("C1", "1.1", message("last"));
    await editor.flush();
    expect(updates.map((u) => u.text)).toEqual(["first", "last"]);
  });

  it("a Slack error reaches the caller, so it can post instead", async () => {
    const clock = new ManualClock();
    const update = async () => {
      throw Object.assign(new Error("An API error occurred: message_not_found"), {
        data: { error: "message_not_found" },
      });
    };
    const editor = createMessageEditor({ update, clock, minIntervalMs: 2000 });
    await expect(editor.edit("C1", "9.9", message("x"))).rejects.toMatchObject({
      data: { error: "message_not_found" },
    });
  });
});
