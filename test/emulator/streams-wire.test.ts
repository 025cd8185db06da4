// The reply stream's wire format, read with plain fetch: framing, resume, timeouts, auth, settings.
import { afterEach, describe, expect, it } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/server.ts";
import { wordsOf } from "../../emulator/streams.ts";
import { call, createSession, nextCompletion, runTurn, SESSIONS } from "./helpers.ts";
import {
  type Dispatched,
  dispatchTurn,
  fetchStream,
  lastAssistant,
  parseSse,
  streamUrl,
  textOf,
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

/** A finished turn: its whole stream is there to read at once. */
async function finishedTurn(emu: Emulator): Promise<{ sessionId: string; dispatched: Dispatched }> {
  const session = await createSession(emu);
  const done = nextCompletion(emu, session.id);
  const dispatched = await dispatchTurn(emu, session.id);
  await done;
  return { sessionId: session.id, dispatched };
}

describe("v1 framing", () => {
  it("one event per chunk: `id: <seq>` and `data: <chunk JSON>`, then the response ends", async () => {
    const emu = await start({ streamVersion: "v1" });
    const { sessionId, dispatched } = await finishedTurn(emu);

    const response = await fetchStream(emu, dispatched, "reply");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("x-stream-version")).toBe("v1");
    const events = parseSse(await response.text());

    const reply = lastAssistant(emu, sessionId) ?? "";
    expect(events.map((event) => event.id)).toEqual(wordsOf(reply).map((_, i) => String(i + 1)));
    const chunks = events.map((event) => JSON.parse(event.data));
    expect(chunks[0]).toEqual({ type: "text-delta", delta: wordsOf(reply)[0] });
    expect(chunks.map(textOf).join("")).toBe(reply);
  });

  it("Last-Event-ID resumes after that seq", async () => {
    const emu = await start({ streamVersion: "v1" });
    const { dispatched } = await finishedTurn(emu);
    const events = parseSse(
      await (await fetchStream(emu, dispatched, "reply", { "last-event-id": "5" })).text(),
    );
    expect(events[0]?.id).toBe("6");
  });
});

describe("v2 framing", () => {
  it("batch events of records with a { data, id } body; the fence record has an empty header name", async () => {
    const emu = await start();
    const { sessionId, dispatched } = await finishedTurn(emu);

    const response = await fetchStream(emu, dispatched, "reply");
    expect(response.headers.get("x-stream-version")).toBe("v2");
    const events = parseSse(await response.text());
    expect(events.every((event) => event.event === "batch")).toBe(true);
    const batch = JSON.parse(events[0]?.data ?? "{}");
    expect(batch.tail).toEqual({ seq_num: expect.any(Number), timestamp: expect.any(Number) });

    const records = v2Records(events);
    expect(records[0]).toEqual({
      body: "",
      seq_num: 0,
      timestamp: expect.any(Number),
      headers: [["", "fence"]],
    });
    const data = records.slice(1).map((record) => JSON.parse(record.body));
    expect(records.slice(1).map((record) => record.seq_num)).toEqual(data.map((_, i) => i + 1));
    expect(data[0]).toEqual({
      data: { type: "text-delta", delta: expect.any(String) },
      id: expect.any(String),
    });
    expect(new Set(data.map((body) => body.id)).size).toBe(data.length);
    expect(data.map((body) => textOf(body.data)).join("")).toBe(lastAssistant(emu, sessionId));
  });

  it("Last-Event-ID resumes after that seq_num", async () => {
    const emu = await start();
    const { dispatched } = await finishedTurn(emu);
    const events = parseSse(
      await (await fetchStream(emu, dispatched, "reply", { "last-event-id": "3" })).text(),
    );
    expect(v2Records(events)[0]?.seq_num).toBe(4);
  });
});

