import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMMAND, SHORTCUT_DRAFT_FROM_MESSAGE } from "../../src/slack/ids.ts";

const manifest = parse(readFileSync(new URL("../../manifest.yml", import.meta.url), "utf8"));
const source = (path: string) =>
  readFileSync(new URL(`../../src/slack/listeners/${path}`, import.meta.url), "utf8");

describe("manifest.yml", () => {
  it("declares the command and shortcut the code registers", () => {
    expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual([COMMAND]);
    expect(manifest.features.shortcuts).toEqual([
      expect.objectContaining({ type: "message", callback_id: SHORTCUT_DRAFT_FROM_MESSAGE }),
    ]);
    // The listeners register exactly these ids (not a copy of the string).
    expect(source("commands.ts")).toMatch(/app\.command\(COMMAND,/);
    expect(source("shortcuts.ts")).toMatch(/app\.shortcut\(SHORTCUT_DRAFT_FROM_MESSAGE,/);
  });

  it("subscribes to the events the listeners handle, with the scopes they need", () => {
    const events: string[] = manifest.settings.event_subscriptions.bot_events;
    expect(events).toEqual(
      expect.arrayContaining(["app_mention", "message.channels", "message.groups", "message.im"]),
    );
    expect(source("events.ts")).toMatch(/app\.event\("app_mention"/);
    expect(source("events.ts")).toMatch(/app\.event\("message"/);
    const scopes: string[] = manifest.oauth_config.scopes.bot;
    expect(scopes).toEqual(
      expect.arrayContaining([
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
        "chat:write",
        "commands",
        "users:read",
      ]),
    );
  });

  it("turns on interactivity, and Socket Mode as shipped", () => {
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.features.bot_user.display_name).toBeTruthy();
    expect(manifest.features.app_home.messages_tab_enabled).toBe(true);
  });
});
