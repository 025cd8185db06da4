import type { DraftSummary, WorkspaceStatus } from "../../drafting/drafting-service.ts";
import { ACTIONS, COMMAND } from "../ids.ts";
import { SLACK_LIMITS as L } from "../limits.ts";
import {
  actions,
  type Block,
  type Button,
  button,
  confirmDialog,
  context,
  divider,
  header,
  section,
} from "../render/blocks.ts";
import { escapeMrkdwn, truncate } from "../text.ts";

/**
 * The App Home tab (SPEC 8): the Puffle connection, the workspace's default campaign and step, the
 * viewer's recent drafts and short help. Pure: the caller gathers what it shows (home-tab.ts).
 */

export interface HomeView {
  type: "home";
  blocks: Block[];
}

export interface HomeDraft {
  brief: string;
  channelId: string;
  state: DraftSummary["state"];
  version: number | null;
  updatedAt: number;
  /** Where the thread opens in Slack. */
  link: string;
}

export interface HomeContent {
  /** Admins, owners and the installing user see the buttons that change the workspace's settings. */
  isAdmin: boolean;
  status: WorkspaceStatus;
  /** The default step's names, when there is one and Puffle could tell them. */
  defaultStep: { campaignName: string; stepLabel: string } | undefined;
  /** Newest first; at most `MAX_DRAFTS` are shown. */
  drafts: readonly HomeDraft[];
}

export const MAX_DRAFTS = 10;
/** How much of a brief the list shows. */
const BRIEF_CHARS = 150;

export const STATE_WORDS: Record<DraftSummary["state"], string> = {
  drafting: "drafting",
  waiting_for_you: "waiting for you",
  saved: "saved",
  failed: "failed",
  needs_step: "needs a campaign and step",
  ended: "ended",
};

const STATE_EMOJI: Record<DraftSummary["state"], string> = {
  drafting: ":hourglass_flowing_sand:",
  waiting_for_you: ":speech_balloon:",
  saved: ":white_check_mark:",
  failed: ":warning:",
  needs_step: ":compass:",
  ended: ":no_entry_sign:",
};

const WHO_CAN_CHANGE = "Workspace admins, owners and the person who installed the app can change this.";

export function renderHome(content: HomeContent): HomeView {
  const blocks: Block[] = [
    ...connectionBlocks(content),
    divider(),
    ...defaultStepBlocks(content),
    divider(),
    ...draftBlocks(content.drafts),
    divider(),
    ...helpBlocks(),
  ];
  return { type: "home", blocks: blocks.slice(0, L.modalBlocks) };
}

/** "…abcd": the only part of a key ever shown. */
export function keyHint(last4: string | null): string {
  return `…${escapeMrkdwn(last4 ?? "????")}`;
}

function connectionBlocks({ status, isAdmin }: HomeContent): Block[] {
  const blocks: Block[] = [header("Puffle connection")];
  switch (status.connection) {
    case "workspace":
      blocks.push(
        section(
          `:large_green_circle: Connected with this workspace's Puffle API key *${keyHint(status.last4)}*` +
            `${status.connectedBy ? `, by <@${status.connectedBy}>` : ""}.`,
        ),
      );
      break;
    case "default":
      blocks.push(
        section(
          `:large_green_circle: Connected through this app's default Puffle API key *${keyHint(status.last4)}*.` +
            (isAdmin && status.canConnect ? " Connect your own key to draft with your Puffle account." : ""),
        ),
      );
      break;
    case "none":
      blocks.push(
        section(
          ":red_circle: Not connected. Messages to Puffle Drafter wait until " +
            (isAdmin ? "you connect a Puffle API key." : "a workspace admin connects Puffle here."),
        ),
      );
      break;
  }
  if (!isAdmin) {
    blocks.push(context(WHO_CAN_CHANGE));
    return blocks;
  }
  const buttons: Button[] = [
    button({
      actionId: ACTIONS.homeConnect,
      text: status.connection === "workspace" ? "Change key" : "Connect Puffle",
      value: "connect",
      ...(status.connection === "none" ? { style: "primary" as const } : {}),
    }),
  ];
  if (status.connection === "workspace") {
    buttons.push(
      button({
        actionId: ACTIONS.homeDisconnect,
        text: "Disconnect",
        value: "disconnect",
        style: "danger",
        confirm: confirmDialog({
          title: "Disconnect Puffle?",
          text:
            "The workspace's key is removed. New messages use the app's default key if there is one, " +
            "otherwise they wait until a key is connected again.",
          confirm: "Disconnect",
          deny: "Cancel",
        }),
      }),
    );
  }
  blocks.push(actions("home.connection", buttons));
  if (!status.canConnect) {
    blocks.push(
      context(
        "Keys can be connected here once whoever runs the app sets ENCRYPTION_KEY (keys are kept encrypted).",
      ),
    );
  }
  return blocks;
}

