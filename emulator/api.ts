// The Puffle API handlers (puffle-api.md). Each one runs synchronously from "look up" to "claim", so the
// busy check and the claim can never interleave with another request.
import {
  errorReply,
  type Handler,
  HttpError,
  jsonReply,
  parseBody,
  type Reply,
  type RequestContext,
} from "./http.ts";
import { CreateSessionBody, ExamplesBody, NodeUpdateBody, SessionPatchBody, TurnBody } from "./requests.ts";
import type { ApiRouteName } from "./routes.ts";
import type { FaultControl } from "./scenarios.ts";
import type { Campaign } from "./seed.ts";
import type { EmulatorState, RecordedExamples, RecordedTurn, Session } from "./state.ts";
import type { TaskRunner, TaskWork } from "./tasks.ts";
import type { Workspace } from "./workspaces.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 50;

export interface ApiDeps {
  state: EmulatorState;
  faults: FaultControl;
  tasks: TaskRunner;
}

export function createApiHandlers({ state, faults, tasks }: ApiDeps): Record<ApiRouteName, Handler> {
  /** Sessions of another workspace are 404, like Puffle's ownership misses (never 403). */
  const findSession = (ctx: RequestContext): Session => {
    const id = ctx.params.sessionId;
    const session = id && UUID.test(id) ? state.sessions.get(id) : undefined;
    if (!session || state.ownerOf(session.id) !== callerOf(ctx).id)
      throw new HttpError(404, "Session not found");
    return session;
  };
  const findCampaign = (id: string | undefined): Campaign => {
    const campaign = id && UUID.test(id) ? state.campaigns.get(id) : undefined;
    if (!campaign) throw new HttpError(404, "Campaign not found");
    return campaign;
  };
  const findNode = (ctx: RequestContext, campaign: Campaign, id: string | undefined) => {
    const node = id && UUID.test(id) ? state.nodesIn(callerOf(ctx).id).get(id) : undefined;
    if (!node || node.campaign_id !== campaign.id)
      throw new HttpError(404, "Sequence node not found in this campaign");
    return node;
  };
  const campaignSummary = (campaign: Campaign) => ({
    ...campaign,
    node_count: state.nodesOf(campaign.id).length,
  });

  /**
   * Puffle's order: claim atomically (409 when busy), then dispatch; a failed dispatch releases the claim
   * and answers 500. Returns the refusal, or undefined when the session is now claimed.
   */
  const claimForDispatch = (session: Session, work: TaskWork["kind"]): Reply | undefined => {
    const status = work === "turn" ? "chat_processing" : "generating_examples";
    if (!state.claim(session, status)) {
      return errorReply(
        409,
        `Session is busy (${session.task_status}). Wait until task_status is null, then retry.`,
      );
    }
    if (faults.takeDispatchFailure(work === "turn" ? "sessions.turn" : "sessions.examples", session.id)) {
      state.releaseClaim(session);
      return errorReply(500, "Failed to dispatch the task. Nothing was queued; it is safe to retry.");
    }
    return undefined;
  };

  return {
    "sessions.create"(ctx) {
      const body = parseBody(ctx, CreateSessionBody);
      const campaign = findCampaign(body.campaign_id);
      const node = findNode(ctx, campaign, body.node_id);
      const caller = callerOf(ctx);
      // Our choice: a second create makes a new session; the fault models a Puffle that returns the old one.
      const existing = faults.takeCreateReturnsExisting()
        ? state.latestSessionFor(campaign.id, node.id, caller.id)
        : undefined;
      if (existing) return jsonReply({ session: existing });
      return jsonReply({ session: state.createSession(campaign.id, node.id, caller) }, 201);
    },

    "sessions.list"(ctx) {
      const campaignId = ctx.url.searchParams.get("campaign_id");
      if (!campaignId) throw new HttpError(400, "campaign_id is required");
      return jsonReply({ sessions: state.sessionsOf(findCampaign(campaignId).id, callerOf(ctx).id) });
    },

    "sessions.get"(ctx) {
      return jsonReply({ session: findSession(ctx) });
    },

    "sessions.patch"(ctx) {
      const session = findSession(ctx);
      state.patchSession(session, parseBody(ctx, SessionPatchBody));
      return jsonReply({ session });
    },

    "sessions.delete"(ctx) {
      state.deleteSession(findSession(ctx).id);
      return jsonReply({ success: true });
    },

    "sessions.turn"(ctx) {
      const session = findSession(ctx);
      const body = parseBody(ctx, TurnBody);
      const refusal = claimForDispatch(session, "turn");
      if (refusal) return refusal;
      state.recordTurnRequest(session.id, rawObject<RecordedTurn>(ctx));
      return jsonReply(tasks.dispatch(session, { kind: "turn", request: body }));
    },

    "sessions.examples"(ctx) {
      const session = findSession(ctx);
      const body = parseBody(ctx, ExamplesBody);
      if (session.skeleton === null) {
        throw new HttpError(400, "Session has no framework yet. Chat first to create one.");
      }
      const refusal = claimForDispatch(session, "examples");
      if (refusal) return refusal;
      state.recordExamplesRequest(session.id, rawObject<RecordedExamples>(ctx));
      return jsonReply(tasks.dispatch(session, { kind: "examples", request: body }));
    },

    "campaigns.list"() {
      return jsonReply({ campaigns: [...state.campaigns.values()].map(campaignSummary) });
    },

    "campaigns.get"(ctx) {
      const campaign = findCampaign(ctx.params.campaignId);
      return jsonReply({
        campaign: campaignSummary(campaign),
        sequence_nodes: state.nodesOf(campaign.id, callerOf(ctx).id),
      });
    },

    "campaigns.leads"(ctx) {
      const campaign = findCampaign(ctx.params.campaignId);
      const page = positiveInteger(ctx, "page", 1);
      const limit = Math.min(positiveInteger(ctx, "limit", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
      const status = ctx.url.searchParams.get("status");
      const matching = state
        .prospectsOf(campaign.id)
        .filter((prospect) => !status || prospect.status === status);
      const prospects = matching.slice((page - 1) * limit, page * limit);
      return jsonReply({ prospects, total: matching.length, page, limit });
    },

    "nodes.update"(ctx) {
      const campaign = findCampaign(ctx.params.campaignId);
      const node = findNode(ctx, campaign, ctx.params.nodeId);
      const changes = parseBody(ctx, NodeUpdateBody);
      if (campaign.status !== "draft") {
        throw new HttpError(400, `Campaign is ${campaign.status}; only draft campaigns can be edited`);
      }
      state.updateNode(node, changes);
      return jsonReply({ node });
    },
  };
}

/** The server only routes API requests here once their key is known. */
function callerOf(ctx: RequestContext): Workspace {
  if (!ctx.workspace) throw new HttpError(401, "Missing or invalid API key");
  return ctx.workspace;
}

/** The body exactly as sent (already validated by the caller), for tests that assert on what the bot sent. */
function rawObject<T>(ctx: RequestContext): T {
  return JSON.parse(ctx.rawBody) as T;
}

function positiveInteger(ctx: RequestContext, name: string, fallback: number): number {
  const text = ctx.url.searchParams.get(name);
  if (text === null || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new HttpError(400, `${name} must be a positive integer`);
  return value;
}
