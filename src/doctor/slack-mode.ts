import { createServer } from "node:net";
import { type DoctorCheck, type DoctorContext, isSet, needs } from "./check.ts";
import { callSlack } from "./slack-api.ts";
import { maskSecret } from "./words.ts";

/**
 * How Slack reaches the bot: Socket Mode (SLACK_APP_TOKEN opens a connection; PORT still serves the health
 * checks) or HTTP mode (the signing secret, PORT free to listen on, and the URLs to give Slack).
 */

const APP_TOKEN_FIX =
  "create an app-level token with connections:write under Basic Information > App-Level Tokens, put it " +
  "in SLACK_APP_TOKEN, and make sure Socket Mode is on (Settings > Socket Mode)";

export function checkSlackMode(ctx: DoctorContext): Promise<DoctorCheck> {
  // The mode as the config decides it (an app token left as the placeholder means HTTP mode); with no
  // config to ask, as the variables say.
  const { config } = ctx.view;
  const socket = config ? config.slack.mode === "socket" : isSet(ctx, "SLACK_APP_TOKEN");
  return socket ? checkSocketMode(ctx) : checkHttpMode(ctx);
}

async function checkSocketMode(ctx: DoctorContext): Promise<DoctorCheck> {
  const name = "Socket Mode";
  const { config, skip } = needs(ctx, name, ["SLACK_APP_TOKEN", "SLACK_API_URL"]);
  if (skip) return skip;
  const appToken = config.slack.appToken ?? "";
  const token = `SLACK_APP_TOKEN ${maskSecret(appToken)}`;
  const answer = await callSlack(ctx, config.slack.apiUrl, "apps.connections.open", appToken);
  if (!answer.ok) {
    const fix = answer.slackError ? APP_TOKEN_FIX : answer.fix;
    return { name, ok: false, detail: `${answer.detail}; ${token}`, fix };
  }
  // Bolt also serves /healthz and /readyz on PORT in Socket Mode: a taken port stops the start there too.
  if (ctx.view.bad.has("PORT")) {
    return {
      name,
      ok: true,
      detail: `Slack opened a connection for ${token}; PORT not checked (see Config)`,
    };
  }
  const port = await probePort(config.port);
  if (!port.ok) {
    return {
      name,
      ok: false,
      detail: `Slack opened a connection for ${token}, but ${port.detail} (the bot serves /healthz and /readyz on it)`,
      fix: port.fix,
    };
  }
  return {
    name,
    ok: true,
    detail: `Slack opened a connection for ${token}; ${port.detail} for /healthz and /readyz`,
  };
}

async function checkHttpMode(ctx: DoctorContext): Promise<DoctorCheck> {
  const name = "HTTP mode";
  const { config, skip } = needs(ctx, name, ["PORT"]);
  if (skip) return skip;
  const reminder = [
    "Slack's Request URL (Event Subscriptions, Interactivity, and /draft) must be " +
      "https://<public host>/slack/events, forwarded to this port",
    ...(config.slack.oauth
      ? [
          "OAuth installs: the Redirect URL (OAuth & Permissions) is https://<public host>/slack/oauth_redirect; " +
            "workspaces install from https://<public host>/slack/install",
        ]
      : []),
  ];
  const problems: string[] = [];
  const fixes: string[] = [];
  const secret = ctx.env.SLACK_SIGNING_SECRET?.trim();
  if (ctx.view.bad.has("SLACK_SIGNING_SECRET") || !secret) {
    problems.push("SLACK_SIGNING_SECRET is missing or invalid (see Config)");
    fixes.push(
      "copy the Signing Secret from Basic Information > App Credentials into SLACK_SIGNING_SECRET " +
        (config.slack.oauth
          ? "(OAuth installs need HTTP mode)"
          : "(or set SLACK_APP_TOKEN to use Socket Mode)"),
    );
  }
  const port = await probePort(config.port);
  if (!port.ok) {
    problems.push(port.detail);
    fixes.push(port.fix);
  }
  if (problems.length > 0) {
    return { name, ok: false, detail: problems.join("; "), fix: fixes.join("; ") };
  }
  return {
    name,
    ok: true,
    detail: [`SLACK_SIGNING_SECRET set (${secret?.length ?? 0} chars); ${port.detail}`, ...reminder].join(
      "\n",
    ),
  };
}

type PortProbe = { ok: true; detail: string } | { ok: false; detail: string; fix: string };

/** Listens on the port the way Bolt does (every interface) and closes again. */
function probePort(port: number): Promise<PortProbe> {
  if (port === 0) return Promise.resolve({ ok: true, detail: "PORT 0: a free port is picked at each start" });
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      const why =
        error.code === "EADDRINUSE"
          ? `port ${port} is already in use (another program, or the bot already running?)`
          : error.code === "EACCES"
            ? `port ${port} needs more privileges than this user has (ports below 1024 usually do)`
            : `cannot listen on port ${port} (${error.code ?? error.message})`;
      resolve({
        ok: false,
        detail: why,
        fix: `stop whatever listens on port ${port}, or set PORT to a free port (e.g. 3000 or 8080)`,
      });
    });
    server.listen(port, () => {
      server.close(() => resolve({ ok: true, detail: `port ${port} is free to listen on` }));
    });
  });
}
