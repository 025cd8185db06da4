// What every group of Web API methods shares: the stores and the caller's workspace.

import type { MessageStore } from "./store.ts";
import type { StoredMessage } from "./types.ts";
import type { Users } from "./users.ts";
import type { Args, Json, Sequence } from "./wire.ts";
import type { Workspace, Workspaces } from "./workspaces.ts";

export interface FakeContext {
  readonly ids: Sequence;
  readonly store: MessageStore;
  readonly workspaces: Workspaces;
  readonly users: Users;
}

/** A Web API method: decoded arguments and the calling workspace in, Slack's answer out (or an ApiFailure). */
export type Handler = (args: Args, caller: Workspace) => Json;

export type MethodTable = [method: string, handler: Handler][];

/** A stored message in the Web API's shape, as the calling workspace sees it (metadata included by default). */
export function wireMessage(
  context: FakeContext,
  message: StoredMessage,
  caller: Workspace,
  metadata = true,
): Json {
  return context.store.wire(message, { appId: context.workspaces.appId, teamId: caller.teamId, metadata });
}
