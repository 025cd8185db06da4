import { AbortedError } from "../clock.ts";
import { createSilentLogger } from "../logger.ts";
import { createPuffleClient, type PuffleClient } from "../puffle/client.ts";
import { CONTRACT } from "../puffle/contract.ts";
import { isPuffleError, type PuffleError } from "../puffle/errors.ts";
import { type DoctorCheck, type DoctorContext, isSet, NOT_SET_PLACEHOLDER, needs, skipped } from "./check.ts";
import { displayUrl, maskSecret, plural } from "./words.ts";

/**
 * The Puffle check: PUFFLE_API_KEY is accepted (it lists the campaigns), and the default step, when set,
 * is an email or AI step of a campaign the key can see, in a draft campaign (the only kind a draft can
 * be saved to). The check goes through the app's own client, so it reads Puffle as the bot will.
 */

const NAME = "Puffle key";

const KEY_FIX =
  "put a valid Puffle API key (pk_live_...) in PUFFLE_API_KEY; Puffle shows a key only once, so create a " +
  "new one if it is lost (or use the key `npm run emulator` prints, with its PUFFLE_API_URL)";

const CLEAR_STEP = "or clear PUFFLE_CAMPAIGN_ID and PUFFLE_NODE_ID to pick a step per channel";

export async function checkPuffle(ctx: DoctorContext): Promise<DoctorCheck> {
  if (ctx.view.config?.slack.oauth && !isSet(ctx, "PUFFLE_API_KEY") && !ctx.view.bad.has("PUFFLE_API_KEY")) {
    const why = ctx.view.placeholders.has("PUFFLE_API_KEY")
      ? `PUFFLE_API_KEY ${NOT_SET_PLACEHOLDER}`
      : "no PUFFLE_API_KEY";
    return skipped(
      NAME,
      `${why}: optional with OAuth installs, each workspace connects its own key in the App Home`,
    );
  }
  const { config, skip } = needs(ctx, NAME, ["PUFFLE_API_KEY", "PUFFLE_API_URL"]);
  if (skip) return skip;
  const { apiUrl, defaultStep } = config.puffle;
  const apiKey = config.puffle.apiKey ?? "";
  const where = displayUrl(apiUrl);
  const failure = (error: unknown) => puffleFailure(error, apiKey, where, ctx.timeoutMs);
  // One retry (not the app's four attempts): an operator waiting at a terminal wants the answer now.
  const client = createPuffleClient({
    baseUrl: apiUrl,
    apiKey,
    logger: createSilentLogger(),
    retry: { maxAttempts: 2 },
  });
  // The client keeps its normal per-attempt timeout; this bounds the whole check.
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  try {
    let campaignCount: number;
    try {
      campaignCount = (await client.listCampaigns({ signal })).length;
    } catch (error) {
      return { name: NAME, ...failure(error) };
    }
    const accepted = `PUFFLE_API_KEY ${maskSecret(apiKey)} accepted by ${where}: ${plural(campaignCount, "campaign")}`;
    if (ctx.view.bad.has("PUFFLE_CAMPAIGN_ID")) {
      return { name: NAME, ok: true, detail: `${accepted}; default step not checked (see Config)` };
    }
    if (!defaultStep) return { name: NAME, ok: true, detail: `${accepted}; no default step set` };
    const step = await checkDefaultStep(client, defaultStep, signal);
    switch (step.kind) {
      case "ok":
        return { name: NAME, ok: true, detail: `${accepted}; ${step.detail}` };
      case "warning":
        return { name: NAME, ok: false, warning: true, detail: `${accepted}; ${step.detail}`, fix: step.fix };
      case "wrong":
        return { name: NAME, ok: false, detail: `${accepted}; ${step.detail}`, fix: step.fix };
      case "error": {
        const failed = failure(step.error);
        return {
          name: NAME,
          ok: false,
          detail: `${accepted}; reading the default step: ${failed.detail}`,
          fix: failed.fix,
        };
      }
    }
  } finally {
    await client.close();
  }
}

type StepCheck =
  | { kind: "ok"; detail: string }
  | { kind: "warning" | "wrong"; detail: string; fix: string }
  | { kind: "error"; error: unknown };

