// What `npm run emulator` prints on start: where it listens, a curl quick start that works as printed,
// the seed ids, and the .env lines for the bot.
import { SEED } from "./seed.ts";
import type { EmulatorSettings } from "./settings.ts";

export interface BannerFacts {
  url: string;
  apiKey: string;
  /** How many keys are accepted in all (the others are not printed). */
  keyCount: number;
  taskDelayMs: number;
  settings: EmulatorSettings;
}

/** Three commands: list campaigns, create a session, send a turn (SESSION_ID from the second answer). */
export function quickStart(url: string, apiKey: string): string[] {
  const auth = `-H "Authorization: Bearer ${apiKey}"`;
  const json = `${auth} -H "Content-Type: application/json"`;
  const sessions = `${url}/api/campaigns/ai-chat-sessions`;
  const create = JSON.stringify({
    campaign_id: SEED.draftCampaign.id,
    node_id: SEED.draftCampaign.emailNodeId,
  });
  const turn = JSON.stringify({ message: "Intro email for VPs of Sales at B2B SaaS companies" });
  return [
    `curl ${auth} ${url}/api/campaigns`,
    `curl ${json} -d '${create}' ${sessions}`,
    `curl ${json} -d '${turn}' ${sessions}/SESSION_ID/turn`,
  ];
}

export function bannerText({ url, apiKey, keyCount, taskDelayMs, settings }: BannerFacts): string {
  const draft = SEED.draftCampaign;
  const row = (label: string, id: string) => `  ${label.padEnd(52)} ${id}`;
  const streams = settings.streams
    ? `turn replies stream on key "${settings.streamKey}" (${settings.streamVersion}, ${settings.chunkShape} chunks)`
    : "runs write no realtime streams";
  const budget =
    settings.rateLimitPerMinute === null
      ? "no request limit"
      : `${settings.rateLimitPerMinute} requests/min per key`;
  return [
    `Puffle emulator listening on ${url}  (GET ${url}/ lists every route)`,
    `API key (Bearer): ${apiKey}${keyCount > 1 ? `  (+${keyCount - 1} more, each its own workspace)` : ""}`,
    `Turns take ${taskDelayMs} ms; ${streams}; ${budget}`,
    `Trigger.dev realtime (run feed and streams) is at ${url}/realtime/v1`,
    "",
    "Quick start (put the session id from the second answer in place of SESSION_ID):",
    ...quickStart(url, apiKey),
    "",
    "Seed campaigns and steps:",
    row(`${draft.name} (draft, email)`, draft.id),
    row("  step 1: email, position 0", draft.emailNodeId),
    row("  step 2: ai, position 2", draft.aiNodeId),
    row("  step 3: email, position 4", draft.secondEmailNodeId),
    row(`${SEED.activeCampaign.name} (active, email)`, SEED.activeCampaign.id),
    row("  step 1: email, position 0", SEED.activeCampaign.emailNodeId),
    row(`${SEED.pausedCampaign.name} (paused, linkedin)`, SEED.pausedCampaign.id),
    "",
    "For .env:",
    `PUFFLE_API_URL=${url}`,
    `PUFFLE_API_KEY=${apiKey}`,
    `PUFFLE_CAMPAIGN_ID=${draft.id}`,
    `PUFFLE_NODE_ID=${draft.emailNodeId}`,
    `TRIGGER_API_URL=${url}`,
    "",
    "Admin (any accepted key): GET /__admin/state, POST|GET|DELETE /__admin/faults, GET|POST /__admin/config,",
    "GET|POST /__admin/keys, POST /__admin/reset, POST /__admin/sessions/{id}/finish",
    "",
  ].join("\n");
}
