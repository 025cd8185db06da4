import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Secrets at rest (bot tokens, Puffle keys): AES-256-GCM with ENCRYPTION_KEY. Each sealed value names
 * the key that sealed it (a short hash), so rows written before a key change still open with
 * ENCRYPTION_KEY_PREVIOUS, and new rows are sealed with the current key.
 *
 * Format: `v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url parts).
 */
export interface Sealer {
  seal(plain: string): string;
  /** Throws SealError when no known key opens it, or it was tampered with. */
  open(sealed: string): string;
  /** True when `sealed` was written with an older key (worth sealing again). */
  isStale(sealed: string): boolean;
}

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealError";
  }
}

const VERSION = "v1";

const keyIdOf = (key: Buffer) => createHash("sha256").update(key).digest("base64url").slice(0, 8);

export function createSealer(keys: { key: Buffer; previous?: Buffer | undefined }): Sealer {
  if (keys.key.length !== 32) throw new SealError("ENCRYPTION_KEY must be 32 bytes");
  const current = { id: keyIdOf(keys.key), key: keys.key };
  const known = new Map([[current.id, current.key]]);
  if (keys.previous) known.set(keyIdOf(keys.previous), keys.previous);

  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        VERSION,
        current.id,
        iv.toString("base64url"),
        tag.toString("base64url"),
        body.toString("base64url"),
      ].join(":");
    },
    open(sealed) {
      const [version, id, iv, tag, body] = sealed.split(":");
      if (version !== VERSION || !id || !iv || !tag || body === undefined)
        throw new SealError("not a sealed value this release can read");
      const key = known.get(id);
      if (!key)
        throw new SealError(
          "sealed with a key that is neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS: set the key it was written with as ENCRYPTION_KEY_PREVIOUS",
        );
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString(
          "utf8",
        );
      } catch {
        throw new SealError("a sealed value failed its integrity check");
      }
    },
    isStale(sealed) {
      return sealed.split(":")[1] !== current.id;
    },
  };
}

/** A non-secret name for a secret (the budget's row for a Puffle key): a hash, never the key. */
export function secretId(secret: string): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 16);
}
