// The reply stream read by the real @trigger.dev/sdk (streams.read inside auth.withAuth, and the run's
// realtimeStreams seen through runs.subscribeToRun), in both framings.
import { TriggerClient } from "@trigger.dev/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/server.ts";
import type { StreamVersion } from "../../emulator/settings.ts";
import { createSession, nextCompletion } from "./helpers.ts";
import { dispatchTurn, lastAssistant, readWithSdk, textOf } from "./stream-helpers.ts";

const TASK_MS = 800;
let emu: Emulator | undefined;

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emu = await startEmulator({ taskDelayMs: TASK_MS, realtimeHoldMs: 300, executingAfterMs: 50, ...options });
  return emu;
}
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe.each<StreamVersion>(["v1", "v2"])("streams.read of the reply stream, %s framing", (version) => {
  it("yields the reply word by word; the text is the assistant message the task saves", async () => {
    const emu = await start({ streamVersion: version });
    const session = await createSession(emu);
    const done = nextCompletion(emu, session.id);
    const dispatched = await dispatchTurn(emu, session.id);

    const read = await readWithSdk(emu, dispatched, "reply");
    const completed = await done;

    expect(read.chunks.length).toBeGreaterThan(10);
    expect(read.chunks.every((chunk) => textOf(chunk) !== undefined)).toBe(true);
    expect(read.chunks[0]).toEqual({ type: "text-delta", delta: expect.any(String) });
    expect(read.text).toBe(lastAssistant(emu, session.id));
    // Written while the task runs: the first word well before the end, the last one before the save.
    const firstAt = read.times[0] ?? Infinity;
    expect(completed.at - firstAt).toBeGreaterThan(TASK_MS / 2);
    // (a little slack: the reader and the task share one busy test process)
    expect(read.times.at(-1) ?? Infinity).toBeLessThanOrEqual(completed.at + 50);
  });

  it("a reader that comes after the task finished gets the whole reply at once", async () => {
    const emu = await start({ streamVersion: version, taskDelayMs: 200 });
    const session = await createSession(emu);
    const done = nextCompletion(emu, session.id);
    const dispatched = await dispatchTurn(emu, session.id);
    await done;

    const read = await readWithSdk(emu, dispatched, "reply");
    expect(read.text).toBe(lastAssistant(emu, session.id));
  });

  it("startIndex skips the chunks before it (Last-Event-ID on the wire)", async () => {
    const emu = await start({ streamVersion: version, taskDelayMs: 200 });
    const session = await createSession(emu);
    const done = nextCompletion(emu, session.id);
    const dispatched = await dispatchTurn(emu, session.id);
    await done;

    const whole = await readWithSdk(emu, dispatched, "reply");
    // Seq 0 is the writer's fence record, so startIndex n starts at chunk n - 1.
    const rest = await readWithSdk(emu, dispatched, "reply", { startIndex: 4 });
    expect(rest.chunks).toEqual(whole.chunks.slice(3));
  });

  it("every chunk shape reads back to the same text; non-text chunks come through and are skipped", async () => {
    for (const chunkShape of ["string", "delta", "text", "mixed"] as const) {
      const emu = await start({ streamVersion: version, taskDelayMs: 150, chunkShape, nonTextChunks: true });
      const session = await createSession(emu);
      const done = nextCompletion(emu, session.id);
      const read = await readWithSdk(emu, await dispatchTurn(emu, session.id), "reply");
      await done;

      expect(read.text).toBe(lastAssistant(emu, session.id));
      const nonText = read.chunks.filter((chunk) => textOf(chunk) === undefined);
      expect(nonText).toContainEqual(expect.objectContaining({ type: "tool-call" }));
      expect(nonText.at(-1)).toEqual({ type: "finish", finishReason: "stop" });
      if (chunkShape === "string") expect(typeof read.chunks[1]).toBe("string");
      if (chunkShape === "delta") expect(read.chunks[1]).toEqual({ delta: expect.any(String) });
      if (chunkShape === "text") expect(read.chunks[1]).toEqual({ text: expect.any(String) });
      await emu.close();
    }
  });
});

describe("the run lists its stream", () => {
  it("realtimeStreams names the key once the run executes; reading that key gives the reply", async () => {
    // Executing late enough that the first row the SDK sees is surely still PENDING.
    const emu = await start({ streamKey: "chat-reply", executingAfterMs: 300 });
    const session = await createSession(emu);
    const done = nextCompletion(emu, session.id);
    const dispatched = await dispatchTurn(emu, session.id);

    const client = new TriggerClient({ baseURL: emu.url, accessToken: dispatched.publicAccessToken });
    let reading: ReturnType<typeof readWithSdk> | undefined;
    const listed: string[][] = [];
    for await (const run of client.runs.subscribeToRun(dispatched.runId, {
      signal: AbortSignal.timeout(10_000),
      skipColumns: ["payload"],
    })) {
      listed.push(run.realtimeStreams);
      const key = run.realtimeStreams[0];
      if (key && !reading) reading = readWithSdk(emu, dispatched, key);
    }
    await done;

    expect(listed[0]).toEqual([]);
    expect(listed.at(-1)).toEqual(["chat-reply"]);
    expect((await reading)?.text).toBe(lastAssistant(emu, session.id));
  });
});
