// Who is calling: tokens, the workspace each one belongs to, its bot identity, and the people in it.

import { DEFAULT_BOT_SCOPES, type FakeSlackOptions } from "./types.ts";
import { type Args, failure, type Json, nameFromId, str } from "./wire.ts";

export const PERMALINK_HOST = "https://fake.slack.test";
/** Methods Slack serves only with an app-level token (xapp-...). */
const APP_TOKEN_METHODS = new Set(["apps.connections.open"]);

/** A workspace the app is installed in, as seen through one of its bot tokens. */
export interface Workspace {
  teamId: string;
  teamName: string;
  botUserId: string;
  botId: string;
  scopes: string[];
}

export class Workspaces {
  readonly appId: string;
  readonly appToken: string;
  readonly defaultToken: string;
  readonly default: Workspace;
  readonly #users = new Map<string, string>();

  constructor(options: FakeSlackOptions) {
    this.appId = options.appId ?? "A0APP";
    this.appToken = options.appToken ?? "xapp-test-token";
    this.defaultToken = options.token ?? "xoxb-test-token";
    this.default = {
      teamId: options.teamId ?? "T0TEAM",
      teamName: "Fake Team",
      botUserId: options.botUserId ?? "U0BOT",
      botId: options.botId ?? "B0BOT",
      scopes: options.scopes ?? DEFAULT_BOT_SCOPES,
    };
    this.#users.set(this.default.botUserId, "Bot");
  }

  /** The workspace a bot token belongs to; app-level methods get the default workspace. */
  authenticate(token: string | undefined, method: string): Workspace {
    if (!token) throw failure("not_authed");
    const expected = APP_TOKEN_METHODS.has(method) ? this.appToken : this.defaultToken;
    if (token === expected) return this.default;
    // Like Slack: a known token of the wrong kind (bot vs app-level) is told apart from an unknown one.
    if (token === this.defaultToken || token === this.appToken) throw failure("not_allowed_token_type");
    throw failure("invalid_auth");
  }

  authTest(caller: Workspace): Json {
    return {
      ok: true,
      url: `${PERMALINK_HOST}/`,
      team: caller.teamName,
      user: "bot",
      team_id: caller.teamId,
      user_id: caller.botUserId,
      bot_id: caller.botId,
      is_enterprise_install: false,
    };
  }

  addUser(id: string, realName: string): void {
    this.#users.set(id, realName);
  }

  nameOf(id: string): string {
    return this.#users.get(id) ?? nameFromId(id);
  }

  userInfo(args: Args, caller: Workspace): Json {
    const id = str(args, "user");
    if (!id) throw failure("user_not_found");
    const realName = this.nameOf(id);
    const profile = {
      real_name: realName,
      display_name: realName,
      real_name_normalized: realName,
      team: caller.teamId,
    };
    return {
      ok: true,
      user: {
        id,
        team_id: caller.teamId,
        name: realName.toLowerCase().replace(/\s+/g, "."),
        deleted: false,
        real_name: realName,
        tz: "Europe/London",
        is_bot: id === caller.botUserId,
        is_app_user: false,
        profile,
      },
    };
  }
}
