import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTongbanError } from "../errors/index.js";
import { fromHex, toHex } from "./hex.js";
import { generateSm2KeyPair, sm2PublicKeyFromPrivateKey } from "./sm2-keys.js";
import { sm2Sign, sm2SignatureDigest, sm2SignatureFromRaw, sm2SignatureToRaw, sm2Verify } from "./sm2-signature.js";
import vectors from "./testdata/vectors.json" with { type: "json" };

const kat = vectors.sm2Sign;
const msg = new TextEncoder().encode(kat.messageUtf8);

describe("SM2 signature, GM/T 0003.5 annex example", () => {
  it("derives the example public key from the private key", () => {
    expect(toHex(sm2PublicKeyFromPrivateKey(fromHex(kat.privateKey)))).toBe(kat.publicKey);
  });

  it("computes e = SM3(Z_A || M) of the example", () => {
    expect(toHex(sm2SignatureDigest(msg, fromHex(kat.publicKey), { userId: kat.userId }))).toBe(kat.e);
  });

  it("verifies the published (r, s) under the default user ID", () => {
    const der = sm2SignatureFromRaw(fromHex(kat.r + kat.s));
    expect(sm2Verify(msg, der, fromHex(kat.publicKey))).toBe(true);
  });

  it("rejects the published signature on another message or with another user ID", () => {
    const der = sm2SignatureFromRaw(fromHex(kat.r + kat.s));
    expect(sm2Verify(new TextEncoder().encode("message digesT"), der, fromHex(kat.publicKey))).toBe(false);
    expect(sm2Verify(msg, der, fromHex(kat.publicKey), { userId: "" })).toBe(false);
  });
});

describe("sm2Sign / sm2Verify", () => {
  const kp = generateSm2KeyPair();
  const data = new TextEncoder().encode("通办 seal");

  it("round-trips and produces a DER SEQUENCE of two INTEGERs", () => {
    const sig = sm2Sign(data, kp.privateKey);
    expect(sig[0]).toBe(0x30);
    expect(sm2Verify(data, sig, kp.publicKey)).toBe(true);
    expect(sm2SignatureToRaw(sig)).toHaveLength(64);
  });

  it("an empty-user-ID signature is rejected under the default user ID", () => {
    const sig = sm2Sign(data, kp.privateKey, { userId: "" });
    expect(sm2Verify(data, sig, kp.publicKey, { userId: "" })).toBe(true);
    expect(sm2Verify(data, sig, kp.publicKey)).toBe(false);
  });

  it("a custom user ID must match on both sides", () => {
    const sig = sm2Sign(data, kp.privateKey, { userId: "alice@example.cn" });
    expect(sm2Verify(data, sig, kp.publicKey, { userId: "alice@example.cn" })).toBe(true);
    expect(sm2Verify(data, sig, kp.publicKey)).toBe(false);
  });

  it("rejects another key, garbage DER and out-of-range r/s without throwing", () => {
    const sig = sm2Sign(data, kp.privateKey);
    expect(sm2Verify(data, sig, generateSm2KeyPair().publicKey)).toBe(false);
    expect(sm2Verify(data, new Uint8Array([0x30, 0x00]), kp.publicKey)).toBe(false);
    expect(sm2Verify(data, sm2SignatureFromRaw(new Uint8Array(64)), kp.publicKey)).toBe(false);
  });

  it("refuses non-DER encodings of a valid signature (padded INTEGER, inconsistent length)", () => {
    const sig = sm2Sign(data, kp.privateKey);
    // 30 L 02 rlen <r> 02 slen <s>: give r one superfluous leading zero byte
    const rLen = sig[3] ?? 0;
    const rest = sig.subarray(4);
    const nonMinimal = Uint8Array.from([0x30, (sig[1] ?? 0) + 1, 0x02, rLen + 1, 0x00, ...rest]);
    expect(sm2Verify(data, nonMinimal, kp.publicKey)).toBe(false);
    const shortened = Uint8Array.from(sig);
    shortened[1] = (shortened[1] ?? 0) - 1;
    expect(sm2Verify(data, shortened, kp.publicKey)).toBe(false);
  });

  it("refuses a public key that is not on the curve", () => {
    const off = Uint8Array.from(kp.publicKey);
    off[64] = (off[64] ?? 0) ^ 1;
    let err: unknown;
    try {
      sm2Verify(data, sm2Sign(data, kp.privateKey), off);
    } catch (e) {
      err = e;
    }
    expect(isTongbanError(err, "GM_CRYPTO_FAILED")).toBe(true);
  });

  it("argument mistakes are TypeErrors", () => {
    expect(() => sm2Sign(data, new Uint8Array(31))).toThrow(TypeError);
    expect(() => sm2SignatureFromRaw(new Uint8Array(63))).toThrow(TypeError);
  });

  it("raw <-> DER conversion round-trips (property)", () => {
    const scalar = fc.bigInt({ min: 1n, max: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54122n });
    fc.assert(
      fc.property(scalar, scalar, (r, s) => {
        const raw = fromHex(r.toString(16).padStart(64, "0") + s.toString(16).padStart(64, "0"));
        expect(toHex(sm2SignatureToRaw(sm2SignatureFromRaw(raw)))).toBe(toHex(raw));
      }),
      { numRuns: 200 },
    );
  });

  it("any flipped bit in the message breaks the signature (property)", () => {
    const sig = sm2Sign(data, kp.privateKey);
    fc.assert(
      fc.property(fc.nat({ max: data.length * 8 - 1 }), (bit) => {
        const tampered = Uint8Array.from(data);
        tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(sm2Verify(tampered, sig, kp.publicKey)).toBe(false);
      }),
      { numRuns: 20 },
    );
  });
});
