// Public access tokens shaped like Trigger.dev's: an HS256 JWT scoped to one run (`read:runs:<runId>`).
// The secret is per emulator, so a token from another emulator instance (or a restart) is rejected.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const TOKEN_TTL_SECONDS = 60 * 60;

export interface RunTokens {
  issue(runId: string): string;
  /** True when the token is ours, unexpired, and its scopes cover this run. */
  allows(token: string, runId: string): boolean;
}

export function createRunTokens(secret: Buffer = randomBytes(32)): RunTokens {
  const sign = (input: string) => createHmac("sha256", secret).update(input).digest();

  return {
    issue(runId) {
      const issuedAt = Math.floor(Date.now() / 1000);
      const header = encodeJson({ alg: "HS256", typ: "JWT" });
      const payload = encodeJson({
        sub: "env_emulator_dev",
        pub: true,
        scopes: [`read:runs:${runId}`],
        iat: issuedAt,
        exp: issuedAt + TOKEN_TTL_SECONDS,
      });
      return `${header}.${payload}.${sign(`${header}.${payload}`).toString("base64url")}`;
    },

    allows(token, runId) {
      const [header, payload, signature, ...extra] = token.split(".");
      if (header === undefined || payload === undefined || signature === undefined || extra.length > 0)
        return false;
      const expected = sign(`${header}.${payload}`);
      const given = Buffer.from(signature, "base64url");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
      const claims = decodeJson(payload);
      if (typeof claims.exp !== "number" || claims.exp * 1000 <= Date.now()) return false;
      const scopes = Array.isArray(claims.scopes) ? claims.scopes : [];
      return scopes.includes(`read:runs:${runId}`) || scopes.includes("read:runs");
    },
  };
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decodeJson(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
