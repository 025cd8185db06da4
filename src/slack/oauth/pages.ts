import type { IncomingMessage, ServerResponse } from "node:http";
import { type CodedError, ErrorCode, type Installation, type InstallProvider } from "@slack/oauth";
import type { Logger } from "../../logger.ts";
import { classifySlackError, isSlackApiError } from "../slack-errors.ts";
import { BOT_SCOPES } from "./scopes.ts";

/**
 * The two pages of an install, served on the process's HTTP server: `GET /slack/install` offers
 * "Add to Slack" (a link to Slack's authorize page, with a one-time state also set as a cookie), and
 * `GET /slack/oauth_redirect`, where Slack sends the person back, completes the install and says how
 * it went in plain words.
 */
export const INSTALL_PATH = "/slack/install";
export const REDIRECT_PATH = "/slack/oauth_redirect";

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface InstallPages {
  install: Handler;
  redirect: Handler;
}

export function createInstallPages(options: { provider: InstallProvider; logger: Logger }): InstallPages {
  const { provider, logger } = options;
  return {
    async install(req, res) {
      await provider.handleInstallPath(req, res, undefined, {
        scopes: [...BOT_SCOPES],
        redirectUri: redirectUriOf(req),
      });
    },

    async redirect(req, res) {
      await provider.handleCallback(req, res, {
        success: (installation, _options, _req, response) => {
          const where = whereInstalled(installation);
          logger.info(
            {
              teamId: installation.team?.id,
              enterpriseId: installation.enterprise?.id,
              isEnterpriseInstall: installation.isEnterpriseInstall === true,
              by: installation.user.id,
            },
            "oauth.installed",
          );
          send(
            response,
            200,
            page(
              "Puffle Drafter is installed",
              `<p>Puffle Drafter is now in ${escapeHtml(where)}. Open Slack, mention @Puffle Drafter in a ` +
                "channel with a brief, or open the app's Home tab to connect Puffle.</p>",
            ),
          );
        },
        failure: (error, _options, _req, response) => {
          const failure = describeFailure(error);
          logger.warn({ code: error.code, reason: failure.reason }, "oauth.install_failed");
          send(
            response,
            failure.status,
            page(
              "The install did not complete",
              `<p>${escapeHtml(failure.text)}</p><p><a href="${INSTALL_PATH}">Start the install again</a></p>`,
            ),
          );
        },
      });
    },
  };
}

/** The page "Add to Slack" sits on (the provider's install path renders it). */
export function renderInstallPage(authorizeUrl: string): string {
  return page(
    "Add Puffle Drafter to Slack",
    "<p>Draft outbound campaign emails together in a Slack thread, with Puffle doing the writing.</p>" +
      `<p><a class="button" href="${escapeHtml(authorizeUrl)}">Add to Slack</a></p>`,
  );
}

/**
 * Where Slack sends the person back: this server's own address as the request reached it (behind a
 * proxy, its X-Forwarded-Host and -Proto). Slack accepts only redirect URLs listed in the app's
 * settings, so a made-up Host header leads nowhere.
 */
export function redirectUriOf(req: IncomingMessage): string {
  const first = (value: string | string[] | undefined) =>
    (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim() || undefined;
  const host = first(req.headers["x-forwarded-host"]) ?? req.headers.host ?? "localhost";
  const local = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
  const proto = first(req.headers["x-forwarded-proto"]) ?? (local ? "http" : "https");
  return `${proto}://${host}${REDIRECT_PATH}`;
}

function whereInstalled(installation: Installation): string {
  if (installation.isEnterpriseInstall)
    return `the organization ${installation.enterprise?.name ?? ""}`.trim();
  return installation.team?.name ?? "your workspace";
}

function describeFailure(error: CodedError): { status: number; reason: string; text: string } {
  switch (error.code) {
    case ErrorCode.InvalidStateError:
    case ErrorCode.MissingStateError:
      return {
        status: 400,
        reason: "state",
        text:
          "This install link has expired, was already used, or was opened in another browser. " +
          "Start again from the install page, in the same browser.",
      };
    case ErrorCode.MissingCodeError:
      return { status: 400, reason: "no_code", text: "Slack sent no authorization code." };
    case ErrorCode.AuthorizationError:
      return { status: 400, reason: "cancelled", text: "The install was cancelled in Slack." };
    default: {
      const reason = isSlackApiError(error) ? classifySlackError(error).code : "unknown";
      return {
        status: 502,
        reason,
        text: `Slack did not complete the install (${reason}). Please try again in a moment.`,
      };
    }
  }
}

function send(res: ServerResponse, status: number, html: string) {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">' +
    "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;" +
    "line-height:1.5}a.button{display:inline-block;padding:.6rem 1.2rem;border-radius:6px;" +
    "background:#4a154b;color:#fff;text-decoration:none}</style></head>" +
    `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  );
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
