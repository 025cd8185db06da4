import { AsyncLocalStorage } from "node:async_hooks";
import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";

/**
 * Our bot user differs from workspace to workspace in OAuth mode; Bolt learns it per delivery from the
 * installation (`context.botUserId`). The listeners read one `botUserId` (to strip our own mention and
 * skip our own messages): this scope answers the one of the delivery being handled, including in the
 * follow-up work that delivery starts.
 */
export interface BotUserScope {
  /** A global middleware: runs the rest of the delivery inside its bot user's scope. */
  middleware: Middleware<AnyMiddlewareArgs>;
  /** The bot user of the delivery being handled ("" outside one). */
  current(): string;
}

export function createBotUserScope(): BotUserScope {
  const scope = new AsyncLocalStorage<string>();
  return {
    middleware: async ({ context, next }) => {
      await scope.run(typeof context.botUserId === "string" ? context.botUserId : "", next);
    },
    current: () => scope.getStore() ?? "",
  };
}
