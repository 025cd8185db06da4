import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import type { FakeSlack } from "./fake-slack.ts";

/**
 * Slack's side of Socket Mode, enough for the real @slack/socket-mode client: the WebSocket
 * apps.connections.open points at, a "hello", envelopes (events_api, slash_commands,
 * interactive) and the client's acks by envelope_id.
 */
export interface FakeSocketMode {
  /** Resolves once a client is connected and greeted. */
  connected(): Promise<void>;
  /** Sends an envelope and resolves with the client's ack (its optional payload). */
  send(
    type: "events_api" | "slash_commands" | "interactive",
    payload: object,
    retryAttempt?: number,
  ): Promise<unknown>;
  close(): Promise<void>;
}

export async function startFakeSocketMode(slack: FakeSlack): Promise<FakeSocketMode> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  slack.socketModeUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/`;
  let client: WebSocket | undefined;
  let greeted: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    greeted = resolve;
  });
  const acks = new Map<string, (payload: unknown) => void>();

  server.on("connection", (socket) => {
    client = socket;
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (message.envelope_id) acks.get(message.envelope_id)?.(message.payload);
    });
    socket.send(
      JSON.stringify({
        type: "hello",
        num_connections: 1,
        debug_info: { host: "fake", approximate_connection_time: 3600 },
        connection_info: { app_id: slack.appId },
      }),
    );
    greeted();
  });

  return {
    connected: () => ready,
    send(type, payload, retryAttempt = 0) {
      if (!client) return Promise.reject(new Error("no Socket Mode client connected"));
      const envelopeId = randomUUID();
      const acked = new Promise<unknown>((resolve) => acks.set(envelopeId, resolve));
      client.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== "events_api",
          retry_attempt: retryAttempt,
          retry_reason: retryAttempt > 0 ? "timeout" : "",
        }),
      );
      return acked;
    },
    async close() {
      for (const socket of server.clients) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
