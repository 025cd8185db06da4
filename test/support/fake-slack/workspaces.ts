// Who is calling: every bot token belongs to a workspace (an installation of the app: a team, or an
// enterprise for an org-wide install) with its own bot user, bot id and scopes. The default workspace and its
// token exist from the start and never expire; oauth.ts adds installations.
//
// Token rules: an unknown token answers `invalid_auth`, a revoked one `token_revoked`, an expired one
// `token_expired` (expiry: `expires_in` on the wall clock (Date.now), expireTokens(), or the end of an
// app's rotatedTokenGraceMs after a refresh). A refresh token used as a bot token: `not_allowed_token_type`.

import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { DEFAULT_BOT_SCOPES, type FakeSlackOptions, type InstallationInfo } from "./types.ts";
import { failure, type Json, type Sequence } from "./wire.ts";

export const PERMALINK_HOST = "https://fake.slack.test";
/** Methods Slack serves only with an app-level token (xapp-...). */
const APP_TOKEN_METHODS = new Set(["apps.connections.open"]);

/** A workspace the app is installed in, as seen through one of its bot tokens. */
export interface Workspace {
  /** The team, or for an org-wide install the enterprise id (the installation's key). */
  teamId: string;
  teamName: string;
  enterpriseId?: string;
  enterpriseName?: string;
  isEnterpriseInstall: boolean;
  botUserId: string;
  botId: string;
  scopes: string[];
  /** The person who installed it (oauth.v2.access's authed_user). */
  installerUserId?: string;
}

interface TokenRecord {
  token: string;
  key: string;
  kind: "bot" | "refresh";
  /** Date.now() after which it answers token_expired. */
  expiresAt?: number;
  /** performance.now() after which it answers token_expired (a rotated token's grace). */
  deadAfter?: number;
  expired: boolean;
  revoked: boolean;
  /** A refresh token can be used once. */
  used: boolean;
}

export class Workspaces {
  readonly appId: string;
  readonly appToken: string;
  readonly defaultToken: string;
  readonly default: Workspace;
  readonly #ids: Sequence;
  readonly #workspaces = new Map<string, Workspace>();
  readonly #tokens = new Map<string, TokenRecord>();
  readonly #channelOwners = new Map<string, string>();

  constructor(options: FakeSlackOptions, ids: Sequence) {
    this.#ids = ids;
    this.appId = options.appId ?? "A0APP";
    this.appToken = options.appToken ?? "xapp-test-token";
    this.defaultToken = options.token ?? "xoxb-test-token";
    this.default = {
      teamId: options.teamId ?? "T0TEAM",
      teamName: "Fake Team",
      isEnterpriseInstall: false,
      botUserId: options.botUserId ?? "U0BOT",
      botId: options.botId ?? "B0BOT",
      scopes: options.scopes ?? DEFAULT_BOT_SCOPES,
    };
    this.#workspaces.set(this.default.teamId, this.default);
    this.#addToken(this.defaultToken, this.default.teamId, "bot");
  }

  /** The workspace a bot token belongs to; app-level methods get the default workspace. */
  authenticate(token: string | undefined, method: string): Workspace {
    if (!token) throw failure("not_authed");
    const record = this.#tokens.get(token);
    if (APP_TOKEN_METHODS.has(method)) {
      if (token === this.appToken) return this.default;
      // Like Slack: a known token of the wrong kind (bot vs app-level) is told apart from an unknown one.
      throw failure(record ? "not_allowed_token_type" : "invalid_auth");
    }
    if (token === this.appToken) throw failure("not_allowed_token_type");
    if (!record) throw failure("invalid_auth");
    if (record.revoked) throw failure("token_revoked");
    if (record.kind === "refresh") throw failure("not_allowed_token_type");
    if (isExpired(record)) throw failure("token_expired");
    return this.#workspace(record.key);
  }

  /** An installation: creates its workspace on first install, keeps its bot identity on a reinstall. */
  install(input: Omit<Workspace, "botUserId" | "botId"> & { botUserId?: string; botId?: string }): Workspace {
    const existing = this.#workspaces.get(input.teamId);
    const suffix = input.teamId.replace(/^[TE]0?/, "");
    const workspace: Workspace = {
      ...input,
      botUserId: input.botUserId ?? existing?.botUserId ?? `UBOT${suffix}`,
      botId: input.botId ?? existing?.botId ?? `BBOT${suffix}`,
    };
    this.#workspaces.set(input.teamId, workspace);
    return workspace;
  }