async function checkDefaultStep(
  client: PuffleClient,
  step: { campaignId: string; nodeId: string },
  signal: AbortSignal,
): Promise<StepCheck> {
  let detail: Awaited<ReturnType<PuffleClient["getCampaign"]>>;
  try {
    detail = await client.getCampaign(step.campaignId, { signal });
  } catch (error) {
    if (isPuffleError(error) && error.code === "not_found") {
      return {
        kind: "wrong",
        detail: `PUFFLE_CAMPAIGN_ID ${step.campaignId} is not a campaign this key can see`,
        fix: `set PUFFLE_CAMPAIGN_ID to the id of one of your Puffle campaigns, ${CLEAR_STEP}`,
      };
    }
    return { kind: "error", error };
  }
  const draftable: readonly string[] = CONTRACT.draftableNodeTypes;
  const campaign = `"${detail.campaign.name}"`;
  const choices = detail.sequence_nodes
    .filter((node) => draftable.includes(node.type))
    .map((node) => `${node.id} (${node.type}, step ${node.position + 1})`);
  const fix = choices.length
    ? `set PUFFLE_NODE_ID to one of its ${draftable.join(" or ")} steps: ${choices.join(", ")}; ${CLEAR_STEP}`
    : `this campaign has no ${draftable.join(" or ")} step: pick another campaign, ${CLEAR_STEP}`;
  const node = detail.sequence_nodes.find((n) => n.id.toLowerCase() === step.nodeId);
  if (!node) {
    return {
      kind: "wrong",
      detail: `PUFFLE_NODE_ID ${step.nodeId} is not a step of campaign ${campaign}`,
      fix,
    };
  }
  if (!draftable.includes(node.type)) {
    return {
      kind: "wrong",
      detail: `PUFFLE_NODE_ID is a ${node.type} step of campaign ${campaign}; drafts need an ${draftable.join(" or ")} step`,
      fix,
    };
  }
  const found = `default step: the ${node.type} step ${node.position + 1} of ${campaign}`;
  const status = detail.campaign.status;
  if (status && status !== "draft") {
    return {
      kind: "warning",
      detail: `${found}; Save to campaign will refuse (campaign is ${status})`,
      fix:
        "drafting works, but Puffle takes saved steps only in draft campaigns: set PUFFLE_CAMPAIGN_ID and " +
        `PUFFLE_NODE_ID to a step of a draft campaign, ${CLEAR_STEP}`,
    };
  }
  return { kind: "ok", detail: found };
}

function puffleFailure(
  error: unknown,
  apiKey: string,
  where: string,
  timeoutMs: number,
): { ok: false; detail: string; fix: string } {
  const reachFix =
    `check PUFFLE_API_URL (now ${where}; default https://app.puffle.ai) and that this machine can ` +
    "make outbound HTTPS requests to it";
  const fail = (detail: string, fix: string) => ({ ok: false as const, detail, fix });
  if (error instanceof AbortedError) {
    return fail(`cannot reach PUFFLE_API_URL (${where}): no answer within ${timeoutMs} ms`, reachFix);
  }
  if (!isPuffleError(error)) return fail(`unexpected error talking to ${where}: ${String(error)}`, reachFix);
  switch (error.code) {
    case "unauthorized":
      return fail(
        `Puffle did not accept PUFFLE_API_KEY ${maskSecret(apiKey)} (HTTP 401 from ${where})`,
        KEY_FIX,
      );
    case "forbidden":
      return fail(
        `Puffle refused PUFFLE_API_KEY ${maskSecret(apiKey)} access to campaigns (HTTP 403)`,
        KEY_FIX,
      );
    case "connection":
    case "timeout":
      return fail(`cannot reach PUFFLE_API_URL (${where}): ${causeOf(error)}`, reachFix);
    case "not_found":
    case "bad_response":
      return fail(
        `${where} did not answer like the Puffle API (${error.message})`,
        "set PUFFLE_API_URL to Puffle's base URL, without /api (default https://app.puffle.ai)",
      );
    case "out_of_credits":
      return fail(error.message, "add credits to the Puffle workspace");
    default:
      return fail(`${error.message} (${where})`, "try again in a minute; if it persists, contact Puffle");
  }
}

/** "ECONNREFUSED" rather than "Could not reach Puffle": the detail already says that much. */
function causeOf(error: PuffleError): string {
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  return typeof cause?.code === "string" ? cause.code : error.message;
}
