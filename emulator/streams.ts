// A run's realtime stream: the reply written word by word while the task runs. Nothing is timed per
// word: the writer's schedule is fixed when the task starts, and a reader works out from the clock what
// has been written so far. Runs nobody reads cost no timers (the bench dispatches thousands).
//
// Records are numbered from 0 (seq). Record 0 is a command record (S2's "fence": a seq number with no
// data; v2 sends it, v1 skips it), then one data record per chunk. Resuming with Last-Event-ID n sends
// the records after n, in both framings.
import { randomBytes } from "node:crypto";
import type { ChunkShape } from "./settings.ts";

export interface StreamRecord {
  seq: number;
  /** Epoch ms when the writer writes it (unless the task finishes earlier). */
  at: number;
  /** Absent for a command record. */
  chunk?: unknown;
  /** The record id inside the v2 envelope `{ data, id }`; readers drop repeats of an id. */
  id: string;
}

export interface StreamPlan {
  key: string;
  /** The exact text the chunks add up to. */
  text: string;
  shape: ChunkShape;
  nonText: boolean;
  /** Epoch ms: the writer starts (the fence record), the first chunk follows. */
  startAt: number;
  /** Epoch ms: the last chunk is written. */
  endAt: number;
  /** Epoch ms when the writer ends; Infinity = only when the task is finished by hand. */
  endsAt: number;
}

export class RunStream {
  readonly key: string;
  #plan: StreamPlan;
  #records: StreamRecord[] | undefined;
  #finishedAt = Infinity;

  constructor(plan: StreamPlan) {
    this.key = plan.key;
    this.#plan = plan;
  }

  /** Every record the writer will write, in order (built on first use). */
  records(): StreamRecord[] {
    this.#records ??= buildRecords(this.#plan);
    return this.#records;
  }

  /** When the record is (or was) written. */
  writtenAt(record: StreamRecord): number {
    return Math.min(record.at, this.#finishedAt);
  }

  endsAt(): number {
    return Math.min(this.#plan.endsAt, this.#finishedAt);
  }

  /** The task ended at `now`: whatever was not written yet is written at once, then the writer ends. */
  finish(now: number): void {
    this.#finishedAt = Math.min(this.#finishedAt, now);
  }
}

/** Whole words with the whitespace after them, so the chunks concatenate to exactly the text. */
export function wordsOf(text: string): string[] {
  return text.match(/^\s+|\S+\s*/g) ?? [];
}

/** One word in the configured shape; "mixed" takes the four shapes in turn. */
export function chunkFor(word: string, shape: ChunkShape, index: number): unknown {
  const shapes = ["text-delta", "string", "delta", "text"] as const;
  switch (shape === "mixed" ? shapes[index % shapes.length] : shape) {
    case "string":
      return word;
    case "delta":
      return { delta: word };
    case "text":
      return { text: word };
    default:
      return { type: "text-delta", delta: word };
  }
}

/** Chunks with no text that a model stream may carry: every reader must skip them. */
function nonTextChunk(index: number): unknown {
  return {
    type: "tool-call",
    toolCallId: `call_${index}`,
    toolName: "lookup_lead",
    input: { field: "company" },
  };
}

const NON_TEXT_EVERY = 6;

function buildRecords(plan: StreamPlan): StreamRecord[] {
  const chunks: unknown[] = [];
  wordsOf(plan.text).forEach((word, i) => {
    if (plan.nonText && i % NON_TEXT_EVERY === 0) chunks.push(nonTextChunk(i));
    chunks.push(chunkFor(word, plan.shape, i));
  });
  if (plan.nonText) chunks.push({ type: "finish", finishReason: "stop" });

  const prefix = randomBytes(8).toString("base64url");
  const span = Math.max(0, plan.endAt - plan.startAt);
  const records: StreamRecord[] = [{ seq: 0, at: plan.startAt, id: `${prefix}-0` }];
  chunks.forEach((chunk, i) => {
    const at = plan.startAt + Math.round((span * (i + 1)) / chunks.length);
    records.push({ seq: i + 1, at, chunk, id: `${prefix}-${i + 1}` });
  });
  return records;
}
