import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Campaign, SequenceNode } from "../../../src/puffle/schemas.ts";
import { INPUTS, VIEWS } from "../../../src/slack/ids.ts";
import { helpMessage } from "../../../src/slack/render/help.ts";
import {
  readCustomInstruction,
  readEditValues,
  readPickerValues,
} from "../../../src/slack/render/modal-forms.ts";
import { decodeMetadata, encodeMetadata } from "../../../src/slack/render/modal-metadata.ts";
import {
  customRefineModal,
  editModal,
  type ModalBlock,
  type ModalView,
} from "../../../src/slack/render/modals.ts";
import { pickerModal } from "../../../src/slack/render/picker-modal.ts";
import { expectValidMessages, expectValidView } from "./fixtures.ts";

const campaign = (i: number, status: string): Campaign => ({
  id: `campaign-${i}`,
  name: `Campaign ${i}`,
  type: "email",
  status,
  node_count: 3,
});
const step = (i: number) => ({
  node: {
    id: `node-${i}`,
    position: i,
    type: "email",
    subject: null,
    body: null,
    ai_node: null,
  } as SequenceNode,
  label: `Step ${i + 1} · Email`,
});

const blockOf = (view: ModalView, blockId: string) =>
  view.blocks.find((block) => block.block_id === blockId) as
    | Extract<ModalBlock, { type: "input" }>
    | undefined;
const stepBlock = (view: ModalView) =>
  view.blocks.find((block) => block.block_id?.startsWith(INPUTS.step.block)) as
    | Extract<ModalBlock, { type: "input" }>
    | undefined;

type Submitted = Record<string, Record<string, object>>;
const submitted = (values: Submitted) => ({ id: "V1", state: { values } });

describe("pickerModal", () => {
  const base = { askBrief: true, rememberDefault: true, privateMetadata: encodeMetadata({ channel: "C1" }) };

  it("offers at most 100 campaigns, drafts first, and keeps the chosen one", () => {
    const campaigns = Array.from({ length: 150 }, (_, i) => campaign(i, i % 3 === 0 ? "draft" : "active"));
    const view = pickerModal({
      ...base,
      campaigns,
      steps: [step(0), step(1)],
      selectedCampaignId: "campaign-149",
      selectedNodeId: "node-1",
      brief: "intro email for VPs",
    });
    expectValidView(view);
    expect(view.callback_id).toBe(VIEWS.picker);
    expect(view.submit?.text).toBe("Start drafting");
    const select = blockOf(view, INPUTS.campaign.block);
    expect(select?.dispatch_action).toBe(true);
    if (select?.element.type !== "static_select") throw new Error("expected a campaign select");
    expect(select.element.options).toHaveLength(100);
    expect(select.element.options[0]?.text.text).toBe("Campaign 0 (draft)");
    expect(select.element.options[49]?.text.text).toBe("Campaign 147 (draft)");
    expect(select.element.options[50]?.text.text).toBe("Campaign 1 (active)");
    expect(select.element.initial_option?.value).toBe("campaign-149");
    const steps = stepBlock(view);
    if (steps?.element.type !== "static_select") throw new Error("expected a step select");
    expect(steps.element.initial_option?.value).toBe("node-1");
    const brief = blockOf(view, INPUTS.brief.block);
    expect(brief?.element).toMatchObject({ max_length: 3000, initial_value: "intro email for VPs" });
    expect(blockOf(view, INPUTS.remember.block)?.element).toMatchObject({
      initial_options: [expect.anything()],
    });
  });

  it("says so when a campaign has no steps, and asks for a campaign first", () => {
    for (const selectedCampaignId of ["campaign-1", undefined]) {
      const view = pickerModal({ ...base, campaigns: [campaign(1, "draft")], steps: [], selectedCampaignId });
      expectValidView(view);
      expect(stepBlock(view)).toBeUndefined();
      expect(view.blocks[1]?.type).toBe("context");
    }
  });

  it("works without campaigns, and without a brief", () => {
    expectValidView(pickerModal({ ...base, campaigns: [], steps: [] }));
    const settings = pickerModal({
      ...base,
      askBrief: false,
      rememberDefault: false,
      campaigns: [campaign(1, "draft")],
      steps: [step(0)],
    });
    expectValidView(settings);
    expect(settings.submit?.text).toBe("Save");
    expect(blockOf(settings, INPUTS.brief.block)).toBeUndefined();
    expect(blockOf(settings, INPUTS.remember.block)?.element).not.toHaveProperty("initial_options");
  });

  it("keeps long names and titles within limits", () => {
    const long = { ...campaign(1, "draft"), name: "N".repeat(200) };
    const view = pickerModal({
      ...base,
      title: "A title that is far too long for Slack",
      campaigns: [long],
      steps: [{ ...step(0), label: "L".repeat(200) }],
      brief: "b".repeat(4000),
    });
    expectValidView(view);
  });

  it("gives the step input a new block id per campaign, so Slack does not keep a stale step", () => {
    const one = pickerModal({
      ...base,
      campaigns: [campaign(1, "draft")],
      steps: [step(0)],
      selectedCampaignId: "a",
    });
    const two = pickerModal({
      ...base,
      campaigns: [campaign(1, "draft")],
      steps: [step(0)],
      selectedCampaignId: "b",
    });
    expect(stepBlock(one)?.block_id).not.toBe(stepBlock(two)?.block_id);
  });
});

