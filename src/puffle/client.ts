import {
  type Campaign,
  type CampaignDetail,
  CampaignDetailSchema,
  CampaignListSchema,
  DeleteAnswerSchema,
  type GenerateExamplesRequest,
  type LeadsPage,
  LeadsPageSchema,
  NodeEnvelopeSchema,
  type NodePatch,
  type RunHandle,
  RunHandleSchema,
  type SequenceNode,
  type Session,
  SessionEnvelopeSchema,
  SessionListSchema,
  type SessionPatch,
  type TurnRequest,
} from "./schemas.ts";
import { type CallOptions, createTransport, type Endpoint, type TransportOptions } from "./transport.ts";

export type { CallOptions, Endpoint };

/** Puffle's API, one method per endpoint (puffle-api.md); every call goes through the transport. */
export interface PuffleClient {
  createSession(input: { campaign_id: string; node_id: string }, options?: CallOptions): Promise<Session>;
  listSessions(campaignId: string, options?: CallOptions): Promise<Session[]>;
  getSession(sessionId: string, options?: CallOptions): Promise<Session>;
  patchSession(sessionId: string, patch: SessionPatch, options?: CallOptions): Promise<Session>;
  deleteSession(sessionId: string, options?: CallOptions): Promise<void>;
  sendTurn(sessionId: string, body: TurnRequest, options?: CallOptions): Promise<RunHandle>;
  generateExamples(
    sessionId: string,
    body: GenerateExamplesRequest,
    options?: CallOptions,
  ): Promise<RunHandle>;
  listCampaigns(options?: CallOptions): Promise<Campaign[]>;
  getCampaign(campaignId: string, options?: CallOptions): Promise<CampaignDetail>;
  listLeads(
    campaignId: string,
    query?: { page?: number; limit?: number; status?: string },
    options?: CallOptions,
  ): Promise<LeadsPage>;
  updateNode(
    campaignId: string,
    nodeId: string,
    patch: NodePatch,
    options?: CallOptions,
  ): Promise<SequenceNode>;
  close(): Promise<void>;
}

export type PuffleClientOptions = TransportOptions;
export function createPuffleClient(options: PuffleClientOptions): PuffleClient {
  const { run, close } = createTransport(options);
  const id = (value: string) => encodeURIComponent(value);
  const sessions = "/api/campaigns/ai-chat-sessions";

  return {
    async createSession(input, callOptions) {
      const answer = await run({
        endpoint: "sessions.create",
        method: "POST",
        path: sessions,
        body: input,
        kind: "idempotent",
        schema: SessionEnvelopeSchema,
        options: callOptions,
      });
      return answer.session;
    },
    async listSessions(campaignId, callOptions) {
      const answer = await run({
        endpoint: "sessions.list",
        method: "GET",
        path: sessions,
        query: { campaign_id: campaignId },
        kind: "idempotent",
        schema: SessionListSchema,
        options: callOptions,
      });
      return answer.sessions;
    },
    async getSession(sessionId, callOptions) {
      const answer = await run({
        endpoint: "sessions.get",
        method: "GET",
        path: `${sessions}/${id(sessionId)}`,
        kind: "idempotent",
        schema: SessionEnvelopeSchema,
        options: callOptions,
      });
      return answer.session;
    },
    async patchSession(sessionId, patch, callOptions) {
      const answer = await run({
        endpoint: "sessions.patch",
        method: "PATCH",
        path: `${sessions}/${id(sessionId)}`,
        body: patch,
        kind: "idempotent",
        schema: SessionEnvelopeSchema,
        options: callOptions,
      });
      return answer.session;
    },
    async deleteSession(sessionId, callOptions) {
      await run({
        endpoint: "sessions.delete",
        method: "DELETE",
        path: `${sessions}/${id(sessionId)}`,
        kind: "idempotent",
        schema: DeleteAnswerSchema,
        options: callOptions,
      });
    },
    sendTurn(sessionId, body, callOptions) {
      return run({
        endpoint: "sessions.turn",
        method: "POST",
        path: `${sessions}/${id(sessionId)}/turn`,
        body,
        kind: "dispatch",
        schema: RunHandleSchema,
        options: callOptions,
      });
    },
    generateExamples(sessionId, body, callOptions) {
      return run({
        endpoint: "sessions.examples",
        method: "POST",
        path: `${sessions}/${id(sessionId)}/generate-examples`,
        body,
        kind: "dispatch",
        schema: RunHandleSchema,
        options: callOptions,
      });
    },
    async listCampaigns(callOptions) {
      const answer = await run({
        endpoint: "campaigns.list",
        method: "GET",
        path: "/api/campaigns",
        kind: "idempotent",
        schema: CampaignListSchema,
        options: callOptions,
      });
      return answer.campaigns;
    },
    getCampaign(campaignId, callOptions) {
      return run({
        endpoint: "campaigns.get",
        method: "GET",
        path: `/api/campaigns/${id(campaignId)}`,
        kind: "idempotent",
        schema: CampaignDetailSchema,
        options: callOptions,
      });
    },
    listLeads(campaignId, query, callOptions) {
      return run({
        endpoint: "campaigns.leads",
        method: "GET",
        path: `/api/campaigns/${id(campaignId)}/leads`,
        query: { page: query?.page, limit: query?.limit, status: query?.status },
        kind: "idempotent",
        schema: LeadsPageSchema,
        options: callOptions,
      });
    },
    async updateNode(campaignId, nodeId, patch, callOptions) {
      const answer = await run({
        endpoint: "campaigns.node",
        method: "PUT",
        path: `/api/campaigns/${id(campaignId)}/sequence/nodes/${id(nodeId)}`,
        body: patch,
        kind: "idempotent",
        schema: NodeEnvelopeSchema,
        options: callOptions,
      });
      return answer.node;
    },
    close,
  };
}
