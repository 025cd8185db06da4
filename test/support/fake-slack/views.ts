// views.open / push / update / publish: modals and Home tabs.

import { validateView } from "../block-kit-limits.ts";
import type { FakeContext, MethodTable } from "./context.ts";
import type { StoredView } from "./types.ts";
import { ApiFailure, type Args, failure, type Json, missingArgument, required, str } from "./wire.ts";
import type { Workspace } from "./workspaces.ts";

export class Views {
  readonly #context: FakeContext;
  readonly #views = new Map<string, StoredView>();
  readonly #expiredTriggers = new Set<string>();

  constructor(context: FakeContext) {
    this.#context = context;
  }

  /** In the order they were last opened/updated/pushed/published: most recent last. */
  list(): StoredView[] {
    return [...this.#views.values()];
  }

  /** The Home tab `userId` sees in a team: the last views.publish for them with that team's token. */
  home(userId: string, teamId: string): StoredView | undefined {
    return this.list().find((v) => v.user_id === userId && v.view.team_id === teamId);
  }

  expireTrigger(triggerId: string): void {
    this.#expiredTriggers.add(triggerId);
  }

  methods(): MethodTable {
    return [
      ["views.open", (args, caller) => this.#open(args, caller, "views.open")],
      ["views.push", (args, caller) => this.#open(args, caller, "views.push")],
      ["views.update", (args, caller) => this.#update(args, caller)],
      ["views.publish", (args, caller) => this.#publish(args, caller)],
    ];
  }

  #open(args: Args, caller: Workspace, via: "views.open" | "views.push"): Json {
    const triggerId = required(args, "trigger_id");
    if (this.#expiredTriggers.has(triggerId)) throw failure("expired_trigger_id");
    const input = checkedView(args.view, "modal");
    return { ok: true, view: this.#save(input, undefined, caller, { via, trigger_id: triggerId }) };
  }

  #update(args: Args, caller: Workspace): Json {
    const viewId = str(args, "view_id");
    const externalId = str(args, "external_id");
    if (!viewId && !externalId) throw missingArgument("view_id");
    const existing = this.list().find((v) => (viewId ? v.id === viewId : v.view.external_id === externalId));
    if (!existing) throw failure("not_found");
    checkHash(args, existing);
    const input = checkedView(args.view, String(existing.view.type));
    return { ok: true, view: this.#save(input, existing, caller, { via: "views.update" }) };
  }

  #publish(args: Args, caller: Workspace): Json {
    const userId = required(args, "user_id");
    const existing = this.home(userId, caller.teamId);
    if (existing) checkHash(args, existing);
    const input = checkedView(args.view, "home");
    const meta = { via: "views.publish" as const, user_id: userId };
    return { ok: true, view: this.#save(input, existing, caller, meta) };
  }

  #save(
    input: Json,
    existing: StoredView | undefined,
    caller: Workspace,
    meta: Omit<StoredView, "id" | "view">,
  ): Json {
    const externalId = str(input, "external_id");
    const clash = externalId && this.list().find((v) => v.view.external_id === externalId && v !== existing);
    if (clash) throw failure("duplicate_external_id");
    const { ids, workspaces } = this.#context;
    const id = existing?.id ?? `V${String(ids.next()).padStart(8, "0")}`;
    const view: Json = {
      ...input,
      id,
      team_id: caller.teamId,
      private_metadata: input.private_metadata ?? "",
      callback_id: input.callback_id ?? "",
      external_id: externalId ?? "",
      state: { values: {} },
      hash: ids.nextHash(),
      clear_on_close: input.clear_on_close ?? false,
      notify_on_close: input.notify_on_close ?? false,
      close: input.close ?? null,
      submit: input.submit ?? null,
      previous_view_id: null,
      root_view_id: existing?.view.root_view_id ?? id,
      app_id: workspaces.appId,
      app_installed_team_id: caller.teamId,
      bot_id: caller.botId,
    };
    // Re-inserting moves the view to the end: views() lists the most recently touched last.
    this.#views.delete(id);
    this.#views.set(id, { id, view, ...meta });
    return view;
  }
}

function checkedView(view: unknown, type: string): Json {
  const problem = validateView(view);
  if (problem) throw new ApiFailure(problem);
  const input = view as Json;
  if (input.type !== type) {
    throw failure("invalid_arguments", [`[ERROR] view type must be ${type} here [json-pointer:/view/type]`]);
  }
  return input;
}

function checkHash(args: Args, existing: StoredView): void {
  const hash = str(args, "hash");
  if (hash !== undefined && hash !== existing.view.hash) throw failure("hash_conflict");
}
