import { describe, expect, it } from "vitest";
import { isTongbanError } from "../errors/index.js";
import { sm2Decrypt, sm2Encrypt } from "./sm2-encryption.js";
import { generateSm2KeyPair } from "./sm2-keys.js";

describe("SM2 encryption (C1C3C2)", () => {
  const kp = generateSm2KeyPair();
  const msg = new TextEncoder().encode("encryption standard 加密");

  it("round-trips and lays out 0x04 || x || y || C3 || C2", () => {
    const ct = sm2Encrypt(msg, kp.publicKey);
    expect(ct[0]).toBe(0x04);
    expect(ct.length).toBe(65 + 32 + msg.length);
    expect(new TextDecoder().decode(sm2Decrypt(ct, kp.privateKey))).toBe("encryption standard 加密");
    // also without the 0x04 marker, as some implementations send it
    expect(sm2Decrypt(ct.subarray(1), kp.privateKey)).toEqual(msg);
  });

  it("fails with GM_CRYPTO_FAILED for a tampered C2 or the wrong key", () => {
    const ct = sm2Encrypt(msg, kp.publicKey);
    ct[ct.length - 1] = (ct[ct.length - 1] ?? 0) ^ 1;
    expect(() => sm2Decrypt(ct, kp.privateKey)).toThrow(expect.objectContaining({ code: "GM_CRYPTO_FAILED" }));
    let err: unknown;
    try {
      sm2Decrypt(sm2Encrypt(msg, kp.publicKey), generateSm2KeyPair().privateKey);
    } catch (e) {
      err = e;
    }
    expect(isTongbanError(err, "GM_CRYPTO_FAILED")).toBe(true);
  });

  it("refuses an empty plaintext and a truncated ciphertext", () => {
    expect(() => sm2Encrypt(new Uint8Array(0), kp.publicKey)).toThrow(TypeError);
    expect(() => sm2Decrypt(new Uint8Array(97), kp.privateKey)).toThrow(expect.objectContaining({ code: "GM_CRYPTO_FAILED" }));
  });
});
