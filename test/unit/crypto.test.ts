import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSealer, SealError, secretId } from "../../src/crypto.ts";

const keyA = randomBytes(32);
const keyB = randomBytes(32);

describe("secrets at rest", () => {
  it("seals with AES-256-GCM: the plain text never appears, and opens back", () => {
    const sealer = createSealer({ key: keyA });
    const sealed = sealer.seal("xoxb-1234-secret-token");
    expect(sealed).not.toContain("xoxb");
    expect(sealed).toMatch(/^v1:[\w-]{8}:/);
    expect(sealer.open(sealed)).toBe("xoxb-1234-secret-token");
    // A fresh IV each time: the same secret never looks the same twice.
    expect(sealer.seal("xoxb-1234-secret-token")).not.toBe(sealed);
  });

  it("after a key change, rows sealed with the previous key still open, and are known as stale", () => {
    const old = createSealer({ key: keyA });
    const sealedBefore = old.seal("pk_live_abcdef");
    const rotated = createSealer({ key: keyB, previous: keyA });
    expect(rotated.open(sealedBefore)).toBe("pk_live_abcdef");
    expect(rotated.isStale(sealedBefore)).toBe(true);
    expect(rotated.isStale(rotated.seal("x"))).toBe(false);
    // Without the previous key, the error says what to do.
    expect(() => createSealer({ key: keyB }).open(sealedBefore)).toThrow(/ENCRYPTION_KEY_PREVIOUS/);
  });

  it("refuses a value that was tampered with", () => {
    const sealer = createSealer({ key: keyA });
    const parts = sealer.seal("secret").split(":");
    parts[4] = Buffer.from("other").toString("base64url");
    expect(() => sealer.open(parts.join(":"))).toThrow(SealError);
    expect(() => sealer.open("not sealed")).toThrow(SealError);
  });

  it("names a secret by a hash that does not reveal it", () => {
    expect(secretId("pk_live_abcdef")).toMatch(/^[0-9a-f]{16}$/);
    expect(secretId("pk_live_abcdef")).toBe(secretId("pk_live_abcdef"));
    expect(secretId("pk_live_abcdef")).not.toBe(secretId("pk_live_abcdeg"));
  });
});
