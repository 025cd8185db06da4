import { WebClient, type WebClientOptions } from "@slack/web-api";
import type { Logger } from "../../logger.ts";
import type { SlackClients } from "../poster.ts";
import { NoInstallationError } from "./installation-store.ts";

/** How many workspaces' clients stay cached (a client is cheap; this only bounds memory). */
const MAX_CLIENTS = 1000;

/**
 * OAuth mode's Web API clients: each workspace's current bot token (found through the same authorize
 * path as Slack's deliveries, so a rotating token is refreshed first), one client per token with the
 * options of the single-workspace client. A workspace without an installation gets a clear error,
 * logged once here; nothing is posted there.
 */
export function createWorkspaceClients(options: {
  tokenFor: (teamId: string) => Promise<string>;
  clientOptions: WebClientOptions;
  logger: Logger;
}): SlackClients {
  const clients = new Map<string, WebClient>();
  return {
    async forTeam(teamId) {
      let token: string;
      try {
        token = await options.tokenFor(teamId);
      } catch (error) {
        if (error instanceof NoInstallationError) options.logger.warn({ teamId }, "slack.no_installation");
        throw error;
      }
      let client = clients.get(token);
      if (client) {
        // Most recently used last, so the oldest is dropped first.
        clients.delete(token);
      } else {
        client = new WebClient(token, options.clientOptions);
        if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value as string);
      }
      clients.set(token, client);
      return client;
    },
  };
}