describe("readPickerValues", () => {
  const campaignValue = {
    [INPUTS.campaign.action]: { type: "static_select", selected_option: { value: "c-1" } },
  };
  const stepValue = { [INPUTS.step.action]: { type: "static_select", selected_option: { value: "n-1" } } };

  it("reads a complete submission", () => {
    const view = submitted({
      [INPUTS.campaign.block]: campaignValue,
      [`${INPUTS.step.block}:c-1`]: stepValue,
      [INPUTS.brief.block]: { [INPUTS.brief.action]: { type: "plain_text_input", value: "  intro email  " } },
      [INPUTS.remember.block]: {
        [INPUTS.remember.action]: { type: "checkboxes", selected_options: [{ value: "remember" }] },
      },
    });
    expect(readPickerValues(view)).toEqual({
      ok: true,
      value: { campaignId: "c-1", nodeId: "n-1", brief: "intro email", remember: true },
    });
  });

  it("reports missing choices on the right blocks", () => {
    expect(
      readPickerValues(
        submitted({
          [INPUTS.campaign.block]: {
            [INPUTS.campaign.action]: { type: "static_select", selected_option: null },
          },
          [`${INPUTS.step.block}:none`]: { [INPUTS.step.action]: { type: "static_select" } },
          [INPUTS.brief.block]: { [INPUTS.brief.action]: { type: "plain_text_input", value: "   " } },
        }),
      ),
    ).toEqual({
      ok: false,
      errors: {
        [INPUTS.campaign.block]: "Choose a campaign.",
        [`${INPUTS.step.block}:none`]: "Choose a step.",
        [INPUTS.brief.block]: "Write a brief.",
      },
    });
    const noSteps = readPickerValues(submitted({ [INPUTS.campaign.block]: campaignValue }));
    expect(noSteps).toMatchObject({
      ok: false,
      errors: { [INPUTS.campaign.block]: expect.stringMatching(/no email or AI steps/) },
    });
  });

  it("returns no brief and no remember when the modal did not ask", () => {
    const view = submitted({
      [INPUTS.campaign.block]: campaignValue,
      [`${INPUTS.step.block}:c-1`]: stepValue,
    });
    expect(readPickerValues(view)).toMatchObject({ ok: true, value: { brief: null, remember: false } });
  });

  it("refuses a malformed or tampered submission", () => {
    for (const view of [
      null,
      "x",
      { state: { values: { a: { b: { value: 3 } } } } },
      submitted({
        [INPUTS.campaign.block]: {
          [INPUTS.campaign.action]: { selected_option: { value: "c".repeat(151) } },
        },
      }),
    ]) {
      expect(readPickerValues(view)).toMatchObject({
        ok: false,
        errors: { [INPUTS.campaign.block]: expect.any(String) },
      });
    }
  });
});

describe("customRefineModal", () => {
  it("asks what should change and reads it back", () => {
    const view = customRefineModal({ privateMetadata: encodeMetadata({ sessionId: "s", revision: 2 }) });
    expectValidView(view);
    expect(view.callback_id).toBe(VIEWS.custom);
    const input = (value: string) =>
      submitted({
        [INPUTS.instruction.block]: { [INPUTS.instruction.action]: { type: "plain_text_input", value } },
      });
    expect(readCustomInstruction(input(" mention SOC 2 "))).toEqual({ ok: true, value: "mention SOC 2" });
    expect(readCustomInstruction(input(" \n "))).toEqual({
      ok: false,
      errors: { [INPUTS.instruction.block]: "Write what should change." },
    });
  });
});

