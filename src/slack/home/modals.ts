import { z } from "zod";
import { INPUTS, VIEWS } from "../ids.ts";
import { SLACK_LIMITS as L } from "../limits.ts";
import { plainText, sectionsFor } from "../render/blocks.ts";
import { decodeMetadata, encodeMetadata } from "../render/modal-metadata.ts";
import type { ModalBlock, ModalView } from "../render/modals.ts";
import { noticeModal } from "../render/prompts.ts";
import { keyHint } from "./render.ts";

/**
 * The "Connect Puffle" modal. Its one input is never prefilled, and no view the app sends (this one,
 * "Checking...", the result) ever holds the key: Slack keeps what was typed, the app never echoes it.
 */

export const KEY_TITLE = "Connect Puffle";
/** Longer than any Puffle key; a paste of something else is refused before Puffle is asked. */
export const KEY_MAX_CHARS = 500;

export const KeyMetadataSchema = z.object({ teamId: z.string().min(1).max(32) });

export function keyModal(input: { teamId: string; last4: string | null }): ModalView {
  const intro =
    "Paste an API key of your Puffle workspace. Puffle checks it first; it is kept encrypted and only its " +
    "last 4 characters are ever shown.";
  const blocks: ModalBlock[] = [
    ...sectionsFor(input.last4 ? `${intro}\nIt replaces the current key *${keyHint(input.last4)}*.` : intro),
    {
      type: "input",
      block_id: INPUTS.puffleKey.block,
      label: plainText("Puffle API key", L.inputLabel),
      element: {
        type: "plain_text_input",
        action_id: INPUTS.puffleKey.action,
        multiline: false,
        max_length: KEY_MAX_CHARS,
        placeholder: plainText("pk_live_...", L.placeholder),
      },
    },
  ];
  return {
    type: "modal",
    callback_id: VIEWS.puffleKey,
    title: plainText(KEY_TITLE, L.modalTitle),
    submit: plainText("Connect", L.modalButton),
    close: plainText("Cancel", L.modalButton),
    private_metadata: encodeMetadata({ teamId: input.teamId }),
    blocks,
  };
}

export function readKeyMetadata(text: string | undefined): { teamId: string } | undefined {
  return decodeMetadata(text, KeyMetadataSchema);
}

/** The key as typed (trimmed), or the field error to show. Never logged, never echoed. */
export function readKey(
  values: Record<string, Record<string, { value?: string | null }>> | undefined,
): { ok: true; key: string } | { ok: false; error: string } {
  const raw = values?.[INPUTS.puffleKey.block]?.[INPUTS.puffleKey.action]?.value;
  const key = typeof raw === "string" ? raw.trim() : "";
  if (!key) return { ok: false, error: "Paste the API key." };
  if (key.length > KEY_MAX_CHARS) return { ok: false, error: "That is too long to be a Puffle API key." };
  if (/\s/.test(key)) return { ok: false, error: "An API key has no spaces or line breaks." };
  return { ok: true, key };
}

/** Words for each answer of the key check; `field` answers go next to the input. */
export const KEY_ANSWERS = {
  refused: "Puffle did not accept this key. Check that it is a current API key of your Puffle workspace.",
  unreachable: "Could not reach Puffle; try again in a minute.",
  error: "Puffle could not check the key just now; try again in a minute.",
  unavailable:
    "Keys cannot be connected here yet: whoever runs Puffle Drafter must set ENCRYPTION_KEY (keys are kept " +
    "encrypted), then restart it.",
  notAdmin:
    "Only workspace admins, owners and the person who installed the app can connect or disconnect Puffle.",
  roleUnknown: "Slack could not tell us your role just now. Nothing was changed; try again in a minute.",
} as const;

export function checkingModal(): ModalView {
  return noticeModal(KEY_TITLE, ":hourglass_flowing_sand: Checking the key with Puffle...");
}

export function connectedModal(last4: string): ModalView {
  return noticeModal(
    KEY_TITLE,
    `:white_check_mark: Connected. Drafts in this workspace now use the key *${keyHint(last4)}*.`,
  );
}