  /** A new bot token for an installation; rotating ones (`xoxe.xoxb-`) expire after `ttlSeconds`. */
  issueBotToken(key: string, rotating: { ttlSeconds: number } | undefined): string {
    const n = this.#ids.next();
    const token = rotating ? `xoxe.xoxb-1-${n}-${secret()}` : `xoxb-${n}-${secret()}`;
    const record = this.#addToken(token, key, "bot");
    if (rotating) record.expiresAt = Date.now() + rotating.ttlSeconds * 1000;
    return token;
  }

  issueRefreshToken(key: string): string {
    const token = `xoxe-1-${this.#ids.next()}-${secret()}`;
    this.#addToken(token, key, "refresh");
    return token;
  }

  /** Spends a refresh token: the installation it refreshes, or undefined if it is unknown, used or revoked. */
  useRefreshToken(token: string): string | undefined {
    const record = this.#tokens.get(token);
    if (record?.kind !== "refresh" || record.used || record.revoked) return undefined;
    record.used = true;
    return record.key;
  }

  /** After a refresh: the installation's earlier bot tokens die `graceMs` from now (never sooner than their expiry). */
  retireBotTokens(key: string, except: string, graceMs: number | undefined): void {
    if (graceMs === undefined) return;
    for (const record of this.#records(key, "bot")) {
      if (record.token !== except)
        record.deadAfter = Math.min(record.deadAfter ?? Infinity, performance.now() + graceMs);
    }
  }

  expireTokens(key: string): void {
    for (const record of this.#records(key, "bot")) record.expired = true;
  }

  revokeTokens(key: string): void {
    for (const record of this.#records(key)) record.revoked = true;
  }

  get(key: string): Workspace | undefined {
    return this.#workspaces.get(key);
  }

  installation(key: string): InstallationInfo | undefined {
    const workspace = this.#workspaces.get(key);
    if (!workspace) return undefined;
    const live = (kind: TokenRecord["kind"]) =>
      this.#records(key, kind)
        .filter((r) => !r.revoked && !r.used && !isExpired(r))
        .at(-1)?.token;
    const botToken = live("bot");
    const refreshToken = live("refresh");
    return {
      teamId: workspace.teamId,
      teamName: workspace.teamName,
      ...(workspace.enterpriseId ? { enterpriseId: workspace.enterpriseId } : {}),
      isEnterpriseInstall: workspace.isEnterpriseInstall,
      botUserId: workspace.botUserId,
      botId: workspace.botId,
      scopes: workspace.scopes,
      ...(botToken ? { botToken } : {}),
      ...(refreshToken ? { refreshToken } : {}),
    };
  }

  authTest(caller: Workspace): Json {
    return {
      ok: true,
      url: `${PERMALINK_HOST}/`,
      team: caller.teamName,
      user: "bot",
      team_id: caller.teamId,
      user_id: caller.botUserId,
      bot_id: caller.botId,
      ...(caller.enterpriseId ? { enterprise_id: caller.enterpriseId } : {}),
      is_enterprise_install: caller.isEnterpriseInstall,
    };
  }

  /**
   * Channel ids are global, as in Slack: a channel belongs to the team that first used it (a person's message
   * with a teamId, or a bot call); another team's token gets `channel_not_found`. Org-wide installs reach all.
   */
  claimChannel(channel: string, teamId: string): void {
    if (!this.#channelOwners.has(channel)) this.#channelOwners.set(channel, teamId);
  }

  checkChannel(channel: string, caller: Workspace): void {
    if (caller.isEnterpriseInstall) return;
    const owner = this.#channelOwners.get(channel);
    if (owner === undefined) this.#channelOwners.set(channel, caller.teamId);
    else if (owner !== caller.teamId) throw failure("channel_not_found");
  }

  #workspace(key: string): Workspace {
    const workspace = this.#workspaces.get(key);
    if (!workspace) throw new Error(`no workspace ${key}`);
    return workspace;
  }

  #records(key: string, kind?: TokenRecord["kind"]): TokenRecord[] {
    return [...this.#tokens.values()].filter((r) => r.key === key && (kind === undefined || r.kind === kind));
  }

  #addToken(token: string, key: string, kind: TokenRecord["kind"]): TokenRecord {
    const record: TokenRecord = { token, key, kind, expired: false, revoked: false, used: false };
    this.#tokens.set(token, record);
    return record;
  }
}

function isExpired(record: TokenRecord): boolean {
  return (
    record.expired ||
    (record.expiresAt !== undefined && Date.now() >= record.expiresAt) ||
    (record.deadAfter !== undefined && performance.now() >= record.deadAfter)
  );
}

function secret(): string {
  return randomBytes(12).toString("hex");
}
