// oauth.v2.access: the app's client credentials exchange a one-time code (from authorizeInstall) for a bot
// token, or, with token rotation, a refresh token for a new bot token and a new refresh token.
//
// Errors: unknown client_id `invalid_client_id`, wrong secret `bad_client_secret`, unknown, used or expired
// code `invalid_code`, a redirect_uri other than the authorized one `bad_redirect_uri`, unknown, used or
// revoked refresh token `invalid_refresh_token`, other grant types `invalid_grant_type`.
// After a refresh the earlier bot tokens keep working until they expire (as on Slack), unless the app was
// registered with rotatedTokenGraceMs.

import { type AppRegistration, DEFAULT_BOT_SCOPES, type InstallInput } from "./types.ts";
import { type Args, failure, type Json, type Sequence, str } from "./wire.ts";
import type { Workspace, Workspaces } from "./workspaces.ts";

const CODE_TTL_MS = 10 * 60_000;
const DEFAULT_TTL_SECONDS = 12 * 3600;

interface PendingCode {
  clientId: string;
  install: InstallInput;
  issuedAt: number;
  used: boolean;
}

export class OAuth {
  readonly #workspaces: Workspaces;
  readonly #ids: Sequence;
  readonly #onInstall: (workspace: Workspace) => void;
  readonly #apps = new Map<string, AppRegistration>();
  readonly #codes = new Map<string, PendingCode>();

  constructor(workspaces: Workspaces, ids: Sequence, onInstall: (workspace: Workspace) => void) {
    this.#workspaces = workspaces;
    this.#ids = ids;
    this.#onInstall = onInstall;
  }

  registerApp(app: AppRegistration): void {
    this.#apps.set(app.clientId, app);
  }

  /** What happens when a person clicks "Allow": a one-time code for the app's redirect. */
  authorizeInstall(install: InstallInput): string {
    const clientId = install.clientId ?? [...this.#apps.keys()].at(-1);
    if (!clientId || !this.#apps.has(clientId)) throw new Error("authorizeInstall: registerApp() first");
    if (!install.isEnterpriseInstall && !install.teamId)
      throw new Error("authorizeInstall: teamId is required");
    if (install.isEnterpriseInstall && !install.enterpriseId) {
      throw new Error("authorizeInstall: an org-wide install needs enterpriseId");
    }
    const code = `${this.#ids.next()}.${Date.now()}.${Math.random().toString(16).slice(2)}`;
    this.#codes.set(code, { clientId, install, issuedAt: Date.now(), used: false });
    return code;
  }

  /** oauth.v2.access, called without a token; `basic` are client credentials from an Authorization header. */
  access(args: Args, basic: { clientId: string; clientSecret: string } | undefined): Json {
    const clientId = str(args, "client_id") ?? basic?.clientId;
    const clientSecret = str(args, "client_secret") ?? basic?.clientSecret;
    const app = clientId ? this.#apps.get(clientId) : undefined;
    if (!app) throw failure("invalid_client_id");
    if (clientSecret !== app.clientSecret) throw failure("bad_client_secret");
    const grant = str(args, "grant_type") ?? "authorization_code";
    if (grant === "refresh_token") return this.#refresh(app, str(args, "refresh_token"));
    if (grant !== "authorization_code") throw failure("invalid_grant_type");
    return this.#exchange(app, str(args, "code"), str(args, "redirect_uri"));
  }

  #exchange(app: AppRegistration, code: string | undefined, redirectUri: string | undefined): Json {
    const pending = code ? this.#codes.get(code) : undefined;
    const fresh = pending && !pending.used && Date.now() - pending.issuedAt < CODE_TTL_MS;
    if (!pending || !fresh || pending.clientId !== app.clientId) throw failure("invalid_code");
    const { install } = pending;
    if (install.redirectUri !== undefined && redirectUri !== install.redirectUri)
      throw failure("bad_redirect_uri");
    pending.used = true;
    const org = install.isEnterpriseInstall === true;
    const workspace = this.#workspaces.install({
      teamId: org ? (install.enterpriseId ?? "") : (install.teamId ?? ""),
      teamName: (org ? install.enterpriseName : install.teamName) ?? "Fake Team",
      ...(install.enterpriseId ? { enterpriseId: install.enterpriseId } : {}),
      ...(install.enterpriseName ? { enterpriseName: install.enterpriseName } : {}),
      isEnterpriseInstall: org,
      scopes: install.scopes ?? DEFAULT_BOT_SCOPES,
      installerUserId: install.userId,
      ...(install.botUserId ? { botUserId: install.botUserId } : {}),
      ...(install.botId ? { botId: install.botId } : {}),
    });
    this.#onInstall(workspace);
    return {
      ok: true,
      app_id: this.#workspaces.appId,
      authed_user: { id: install.userId },
      ...this.#tokens(app, workspace),
    };
  }

  #refresh(app: AppRegistration, refreshToken: string | undefined): Json {
    const key =
      refreshToken && app.tokenRotation ? this.#workspaces.useRefreshToken(refreshToken) : undefined;
    if (!key) throw failure("invalid_refresh_token");
    const workspace = this.#workspaces.get(key);
    if (!workspace) throw failure("invalid_refresh_token");
    const answer = this.#tokens(app, workspace);
    this.#workspaces.retireBotTokens(key, String(answer.access_token), app.rotatedTokenGraceMs);
    return { ok: true, app_id: this.#workspaces.appId, ...answer };
  }

  /** The token part of oauth.v2.access's answer: a new bot token (and refresh token with rotation). */
  #tokens(app: AppRegistration, workspace: Workspace): Json {
    const ttlSeconds = app.accessTokenTtlSeconds ?? DEFAULT_TTL_SECONDS;
    const rotating = app.tokenRotation ? { ttlSeconds } : undefined;
    const accessToken = this.#workspaces.issueBotToken(workspace.teamId, rotating);
    const org = workspace.isEnterpriseInstall;
    const enterprise = workspace.enterpriseId
      ? { id: workspace.enterpriseId, name: workspace.enterpriseName ?? workspace.enterpriseId }
      : null;
    return {
      scope: workspace.scopes.join(","),
      token_type: "bot",
      access_token: accessToken,
      bot_user_id: workspace.botUserId,
      ...(rotating
        ? { refresh_token: this.#workspaces.issueRefreshToken(workspace.teamId), expires_in: ttlSeconds }
        : {}),
      team: org ? null : { id: workspace.teamId, name: workspace.teamName },
      enterprise,
      is_enterprise_install: org,
    };
  }
}
