import { COMMAND, REFINES } from "../ids.ts";
import { type SlackMessage, sectionsFor } from "./blocks.ts";

/** What `/draft help` shows: how to start a draft, work on it together, and change the settings. */
export function helpMessage(): SlackMessage {
  const refines = Object.values(REFINES)
    .map((refine) => refine.label)
    .join(", ");
  const text = [
    "*Start a draft*",
    "• Mention me in a channel with a brief, e.g. _@Puffle Drafter intro email for VPs of Sales, time-to-ROI angle_. The message becomes a draft thread.",
    `• \`${COMMAND} [brief]\` posts a new draft thread. Without a brief, or before the channel has a campaign and step, it asks for them first.`,
    "• The message shortcut *Draft from this message* starts a draft in that message's thread.",
    "• Send me a direct message to draft privately.",
    "*Work on it together*",
    "• Every reply in a draft thread is the next turn for Puffle. Replies sent while Puffle works are queued and sent together, each with its author.",
    "• Start a reply with `//` to talk to your teammates without Puffle seeing it.",
    `• Buttons on the latest draft: ${refines}, Custom... (your own instruction), Generate examples, Edit, and Save to campaign.`,
    "*Settings*",
    `• \`${COMMAND} settings\` changes this channel's campaign and step. \`${COMMAND} help\` shows this message.`,
  ].join("\n");
  return { text: `How to use ${COMMAND}`, blocks: sectionsFor(text) };
}
