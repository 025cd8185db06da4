import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMMAND, SHORTCUT_DRAFT_FROM_MESSAGE } from "../../src/slack/ids.ts";
import { REDIRECT_PATH } from "../../src/slack/oauth/pages.ts";
import { BOT_SCOPES } from "../../src/slack/oauth/scopes.ts";

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

describe("manifest.yml and manifest.distribution.yml", () => {
  const distribution = parse(
    readFileSync(new URL("../../manifest.distribution.yml", import.meta.url), "utf8"),
  );
  const both = { "manifest.yml": manifest, "manifest.distribution.yml": distribution };
  const code = (path: string) => readFileSync(new URL(`../../src/${path}`, import.meta.url), "utf8");
  type Manifest = typeof manifest;
  const sorted = (values: string[]) => [...values].sort();

  it("ask for the bot scopes the code asks for at install, no more", () => {
    for (const [name, m] of Object.entries(both))
      expect(sorted(m.oauth_config.scopes.bot), name).toEqual(sorted([...BOT_SCOPES]));
    // Each scope is used: a mention, thread messages (and reading a thread back), posting, the
    // command, and names and admin checks.
    const used: Record<string, string[]> = {
      "app_mentions:read": ['app.event("app_mention"', "slack/listeners/events.ts"],
      "channels:history": ['app.event("message"', "slack/listeners/events.ts"],
      "groups:history": ["conversations.replies", "slack/poster.ts"],
      "im:history": ["isDirectChannel", "slack/listeners/events.ts"],
      "chat:write": ["chat.postMessage", "slack/poster.ts"],
      commands: ["app.command(COMMAND", "slack/listeners/commands.ts"],
      "users:read": ["users.info", "slack/user-names.ts"],
    };
    expect(sorted(Object.keys(used))).toEqual(sorted([...BOT_SCOPES]));
    for (const [scope, [needle, path]] of Object.entries(used))
      expect(code(path ?? ""), `${scope}: ${needle}`).toContain(needle);
    // Not asked for: nothing reacts to messages or posts in channels the bot is not in.
    expect(BOT_SCOPES).not.toContain("reactions:write");
    expect(BOT_SCOPES).not.toContain("chat:write.public");
  });

  it("declare the same command, shortcut and events, the Home tab, and the lifecycle events", () => {
    const shape = (m: Manifest) => ({
      commands: m.features.slash_commands,
      shortcuts: m.features.shortcuts,
      events: m.settings.event_subscriptions.bot_events,
      interactivity: m.settings.interactivity.is_enabled,
      home: m.features.app_home,
    });
    expect(shape(distribution)).toEqual(shape(manifest));
    for (const [name, m] of Object.entries(both)) {
      expect(m.features.app_home.home_tab_enabled, name).toBe(true);
      expect(m.settings.event_subscriptions.bot_events, name).toEqual(
        expect.arrayContaining(["app_home_opened", "app_uninstalled", "tokens_revoked"]),
      );
    }
    expect(source("lifecycle.ts")).toMatch(/app\.event\("app_uninstalled"/);
    expect(source("lifecycle.ts")).toMatch(/app\.event\("tokens_revoked"/);
    expect(source("index.ts")).toMatch(/registerLifecycleListeners\(app, deps\)/);
  });

  it("run manifest.yml in Socket Mode, and the distributed app over HTTP with its OAuth redirect", () => {
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.oauth_config.redirect_urls).toBeUndefined();
    expect(distribution.settings.socket_mode_enabled).toBe(false);
    expect(distribution.oauth_config.redirect_urls).toEqual([
      `https://your-host.example.com${REDIRECT_PATH}`,
    ]);
    const requestUrls = [
      distribution.settings.event_subscriptions.request_url,
      distribution.settings.interactivity.request_url,
      ...distribution.features.slash_commands.map((c: { url: string }) => c.url),
    ];
    expect(requestUrls).toEqual(Array(requestUrls.length).fill("https://your-host.example.com/slack/events"));
    expect(code("bot.ts")).toMatch(/http\.route\("GET", REDIRECT_PATH,/);
  });
});
