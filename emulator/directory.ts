// GET / : what the emulator serves, so it can be used without reading its code. No auth: it lists
// routes only, never keys or data.
import { ADMIN_ROUTES } from "./admin.ts";
import type { Reply } from "./http.ts";
import { describeRoutes, isRealtimeRoute } from "./routes.ts";

interface Entry {
  method: string;
  path: string;
  description: string;
}

export function directoryReply(url: URL): Reply {
  const routes = describeRoutes();
  const listing = {
    name: "Puffle emulator",
    description:
      "The Puffle campaign AI chat API with a deterministic fake model, plus Trigger.dev's realtime " +
      "run feed and streams for the runs it starts. See emulator/README.md.",
    auth: {
      api: "Authorization: Bearer <API key>; each key is its own workspace",
      realtime: "Authorization: Bearer <publicAccessToken from /turn or /generate-examples>",
      admin: "Authorization: Bearer <any accepted API key>",
    },
    routes: {
      api: routes.filter((route) => !isRealtimeRoute(route.name)).map(entry),
      realtime: routes.filter((route) => isRealtimeRoute(route.name)).map(entry),
      admin: ADMIN_ROUTES,
      index: [{ method: "GET", path: "/", description: "This list (?format=text for plain text)" }],
    },
  };
  if (url.searchParams.get("format") !== "text") return { status: 200, body: listing };
  const lines = [listing.name, listing.description, ""];
  for (const [group, entries] of Object.entries(listing.routes)) {
    lines.push(`${group}:`);
    for (const { method, path, description } of entries as Entry[]) {
      lines.push(`  ${method.padEnd(6)} ${path.padEnd(58)} ${description}`);
    }
  }
  return {
    status: 200,
    rawBody: `${lines.join("\n")}\n`,
    headers: { "content-type": "text/plain; charset=utf-8" },
  };
}

function entry({ method, path, description }: Entry): Entry {
  return { method, path, description };
}