describe("editModal", () => {
  it("holds the current subject and body", () => {
    const view = editModal({ subject: "Hi %company%", body: "Hello %first_name%", privateMetadata: "{}" });
    expectValidView(view);
    expect(view.callback_id).toBe(VIEWS.edit);
    expect(blockOf(view, INPUTS.subject.block)?.element).toMatchObject({ initial_value: "Hi %company%" });
    expect(blockOf(view, INPUTS.body.block)?.element).toMatchObject({
      initial_value: "Hello %first_name%",
      max_length: 3000,
      multiline: true,
    });
  });

  it("starts a 5,000-character body empty, says why, and keeps it when left empty", () => {
    const view = editModal({ subject: "Hi", body: "b".repeat(5000), privateMetadata: "{}" });
    expectValidView(view);
    const body = blockOf(view, INPUTS.body.block);
    expect(body?.optional).toBe(true);
    expect(body?.element).not.toHaveProperty("initial_value");
    expect(JSON.stringify(view.blocks)).toContain(
      "The current body is 5,000 characters, too long to edit here",
    );
  });

  it("does the same for a subject over 1,000 characters", () => {
    const view = editModal({ subject: "s".repeat(1200), body: "Hello", privateMetadata: "{}" });
    expectValidView(view);
    expect(blockOf(view, INPUTS.subject.block)?.element).not.toHaveProperty("initial_value");
    expect(blockOf(view, INPUTS.body.block)?.element).toMatchObject({ initial_value: "Hello" });
  });

  it("works on a draft without subject or body", () => {
    expectValidView(editModal({ subject: null, body: null, privateMetadata: "{}" }));
  });

  it("reads edits back: empty keeps the current value, blank is an error", () => {
    const view = (subject: string | null, body: string | null) =>
      submitted({
        [INPUTS.subject.block]: { [INPUTS.subject.action]: { type: "plain_text_input", value: subject } },
        [INPUTS.body.block]: { [INPUTS.body.action]: { type: "plain_text_input", value: body } },
      });
    expect(readEditValues(view("New subject ", "New body"))).toEqual({
      ok: true,
      value: { subject: "New subject", body: "New body" },
    });
    expect(readEditValues(view("Subject", null))).toEqual({
      ok: true,
      value: { subject: "Subject", body: null },
    });
    expect(readEditValues(view(" ", "  \n"))).toEqual({
      ok: false,
      errors: {
        [INPUTS.subject.block]: "The subject cannot be blank.",
        [INPUTS.body.block]: "The body cannot be blank.",
      },
    });
    expect(readEditValues(view("s".repeat(1001), "x"))).toMatchObject({ ok: false });
  });
});

describe("helpMessage", () => {
  it("explains how to use the bot within limits", () => {
    const message = helpMessage();
    expectValidMessages([message]);
    const text = JSON.stringify(message.blocks);
    for (const topic of ["/draft [brief]", "Draft from this message", "`//`", "/draft settings", "Shorter"]) {
      expect(text).toContain(topic);
    }
  });
});

describe("private_metadata", () => {
  const Schema = z.object({ sessionId: z.string(), revision: z.number().int() });

  it("round-trips", () => {
    const value = { sessionId: "s-1", revision: 3 };
    expect(decodeMetadata(encodeMetadata(value), Schema)).toEqual(value);
  });

  it("rejects tampered or missing metadata", () => {
    expect(decodeMetadata('{"sessionId":"s-1","revision":"3"}', Schema)).toBeUndefined();
    expect(decodeMetadata('{"sessionId":"s-1"', Schema)).toBeUndefined();
    expect(decodeMetadata("", Schema)).toBeUndefined();
    expect(decodeMetadata(undefined, Schema)).toBeUndefined();
  });

  it("refuses metadata that would not fit, instead of cutting it", () => {
    expect(() => encodeMetadata({ blob: "x".repeat(3000) })).toThrow(RangeError);
    expect(() => customRefineModal({ privateMetadata: "x".repeat(3001) })).toThrow(RangeError);
  });
});
