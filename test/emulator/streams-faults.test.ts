// Stream faults, seen by the real SDK reader and by plain fetch.
import { afterEach, describe, expect, it } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/server.ts";
import { createSession, nextCompletion } from "./helpers.ts";
import {
  type Dispatched,
  dispatchTurn,
  fetchStream,
  lastAssistant,
  parseSse,
  readWithSdk,
  v2Records,
} from "./stream-helpers.ts";

let emu: Emulator | undefined;

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emu = await startEmulator({ taskDelayMs: 200, realtimeHoldMs: 300, executingAfterMs: 20, ...options });
  return emu;
}
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function finishedTurn(emu: Emulator): Promise<{ sessionId: string; dispatched: Dispatched }> {
  const session = await createSession(emu);
  const done = nextCompletion(emu, session.id);
  const dispatched = await dispatchTurn(emu, session.id);
  await done;
  return { sessionId: session.id, dispatched };
}

function settle<T>(promise: Promise<T>) {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error as { status?: number } }),
  );
}

describe("refused streams", () => {
  it("stream_401: the SDK reader fails with 401, then the stream works again", async () => {
    const emu = await start();
    const { sessionId, dispatched } = await finishedTurn(emu);
    emu.faults.inject({ kind: "stream_401" });

    const refused = await settle(readWithSdk(emu, dispatched, "reply"));
    expect(refused).toEqual({ error: expect.objectContaining({ status: 401 }) });
    expect((await readWithSdk(emu, dispatched, "reply")).text).toBe(lastAssistant(emu, sessionId));
  });

  it("stream_404: the SDK reader fails with 404 (not retried)", async () => {
    const emu = await start();
    const { dispatched } = await finishedTurn(emu);
    emu.faults.inject({ kind: "stream_404" });
    const refused = await settle(readWithSdk(emu, dispatched, "reply"));
    expect(refused).toEqual({ error: expect.objectContaining({ status: 404 }) });
    expect(emu.faults.pending()).toEqual([]);
  });

  it("stream faults never land on the run feed or the API, and realtime_401 never lands on a stream", async () => {
    const emu = await start();
    const { dispatched } = await finishedTurn(emu);
    emu.faults.inject({ kind: "realtime_401" });
    emu.faults.inject({ kind: "stream_404" });
    const feed = await fetch(`${emu.url}/realtime/v1/runs/${dispatched.runId}?offset=-1`, {
      headers: { authorization: `Bearer ${dispatched.publicAccessToken}` },
    });
    expect(feed.status).toBe(401);
    expect((await fetchStream(emu, dispatched, "reply")).status).toBe(404);
    expect((await fetchStream(emu, dispatched, "reply")).status).toBe(200);
  });
});

describe("stream_hang", () => {
  it("answers 200 with event-stream headers, then sends nothing until the reader gives up", async () => {
    const emu = await start();
    const { dispatched } = await finishedTurn(emu);
    emu.faults.inject({ kind: "stream_hang" });

    const giveUp = new AbortController();
    const response = await fetchStream(emu, dispatched, "reply", {}, giveUp.signal);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = response.body?.getReader();
    const first = await Promise.race([
      reader?.read().then(
        () => "data",
        () => "aborted",
      ),
      new Promise((resolve) => setTimeout(() => resolve("silence"), 400)),
    ]);
    expect(first).toBe("silence");
    giveUp.abort();
  });

  it("the SDK reader waits until its signal fires, with no chunks", async () => {
    const emu = await start();
    const { dispatched } = await finishedTurn(emu);
    emu.faults.inject({ kind: "stream_hang" });
    const started = performance.now();
    const read = await readWithSdk(emu, dispatched, "reply", { signal: AbortSignal.timeout(500) });
    expect(read.chunks).toEqual([]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
  });
});

describe("stream_cut", () => {
  it.each(["v1", "v2"] as const)(
    "drop (%s): the connection dies after N chunks; the SDK resumes with Last-Event-ID and gets the whole reply once",
    async (streamVersion) => {
      const emu = await start({ streamVersion });
      const { sessionId, dispatched } = await finishedTurn(emu);
      emu.faults.inject({ kind: "stream_cut", afterChunks: 4 });
      const requests: number[] = [];
      emu.events.on("request", (event: { route: string; status: number }) => {
        if (event.route === "realtime.stream") requests.push(event.status);
      });

      const read = await readWithSdk(emu, dispatched, "reply");
      expect(read.text).toBe(lastAssistant(emu, sessionId));
      expect(requests.length).toBe(2);
    },
  );

  it("drop, read raw: four chunks, then the body fails", async () => {
    const emu = await start();
    const { dispatched } = await finishedTurn(emu);
    emu.faults.inject({ kind: "stream_cut", afterChunks: 4 });
    const response = await fetchStream(emu, dispatched, "reply");
    const decoder = new TextDecoder();
    let body = "";
    const outcome = await (async () => {
      try {
        for await (const bytes of response.body ?? []) body += decoder.decode(bytes, { stream: true });
        return "ended";
      } catch {
        return "failed";
      }
    })();
    expect(outcome).toBe("failed");
    expect(v2Records(parseSse(body)).filter((record) => record.body !== "")).toHaveLength(4);
  });

  it("end: the response ends cleanly after N chunks, so the SDK reader takes the cut text as the reply", async () => {
    const emu = await start({ streamVersion: "v1" });
    const { sessionId, dispatched } = await finishedTurn(emu);
    emu.faults.inject({ kind: "stream_cut", afterChunks: 3, how: "end" });

    const read = await readWithSdk(emu, dispatched, "reply");
    expect(read.chunks).toHaveLength(3);
    expect(lastAssistant(emu, sessionId)?.startsWith(read.text)).toBe(true);
    expect(read.text.length).toBeLessThan(lastAssistant(emu, sessionId)?.length ?? 0);
  });
});

describe("no_streams", () => {
  it("the next turn's run lists no stream and its key is a 404; the turn after has one again", async () => {
    const emu = await start();
    emu.faults.inject({ kind: "no_streams" });
    const first = await finishedTurn(emu);
    const second = await finishedTurn(emu);

    expect(emu.state.runs.get(first.dispatched.runId)?.streams.size).toBe(0);
    expect((await fetchStream(emu, first.dispatched, "reply")).status).toBe(404);
    const feed = await fetch(`${emu.url}/realtime/v1/runs/${first.dispatched.runId}?offset=-1`, {
      headers: { authorization: `Bearer ${first.dispatched.publicAccessToken}` },
    });
    const rows = (await feed.json()) as Array<{ value?: { realtimeStreams: string[] } }>;
    expect(rows[0]?.value?.realtimeStreams).toEqual([]);
    expect((await fetchStream(emu, second.dispatched, "reply")).status).toBe(200);
  });

  it("is accepted over the admin endpoint, as are the other stream faults", async () => {
    const emu = await start();
    for (const fault of [
      { kind: "no_streams" },
      { kind: "stream_401" },
      { kind: "stream_404" },
      { kind: "stream_hang", times: -1 },
      { kind: "stream_cut", afterChunks: 2, how: "end" },
    ]) {
      const response = await fetch(`${emu.url}/__admin/faults`, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.apiKey}` },
        body: JSON.stringify(fault),
      });
      expect(response.status).toBe(201);
    }
    expect(emu.faults.pending().map((fault) => fault.kind)).toEqual([
      "no_streams",
      "stream_401",
      "stream_404",
      "stream_hang",
      "stream_cut",
    ]);
  });
});
