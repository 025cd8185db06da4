import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import type { StepChoice } from "../../drafting/store.ts";
import { COMMAND } from "../ids.ts";
import { helpMessage } from "../render/help.ts";
import { renderDraftStarted } from "../render/prompts.ts";
import { slackErrorCode } from "../slack-errors.ts";
import { decodeIncoming } from "../text.ts";
import {
  authorOf,
  channelAllowed,
  isDirectChannel,
  type ListenerDeps,
  readPayload,
  tellUser,
} from "./deps.ts";
import { openPicker } from "./picker.ts";

/** The fields of a slash command we read. */
const CommandSchema = z.looseObject({
  text: z.string().default(""),
  team_id: z.string().min(1),
  channel_id: z.string().min(1),
  user_id: z.string().min(1),
  trigger_id: z.string().min(1),
});

/**
 * `/draft [brief]`, `/draft help`, `/draft settings`. Slash commands cannot run inside threads,
 * so a draft started here gets a new root message of its own.
 */
export function registerCommandListeners(app: App, deps: ListenerDeps): void {
  app.command(COMMAND, async ({ command: raw, ack, client }) => {
    await ack();
    const command = readPayload(deps, "command", CommandSchema, raw);
    if (!command) return;
    const where = { channel: command.channel_id, user: command.user_id };
    if (!channelAllowed(deps, command.channel_id)) {
      await tellUser(client, deps, where, "Puffle Drafter is not enabled in this channel.");
      return;
    }
    const words = command.text.trim();
    const keyword = words.toLowerCase();
    if (keyword === "help") {
      await tellUser(client, deps, where, helpMessage());
      return;
    }
    const metadata = { teamId: command.team_id, channelId: command.channel_id };
    if (keyword === "settings") {
      await openPicker(client, deps, {
        triggerId: command.trigger_id,
        metadata: { ...metadata, mode: "settings" },
      });
      return;
    }
    const brief = decodeIncoming(words, { botUserId: deps.botUserId });
    const step = await deps.drafting.resolveStep({
      teamId: command.team_id,
      channelId: command.channel_id,
      userId: command.user_id,
      isDirect: isDirectChannel(command.channel_id),
    });
    if (!brief || !step) {
      await openPicker(client, deps, {
        triggerId: command.trigger_id,
        metadata: { ...metadata, mode: "command" },
        brief,
      });
      return;
    }
    await startFromCommand(client, deps, {
      teamId: command.team_id,
      channelId: command.channel_id,
      userId: command.user_id,
      brief,
      step,
      dedupeKey: `command:${command.trigger_id}`,
    });
  });
}

/** Posts "<@user> started a draft: brief" and runs turn 1 in its thread. */
export async function startFromCommand(
  client: WebClient,
  deps: ListenerDeps,
  input: {
    teamId: string;
    channelId: string;
    userId: string;
    brief: string;
    step: StepChoice;
    dedupeKey: string;
  },
): Promise<void> {
  const root = renderDraftStarted({ userId: input.userId, brief: input.brief });
  let ts: string | undefined;
  try {
    // Keyed by the command's delivery: a lost answer is found in the channel, not posted twice.
    ts = await deps.poster.post(
      `root:${input.dedupeKey}`,
      { teamId: input.teamId, threadId: 0, channel: input.channelId },
      root,
    );
  } catch (error) {
    deps.logger.warn({ channel: input.channelId, err: slackErrorCode(error) }, "command.post_failed");
  }
  if (!ts) {
    await tellUser(
      client,
      deps,
      { channel: input.channelId, user: input.userId },
      "I could not post in this channel. Invite me first (`/invite @Puffle Drafter`), then try again.",
    );
    return;
  }
  const author = await authorOf(deps, { teamId: input.teamId, userId: input.userId });
  const started = await deps.drafting.startDraft({
    thread: { teamId: input.teamId, channelId: input.channelId, threadTs: ts },
    step: input.step,
    author,
    text: input.brief,
    slackTs: ts,
    dedupeKeys: [input.dedupeKey],
  });
  deps.logger.info(
    { channel: input.channelId, threadTs: ts, result: started.status },
    "command.draft_started",
  );
}
