// People: names for users.info and render(), roles (admin, owner, primary owner) and the team they are in.

import type { UserOptions } from "./types.ts";
import { type Args, failure, type Json, nameFromId, str } from "./wire.ts";
import type { Workspace } from "./workspaces.ts";

interface Person extends UserOptions {
  realName: string;
}

export class Users {
  readonly #people = new Map<string, Person>();

  add(id: string, realName: string, options: UserOptions = {}): void {
    this.#people.set(id, { realName, ...options });
  }

  has(id: string): boolean {
    return this.#people.has(id);
  }

  nameOf(id: string): string {
    return this.#people.get(id)?.realName ?? nameFromId(id);
  }

  /**
   * users.info. A person added with a teamId is found only through that team's tokens (others:
   * `user_not_found`); people without one are everyone's. Owners are admins too, as in Slack.
   */
  info(args: Args, caller: Workspace): Json {
    const id = str(args, "user");
    if (!id) throw failure("user_not_found");
    const person = this.#people.get(id);
    if (person?.teamId && !caller.isEnterpriseInstall && person.teamId !== caller.teamId) {
      throw failure("user_not_found");
    }
    const teamId = person?.teamId ?? caller.teamId;
    const realName = this.nameOf(id);
    const primaryOwner = person?.primaryOwner === true;
    const owner = primaryOwner || person?.owner === true;
    const profile = {
      real_name: realName,
      display_name: realName,
      real_name_normalized: realName,
      team: teamId,
    };
    return {
      ok: true,
      user: {
        id,
        team_id: teamId,
        name: realName.toLowerCase().replace(/\s+/g, "."),
        deleted: false,
        real_name: realName,
        tz: "Europe/London",
        is_admin: owner || person?.admin === true,
        is_owner: owner,
        is_primary_owner: primaryOwner,
        is_restricted: false,
        is_ultra_restricted: false,
        is_bot: id === caller.botUserId,
        is_app_user: false,
        profile,
      },
    };
  }
}
