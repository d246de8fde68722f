import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "./hex.js";
import { sm4GcmDecrypt, sm4GcmEncrypt } from "./sm4.js";
import vectors from "./testdata/vectors.json" with { type: "json" };

const v = vectors.sm4Gcm;

describe("SM4-GCM", () => {
  it(`matches ${v.source}`, () => {
    const out = sm4GcmEncrypt(fromHex(v.key), fromHex(v.plaintext), { iv: fromHex(v.iv), aad: fromHex(v.aad) });
    expect(toHex(out.ciphertext)).toBe(v.ciphertext);
    expect(toHex(out.tag)).toBe(v.tag);
    expect(toHex(sm4GcmDecrypt(fromHex(v.key), out, { aad: fromHex(v.aad) }))).toBe(v.plaintext);
  });

  it("round-trips with a random iv", () => {
    const key = new Uint8Array(16).fill(7);
    const sealed = sm4GcmEncrypt(key, new TextEncoder().encode("个人数据"));
    expect(sealed.iv).toHaveLength(12);
    expect(new TextDecoder().decode(sm4GcmDecrypt(key, sealed))).toBe("个人数据");
  });

  it("fails with GM_CRYPTO_FAILED on a changed byte, tag or aad", () => {
    const key = fromHex(v.key);
    const sealed = sm4GcmEncrypt(key, fromHex(v.plaintext), { aad: fromHex(v.aad) });
    const ct = Uint8Array.from(sealed.ciphertext);
    ct[0] = (ct[0] ?? 0) ^ 1;
    const gm = expect.objectContaining({ code: "GM_CRYPTO_FAILED" });
    expect(() => sm4GcmDecrypt(key, { ...sealed, ciphertext: ct }, { aad: fromHex(v.aad) })).toThrow(gm);
    expect(() => sm4GcmDecrypt(key, sealed, { aad: new Uint8Array(1) })).toThrow(gm);
    const tag = Uint8Array.from(sealed.tag);
    tag[15] = (tag[15] ?? 0) ^ 1;
    expect(() => sm4GcmDecrypt(key, { ...sealed, tag }, { aad: fromHex(v.aad) })).toThrow(gm);
  });

  it("argument mistakes are TypeErrors", () => {
    expect(() => sm4GcmEncrypt(new Uint8Array(15), new Uint8Array(1))).toThrow(TypeError);
    expect(() => sm4GcmEncrypt(new Uint8Array(16), new Uint8Array(1), { iv: new Uint8Array(8) })).toThrow(TypeError);
  });
});