describe("while the task runs", () => {
  it("chunks arrive spread over the task; the response ends after the last one, before the session is saved", async () => {
    const emu = await start({ taskDelayMs: 800 });
    const session = await createSession(emu);
    const done = nextCompletion(emu, session.id);
    const dispatched = await dispatchTurn(emu, session.id);
    let closedAt = Infinity;
    emu.events.on("request", (event: { route: string }) => {
      if (event.route === "realtime.stream") closedAt = performance.now();
    });

    const response = await fetchStream(emu, dispatched, "reply");
    const arrivals: number[] = [];
    const decoder = new TextDecoder();
    let body = "";
    for await (const bytes of response.body ?? []) {
      arrivals.push(performance.now());
      body += decoder.decode(bytes, { stream: true });
    }
    const endedAt = performance.now();
    const completed = await done;

    expect(arrivals.length).toBeGreaterThan(5);
    expect(completed.at - (arrivals[0] ?? Infinity)).toBeGreaterThan(400);
    // The server ended the response before the session was saved; the reader saw it end about then.
    expect(closedAt).toBeLessThan(completed.at);
    expect(endedAt).toBeLessThanOrEqual(completed.at + 50);
    const text = v2Records(parseSse(body))
      .filter((record) => record.body !== "")
      .map((record) => textOf(JSON.parse(record.body).data))
      .join("");
    expect(text).toBe(lastAssistant(emu, session.id));
  });

  it("Timeout-Seconds ends a response that waited that long, with what was written so far", async () => {
    const emu = await start({ taskDelayMs: 600 });
    emu.faults.inject({ kind: "never_finish" });
    const session = await createSession(emu);
    const dispatched = await dispatchTurn(emu, session.id);

    const started = performance.now();
    const response = await fetchStream(emu, dispatched, "reply", { "timeout-seconds": "1" });
    const records = v2Records(parseSse(await response.text()));
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(2000);
    // The words were all written (over the usual 600 ms), but the writer never ended.
    expect(records.length).toBeGreaterThan(5);
  });

  it("finishing a never-ending task writes the rest and ends the stream; the text is the saved reply", async () => {
    const emu = await start({ taskDelayMs: 60_000 });
    emu.faults.inject({ kind: "never_finish" });
    const session = await createSession(emu);
    const dispatched = await dispatchTurn(emu, session.id);

    const reading = fetchStream(emu, dispatched, "reply").then((response) => response.text());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emu.finishTask(session.id)).toBe(true);
    const records = v2Records(parseSse(await reading)).filter((record) => record.body !== "");
    expect(records.map((record) => textOf(JSON.parse(record.body).data)).join("")).toBe(
      lastAssistant(emu, session.id),
    );
  });
});

describe("which runs have a stream", () => {
  it("401 without the run's token, 404 for an unknown key or a run forgotten by reset", async () => {
    const emu = await start();
    const first = await finishedTurn(emu);
    const second = await finishedTurn(emu);
    const url = streamUrl(emu, first.dispatched.runId, "reply");

    expect((await fetch(url)).status).toBe(401);
    expect((await fetchStream(emu, { ...first.dispatched, publicAccessToken: "nope" }, "reply")).status).toBe(
      401,
    );
    const otherToken = { ...first.dispatched, publicAccessToken: second.dispatched.publicAccessToken };
    expect((await fetchStream(emu, otherToken, "reply")).status).toBe(401);
    expect((await fetchStream(emu, first.dispatched, "default")).status).toBe(404);
    emu.reset();
    const forgotten = await fetchStream(emu, first.dispatched, "reply");
    expect(forgotten.status).toBe(404);
    expect(await forgotten.json()).toEqual({ error: expect.any(String) });
  });

  it("examples runs and runs with streams off declare none (realtimeStreams stays empty)", async () => {
    const emu = await start({ streams: false });
    const { sessionId, dispatched } = await finishedTurn(emu);
    expect(emu.state.runs.get(dispatched.runId)?.streams.size).toBe(0);
    expect((await fetchStream(emu, dispatched, "reply")).status).toBe(404);

    emu.configure({ streams: true });
    await runTurn(emu, sessionId, "VPs of Sales, 50-200 people");
    const leads = [{ first_name: "A" }, { first_name: "B" }, { first_name: "C" }];
    const examples = await call<Dispatched>(emu, "POST", `${SESSIONS}/${sessionId}/generate-examples`, {
      leads,
      isFirstBatch: true,
    });
    expect(examples.status).toBe(200);
    expect(emu.state.runs.get(examples.body.runId)?.streams.size).toBe(0);
  });

  it("a turn whose task saves no reply writes an empty stream that ends with the task", async () => {
    const emu = await start();
    emu.faults.inject({ kind: "no_assistant_message" });
    const { dispatched } = await finishedTurn(emu);
    const records = v2Records(parseSse(await (await fetchStream(emu, dispatched, "reply")).text()));
    expect(records.filter((record) => record.body !== "")).toEqual([]);
  });
});

describe("switching settings at run time", () => {
  it("emu.configure and POST /__admin/config change the framing of the next response", async () => {
    const emu = await start();
    const { dispatched } = await finishedTurn(emu);

    expect(emu.configure({ streamVersion: "v1" })).toMatchObject({ streamVersion: "v1", streamKey: "reply" });
    expect((await fetchStream(emu, dispatched, "reply")).headers.get("x-stream-version")).toBe("v1");

    const changed = await call(emu, "POST", "/__admin/config", { streamVersion: "v2", chunkShape: "string" });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({
      settings: expect.objectContaining({ streamVersion: "v2", chunkShape: "string" }),
    });
    expect((await fetchStream(emu, dispatched, "reply")).headers.get("x-stream-version")).toBe("v2");
    expect((await call(emu, "GET", "/__admin/config")).body).toEqual(changed.body);

    expect((await call(emu, "POST", "/__admin/config", { streamVersion: "v3" })).status).toBe(400);
    expect((await call(emu, "POST", "/__admin/config", { colour: "blue" })).status).toBe(400);
  });
});