function defaultStepBlocks({ status, defaultStep, isAdmin }: HomeContent): Block[] {
  const blocks: Block[] = [header("Default campaign and step")];
  const chosen = status.defaultStep;
  if (!chosen) {
    blocks.push(
      section("None yet: a draft in a channel without its own choice asks for a campaign and step."),
    );
  } else {
    const what = defaultStep
      ? `*${escapeMrkdwn(defaultStep.campaignName)}* · ${escapeMrkdwn(defaultStep.stepLabel)}`
      : `Campaign \`${escapeMrkdwn(chosen.campaignId)}\`, step \`${escapeMrkdwn(chosen.nodeId)}\` (Puffle could not name them just now)`;
    const source = status.defaultSource === "deployment" ? " (the app's default)" : "";
    blocks.push(section(`${what}${source}`));
  }
  blocks.push(
    context(
      `New drafts use the channel's choice (\`${COMMAND} settings\`) first, then this. ` +
        "In direct messages, your own last choice comes first.",
    ),
  );
  if (isAdmin) {
    blocks.push(
      actions("home.default", [
        button({ actionId: ACTIONS.homeChangeDefault, text: "Change", value: "default" }),
      ]),
    );
  }
  return blocks;
}

function draftBlocks(drafts: readonly HomeDraft[]): Block[] {
  const blocks: Block[] = [header("Your recent drafts")];
  if (drafts.length === 0) {
    blocks.push(section("You have not started a draft yet. See below for how to start one."));
    return blocks;
  }
  for (const draft of drafts.slice(0, MAX_DRAFTS)) blocks.push(section(draftLine(draft)));
  return blocks;
}

function draftLine(draft: HomeDraft): string {
  const brief = truncate(draft.brief.replace(/\s+/g, " ").trim(), BRIEF_CHARS) || "(no brief)";
  const where = draft.channelId.startsWith("D") ? "a direct message" : `<#${draft.channelId}>`;
  const parts = [
    where,
    `${STATE_EMOJI[draft.state]} ${STATE_WORDS[draft.state]}`,
    ...(draft.version === null ? [] : [`v${draft.version}`]),
    slackDate(draft.updatedAt),
    `<${draft.link}|Open thread>`,
  ];
  return `${escapeMrkdwn(brief)}\n${parts.join(" · ")}`;
}

/** A time each reader sees in their own time zone; the fallback is UTC. */
function slackDate(ms: number): string {
  const fallback = `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${fallback}>`;
}

function helpBlocks(): Block[] {
  return [
    header("Start a draft"),
    section(
      [
        "• Mention *@Puffle Drafter* in a channel with a brief, e.g. _intro email for VPs of Sales, time-to-ROI angle_. The message becomes a draft thread.",
        `• \`${COMMAND} [brief]\` starts a draft in the channel you type it in (\`${COMMAND} help\` shows more).`,
        "• *Draft from this message* (a message's ⋮ menu) starts a draft in that message's thread.",
        "• Send me a direct message to draft on your own.",
        "Every reply in a draft thread is the next turn for Puffle; start a reply with `//` to keep it between teammates.",
      ].join("\n"),
    ),
  ];
}
