// Shared helpers for the emulator tests: plain fetch against a real localhost emulator.
import { SEED } from "../../emulator/seed.ts";
import type { Emulator } from "../../emulator/server.ts";
import type { Session } from "../../emulator/state.ts";
import type { TaskEvent } from "../../emulator/tasks.ts";

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: T;
  text: string;
}

export interface CallOptions {
  /** Defaults to the emulator's key; null sends no Authorization header. */
  key?: string | null;
  /** Sent verbatim instead of JSON.stringify(body). */
  rawBody?: string;
}

export async function call<T = Record<string, unknown>>(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const key = options.key === undefined ? emu.apiKey : options.key;
  const response = await fetch(`${emu.url}${path}`, {
    method,
    headers: {
      ...(key !== null && { authorization: `Bearer ${key}` }),
      ...(body !== undefined || options.rawBody !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(options.rawBody !== undefined
      ? { body: options.rawBody }
      : body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: parseOrText(text) as T, text };
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const SESSIONS = "/api/campaigns/ai-chat-sessions";

export async function createSession(
  emu: Emulator,
  nodeId: string = SEED.draftCampaign.emailNodeId,
  campaignId: string = SEED.draftCampaign.id,
): Promise<Session> {
  const response = await call<{ session: Session }>(emu, "POST", SESSIONS, {
    campaign_id: campaignId,
    node_id: nodeId,
  });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
  return response.body.session;
}

export async function getSession(emu: Emulator, sessionId: string): Promise<Session> {
  const response = await call<{ session: Session }>(emu, "GET", `${SESSIONS}/${sessionId}`);
  if (response.status !== 200) throw new Error(`get failed: ${response.status} ${response.text}`);
  return response.body.session;
}

/** Resolves with the next "task.completed" event of that session (register before dispatching). */
export function nextCompletion(emu: Emulator, sessionId: string): Promise<TaskEvent> {
  return new Promise((resolve) => {
    const listener = (event: TaskEvent) => {
      if (event.sessionId !== sessionId) return;
      emu.events.off("task.completed", listener);
      resolve(event);
    };
    emu.events.on("task.completed", listener);
  });
}

/** Sends a turn, waits for the task to finish, and returns the session as the API shows it then. */
export async function runTurn(
  emu: Emulator,
  sessionId: string,
  message: string,
  hints: Record<string, unknown> = {},
): Promise<Session> {
  const done = nextCompletion(emu, sessionId);
  const response = await call(emu, "POST", `${SESSIONS}/${sessionId}/turn`, { message, ...hints });
  if (response.status !== 200) throw new Error(`turn failed: ${response.status} ${response.text}`);
  await done;
  return getSession(emu, sessionId);
}

export const LEADS = [
  {
    id: SEED.draftCampaign.leadIds[0],
    first_name: "Maya",
    last_name: "Patel",
    full_name: "Maya Patel",
    company: "Brightlane",
    position: "VP of Sales",
    headline: "VP Sales @ Brightlane",
    linkedin_url: "https://www.linkedin.com/in/maya-patel",
    custom_fields: { industry: "HR software", team_size: "38" },
  },
  {
    first_name: "Daniel",
    last_name: "Okafor",
    company: "Corvid Logistics",
    position: "Head of Sales",
    custom_fields: { industry: "Logistics SaaS", team_size: 22 },
  },
  {
    first_name: "Sofia",
    last_name: "Lindqvist",
    full_name: "Sofia Lindqvist",
    company: "Nordhaven Health",
    position: "Chief Revenue Officer",
    headline: null,
    custom_fields: {},
  },
];
