import type { App } from "@slack/bolt";
import { registerHomeListeners } from "../home/listeners.ts";
import { registerActionListeners } from "./actions.ts";
import { registerCommandListeners } from "./commands.ts";
import type { ListenerDeps } from "./deps.ts";
import { registerEventListeners } from "./events.ts";
import { registerFeedbackListeners } from "./feedback.ts";
import { registerLifecycleListeners } from "./lifecycle.ts";
import { registerShortcutListeners } from "./shortcuts.ts";
import { registerViewListeners } from "./views.ts";

/** Every listener, by kind. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  registerEventListeners(app, deps);
  registerCommandListeners(app, deps);
  registerShortcutListeners(app, deps);
  registerActionListeners(app, deps);
  registerFeedbackListeners(app, deps);
  registerViewListeners(app, deps);
  registerLifecycleListeners(app, deps);
  registerHomeListeners(app, deps);
}
