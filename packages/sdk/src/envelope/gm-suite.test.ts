import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { BodyEncoding, DigestAlgorithm, EnvelopeSchema, HeaderSchema, MessageType, type Header } from "../gen/tongban/v1/envelope_pb.js";
import { CaseState, HandlingMode, IdentityDocumentType } from "../gen/tongban/v1/common_pb.js";
import { sm2SignatureFromRaw, sm2SignatureToRaw, sm2Sign } from "../gm/sm2-signature.js";
import { sm2PrivateKeyOf } from "../gm/key-object.js";
import { sm3 } from "../gm/sm3.js";
import { createCrl, createFederationRoot, createSm2Ca, issueNodeCertificates, issueSm2SigningCertificate, type FederationRoot, type IssuedCertificate, type NodeCertificates } from "../pki/index.js";
import { TrustStore } from "../trust/index.js";
import { createEnvelope, type EnvelopeSigner } from "./create-envelope.js";
import { decryptBodyGm, encryptBodyGm } from "./gm-body-encryption.js";
import { JOSE_SUITE_ALGORITHMS, signingInput } from "./jws.js";
import { verifyEnvelope, type VerifyEnvelopeOptions } from "./verify-envelope.js";

const QINGPU = "cn.310118.qingpu"; // jose-v1 (ES256)
const WUJIANG = "cn.320509.wujiang"; // gm-v1, SM2 certificate issued by the federation root
const JIASHAN = "cn.330421.jiashan"; // gm-v1, SM2 certificate issued by an SM2 CA below the root
const T0 = new Date("2026-03-02T02:00:00Z");
const NOW = new Date("2026-03-02T02:00:05Z");

let root: FederationRoot;
let qingpu: NodeCertificates;
let wujiang: NodeCertificates;
let sm2Ca: IssuedCertificate;
let jiashanSign: IssuedCertificate;
let trust: TrustStore;

const key = (c: IssuedCertificate): KeyObject => createPrivateKey(c.privateKeyPem);
const pub = (c: IssuedCertificate): KeyObject => new X509Certificate(c.certificatePem).publicKey;
const signer = (c: IssuedCertificate, extra: Partial<EnvelopeSigner> = {}): EnvelopeSigner => {
  const k = key(c);
  return { kid: c.kid, privateKey: k, algorithm: k.asymmetricKeyType === "ec" ? "ES256" : "SM2SM3", ...extra };
};

const statusBody = { kind: { case: "statusUpdate" as const, value: { state: CaseState.ACCEPTED, note: "受理" } } };
const submissionBody = {
  kind: {
    case: "applicationSubmission" as const,
    value: {
      mode: HandlingMode.REMOTE_RECEIPT,
      applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" },
    },
  },
};

beforeAll(async () => {
  const notBefore = new Date("2026-01-01T00:00:00Z");
  root = await createFederationRoot({ name: "Tongban Mixed Root", validityDays: 3650, notBefore });
  qingpu = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays: 365, notBefore });
  wujiang = await issueNodeCertificates({ ca: root, nodeId: WUJIANG, signingAlgorithm: "SM2SM3", validityDays: 365, notBefore });
  sm2Ca = await createSm2Ca({ ca: root, name: "GM Region CA", validityDays: 3000, notBefore, pathLength: 0 });
  jiashanSign = await issueSm2SigningCertificate({ ca: sm2Ca, nodeId: JIASHAN, validityDays: 365, notBefore });
  trust = new TrustStore({ anchor: root.certificatePem });
  for (const pem of [qingpu.signing.certificatePem, wujiang.signing.certificatePem, sm2Ca.certificatePem, jiashanSign.certificatePem]) trust.addCertificate(pem);
});

const opts = (self: string, extra: Partial<VerifyEnvelopeOptions> = {}): VerifyEnvelopeOptions => ({ self, resolver: trust, now: NOW, ...extra });

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof TongbanError && e.code === code);
}

describe("gm-v1 envelopes", () => {
  it("are signed with SM2-with-SM3 (DER value), bind an SM3 body digest, and verify", async () => {
    const made = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), now: T0 });
    expect(made.header.suite).toBe("gm-v1");
    expect(made.header.bodyDigest?.algorithm).toBe(DigestAlgorithm.SM3);
    expect(Buffer.from(made.header.bodyDigest!.value)).toEqual(Buffer.from(sm3(made.envelope.body)));
    expect(JSON.parse(new TextDecoder().decode(made.envelope.signature!.protected))).toEqual({ alg: "SM2SM3", kid: wujiang.signing.kid, typ: "tongban-header+jws" });
    // the value is the one minimal DER SEQUENCE { r, s }
    const value = made.envelope.signature!.value;
    expect(value[0]).toBe(0x30);
    expect(Buffer.from(sm2SignatureFromRaw(sm2SignatureToRaw(value)))).toEqual(Buffer.from(value));
    const v = await verifyEnvelope(made.bytes, opts(QINGPU));
    expect(v.signer).toMatchObject({ nodeId: WUJIANG, algorithm: "SM2SM3" });
    expect(v.body?.kind.case).toBe("statusUpdate");
  });

  it("chain through an SM2 CA under the federation root", async () => {
    const made = await createEnvelope({ body: statusBody, sender: JIASHAN, recipient: QINGPU, signer: signer(jiashanSign), now: T0 });
    expect((await verifyEnvelope(made.bytes, opts(QINGPU))).signer.nodeId).toBe(JIASHAN);
  });

  it("work in a mixed federation: a GM node verifies JOSE envelopes and a JOSE node GM envelopes, with both suites' body encryption", async () => {
    // JOSE sender → GM recipient: ES256 signature, body SM2/SM4 to the recipient's SM2 certificate
    const toGm = await createEnvelope({ body: submissionBody, sender: QINGPU, recipient: WUJIANG, signer: signer(qingpu.signing), encryptTo: pub(wujiang.signing), now: T0 });
    expect(toGm.header.suite).toBe("jose-v1");
    expect(toGm.header.bodyEncoding).toBe(BodyEncoding.GM_SM4);
    const a = await verifyEnvelope(toGm.bytes, opts(WUJIANG, { sm2DecryptionKey: key(wujiang.signing) }));
    if (a.body?.kind.case !== "applicationSubmission") throw new Error("wrong body");
    expect(a.body.kind.value.applicant?.idNumber).toBe("11010519491231002X");
    // GM sender → JOSE recipient: SM2 signature, body JWE to the recipient's TLS key
    const toJose = await createEnvelope({ body: submissionBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), encryptTo: pub(qingpu.tls), now: T0 });
    expect(toJose.header.suite).toBe("gm-v1");
    expect(toJose.header.bodyEncoding).toBe(BodyEncoding.JWE);
    expect((await verifyEnvelope(toJose.bytes, opts(QINGPU, { decryptionKey: key(qingpu.tls) }))).body?.kind.case).toBe("applicationSubmission");
  });

  it("encrypt GM to GM with SM2 + SM4-GCM; only the recipient's SM2 key opens it, a hop checks origin without it", async () => {
    const made = await createEnvelope({ body: submissionBody, sender: JIASHAN, recipient: WUJIANG, signer: signer(jiashanSign), encryptTo: pub(wujiang.signing), now: T0 });
    expect(made.header.bodyEncoding).toBe(BodyEncoding.GM_SM4);
    expect(Buffer.from(made.envelope.body).includes(Buffer.from("11010519491231002X"))).toBe(false);
    const parts = new TextDecoder().decode(made.envelope.body).split(".");
    expect(parts).toHaveLength(5);
    expect(JSON.parse(Buffer.from(parts[0]!, "base64url").toString())).toEqual({ alg: "SM2-C1C3C2", enc: "SM4-GCM", cty: "application/tongban-body+protobuf" });
    expect(Buffer.from(parts[1]!, "base64url")).toHaveLength(113);
    expect(Buffer.from(parts[2]!, "base64url")).toHaveLength(12);
    expect(Buffer.from(parts[4]!, "base64url")).toHaveLength(16);
    const v = await verifyEnvelope(made.bytes, opts(WUJIANG, { sm2DecryptionKey: key(wujiang.signing) }));
    expect(v.body?.kind.case).toBe("applicationSubmission");
    expect((await verifyEnvelope(made.bytes, opts(WUJIANG, { skipBody: true }))).body).toBeUndefined();
    await expectCode(verifyEnvelope(made.bytes, opts(WUJIANG, { sm2DecryptionKey: key(jiashanSign) })), "ENVELOPE_DECRYPTION_FAILED");
    await expectCode(verifyEnvelope(made.bytes, opts(WUJIANG, { decryptionKey: key(wujiang.tls) })), "ENVELOPE_DECRYPTION_FAILED");
    await expectCode(verifyEnvelope(made.bytes, opts(WUJIANG, { sm2DecryptionKey: key(qingpu.signing) })), "ENVELOPE_DECRYPTION_FAILED");
    // Several SM2 keys (a rotated signing key kept): tried in order.
    expect((await verifyEnvelope(made.bytes, opts(WUJIANG, { sm2DecryptionKey: [key(jiashanSign), key(wujiang.signing)] }))).body?.kind.case).toBe("applicationSubmission");
    await expectCode(verifyEnvelope(made.bytes, opts(WUJIANG, { sm2DecryptionKey: [key(jiashanSign), key(qingpu.signing)] })), "ENVELOPE_DECRYPTION_FAILED");
  });

  it("GM container: any changed byte or part fails decryption", () => {
    const clear = new TextEncoder().encode("个人数据 personal data");
    const box = encryptBodyGm(clear, pub(wujiang.signing));
    expect(Buffer.from(decryptBodyGm(box, key(wujiang.signing)))).toEqual(Buffer.from(clear));
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const copy = box.slice();
        copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ xor;
        expect(() => decryptBodyGm(copy, key(wujiang.signing))).toThrow(expect.objectContaining({ code: "ENVELOPE_DECRYPTION_FAILED" }));
      }),
      { numRuns: 200 },
    );
    const text = new TextDecoder().decode(box);
    for (const bad of [text.split(".").slice(0, 4).join("."), `${text}.x`, text.replace(/^[^.]+/, Buffer.from('{"alg":"SM2-C1C3C2","enc":"A256GCM"}').toString("base64url"))])
      expect(() => decryptBodyGm(new TextEncoder().encode(bad), key(wujiang.signing))).toThrow(expect.objectContaining({ code: "ENVELOPE_DECRYPTION_FAILED" }));
  });

  it("GM container: a part spelled in non-canonical base64url (unused low bits set) is refused", () => {
    const box = encryptBodyGm(new TextEncoder().encode("正文"), pub(wujiang.signing));
    const parts = new TextDecoder().decode(box).split(".");
    const tag = parts[4]!; // 16 bytes: 22 characters, the last one carrying 4 unused bits
    expect(tag.length % 4).toBe(2);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(tag.at(-1)!);
    parts[4] = tag.slice(0, -1) + alphabet[last ^ 1];
    expect(Buffer.from(parts[4], "base64url")).toEqual(Buffer.from(tag, "base64url")); // same bytes, other spelling
    expect(() => decryptBodyGm(new TextEncoder().encode(parts.join(".")), key(wujiang.signing))).toThrow(expect.objectContaining({ code: "ENVELOPE_DECRYPTION_FAILED" }));
  });

  it("rejects a signature made with another user ID, and refuses the empty user ID", async () => {
    const other = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing, { sm2UserId: "ALICE123@YAHOO.COM" }), now: T0 });
    await expectCode(verifyEnvelope(other.bytes, opts(QINGPU)), "ENVELOPE_BAD_SIGNATURE");
    expect((await verifyEnvelope(other.bytes, opts(QINGPU, { sm2UserId: "ALICE123@YAHOO.COM" }))).signer.nodeId).toBe(WUJIANG);
    // and the default-ID envelope does not verify under that other ID
    const normal = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), now: T0 });
    await expectCode(verifyEnvelope(normal.bytes, opts(QINGPU, { sm2UserId: "ALICE123@YAHOO.COM" })), "ENVELOPE_BAD_SIGNATURE");

    // an envelope signed with the empty user ID (made by hand: the SDK refuses to) is rejected
    const env = fromBinary(EnvelopeSchema, normal.bytes);
    const input = signingInput(env.signature!.protected, env.header);
    env.signature!.value = sm2Sign(input, sm2PrivateKeyOf(key(wujiang.signing)), { userId: "" });
    await expectCode(verifyEnvelope(toBinary(EnvelopeSchema, env), opts(QINGPU)), "ENVELOPE_BAD_SIGNATURE");
    await expect(createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing, { sm2UserId: "" }), now: T0 })).rejects.toThrow(TypeError);
    await expect(verifyEnvelope(normal.bytes, opts(QINGPU, { sm2UserId: "" }))).rejects.toThrow(TypeError);
  });

  it("rejects a non-minimal DER or raw r||s signature value", async () => {
    const made = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), now: T0 });
    const env = fromBinary(EnvelopeSchema, made.bytes);
    const raw = sm2SignatureToRaw(env.signature!.value);
    env.signature!.value = raw;
    await expectCode(verifyEnvelope(toBinary(EnvelopeSchema, env), opts(QINGPU)), "ENVELOPE_BAD_SIGNATURE");
    // r padded with a superfluous zero byte: same numbers, another encoding
    const der = sm2SignatureFromRaw(raw);
    const rLen = der[3]!;
    const padded = new Uint8Array([0x30, der[1]! + 1, 0x02, rLen + 1, 0x00, ...der.subarray(4)]);
    env.signature!.value = padded;
    await expectCode(verifyEnvelope(toBinary(EnvelopeSchema, env), opts(QINGPU)), "ENVELOPE_BAD_SIGNATURE");
  });

  it("rejects any single changed byte of header, body, protected header or signature value", async () => {
    const made = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), now: T0 });
    const parts = ["header", "body", "protected", "value"] as const;
    const allowedCodes: Record<(typeof parts)[number], string[]> = {
      header: ["ENVELOPE_BAD_SIGNATURE"],
      body: ["ENVELOPE_BODY_DIGEST_MISMATCH"],
      protected: ["ENVELOPE_MALFORMED", "ENVELOPE_UNSUPPORTED_SUITE", "TRUST_UNKNOWN_SIGNER", "ENVELOPE_BAD_SIGNATURE"],
      value: ["ENVELOPE_BAD_SIGNATURE"],
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...parts), fc.nat(), fc.integer({ min: 1, max: 255 }), async (part, at, xor) => {
        const env = fromBinary(EnvelopeSchema, made.bytes);
        const target = part === "header" ? env.header : part === "body" ? env.body : part === "protected" ? env.signature!.protected : env.signature!.value;
        const copy = new Uint8Array(target);
        copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ xor;
        if (part === "header") env.header = copy;
        else if (part === "body") env.body = copy;
        else if (part === "protected") env.signature!.protected = copy;
        else env.signature!.value = copy;
        const err = await verifyEnvelope(toBinary(EnvelopeSchema, env), opts(QINGPU)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, `${part}[${at % copy.length}] ^ ${xor} was accepted`).toBeInstanceOf(TongbanError);
        expect(allowedCodes[part]).toContain((err as TongbanError).code);
      }),
      { numRuns: 150 },
    );
  });

  it("binds suite, algorithm and digest together", async () => {
    await expect(createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), suite: "jose-v1" })).rejects.toThrow(TypeError);
    await expect(createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signer(qingpu.signing), suite: "gm-v1" })).rejects.toThrow(TypeError);
    const made = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), now: T0 });
    // a node configured for one suite only refuses the other
    await expectCode(verifyEnvelope(made.bytes, opts(QINGPU, { algorithms: JOSE_SUITE_ALGORITHMS })), "ENVELOPE_UNSUPPORTED_SUITE");
    // an SM2 signer claiming ES256 in the protected header
    const env = fromBinary(EnvelopeSchema, made.bytes);
    env.signature!.protected = new TextEncoder().encode(JSON.stringify({ alg: "ES256", kid: wujiang.signing.kid, typ: "tongban-header+jws" }));
    await expectCode(verifyEnvelope(toBinary(EnvelopeSchema, env), opts(QINGPU)), "ENVELOPE_UNSUPPORTED_SUITE");
    // correctly SM2-signed headers that break the suite rules
    const header = fromBinary(HeaderSchema, made.headerBytes);
    await expectCode(verifyEnvelope(resignGm({ ...header, suite: "jose-v1" }, made.envelope.body), opts(QINGPU)), "ENVELOPE_HEADER_INVALID");
    await expectCode(
      verifyEnvelope(resignGm({ ...header, suite: "jose-v1", bodyDigest: { $typeName: "tongban.v1.Digest", algorithm: DigestAlgorithm.SHA256, value: new Uint8Array(32) } }, made.envelope.body), opts(QINGPU)),
      "ENVELOPE_UNSUPPORTED_SUITE",
    );
    await expectCode(verifyEnvelope(resignGm({ ...header, suite: "gm-v2" }, made.envelope.body), opts(QINGPU)), "ENVELOPE_HEADER_INVALID");
    await expectCode(verifyEnvelope(resignGm({ ...header, type: MessageType.APPLICATION_SUBMISSION }, made.envelope.body), opts(QINGPU)), "ENVELOPE_HEADER_INVALID");
  });

  it("rejects untrusted, revoked and expired SM2 signers", async () => {
    const otherRoot = await createSm2Ca({ name: "GM Region CA", validityDays: 3000, notBefore: T0 });
    const stranger = await issueSm2SigningCertificate({ ca: otherRoot, nodeId: WUJIANG, validityDays: 30, notBefore: T0 });
    const t2 = new TrustStore({ anchor: root.certificatePem });
    t2.addCertificate(stranger.certificatePem);
    t2.addCertificate(otherRoot.certificatePem);
    const s = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(stranger), now: T0 });
    await expectCode(verifyEnvelope(s.bytes, opts(QINGPU, { resolver: t2 })), "TRUST_UNTRUSTED_CHAIN");

    const revoked = new TrustStore({ anchor: root.certificatePem });
    revoked.addCertificate(sm2Ca.certificatePem);
    revoked.addCertificate(jiashanSign.certificatePem);
    revoked.addCertificate(wujiang.signing.certificatePem);
    // revoking the SM2 CA revokes what it issued; the root's CRL names it
    revoked.setCrl(await createCrl({ ca: root, revoked: [{ serial: sm2Ca.serial, date: T0 }, { serial: wujiang.signing.serial, date: T0 }], thisUpdate: T0, nextUpdate: new Date(T0.getTime() + 7 * 86_400_000) }));
    const r1 = await createEnvelope({ body: statusBody, sender: JIASHAN, recipient: QINGPU, signer: signer(jiashanSign), now: T0 });
    await expectCode(verifyEnvelope(r1.bytes, opts(QINGPU, { resolver: revoked })), "TRUST_CERT_REVOKED");
    const r2 = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), now: T0 });
    await expectCode(verifyEnvelope(r2.bytes, opts(QINGPU, { resolver: revoked })), "TRUST_CERT_REVOKED");

    const late = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(wujiang.signing), now: new Date("2027-06-01T00:00:00Z") });
    await expectCode(verifyEnvelope(late.bytes, opts(QINGPU, { now: new Date("2027-06-01T00:00:01Z") })), "TRUST_CERT_EXPIRED");
  });

  it("work in a GM-only federation anchored at a self-signed SM2 root", async () => {
    const gmRoot = await createSm2Ca({ name: "GM Federation Root", validityDays: 3650, notBefore: T0 });
    const a = await issueSm2SigningCertificate({ ca: gmRoot, nodeId: WUJIANG, validityDays: 30, notBefore: T0 });
    const store = new TrustStore({ anchor: gmRoot.certificatePem });
    store.addCertificate(a.certificatePem);
    const made = await createEnvelope({ body: statusBody, sender: WUJIANG, recipient: QINGPU, signer: signer(a), now: T0 });
    expect((await verifyEnvelope(made.bytes, opts(QINGPU, { resolver: store }))).signer.nodeId).toBe(WUJIANG);
    // the federation's (P-256) certificates do not chain to it
    store.addCertificate(wujiang.signing.certificatePem);
    expect(() => store.resolveSigner(wujiang.signing.kid, NOW)).toThrow(expect.objectContaining({ code: "TRUST_UNTRUSTED_CHAIN" }));
  });
});

/** Re-signs a modified header with wujiang's SM2 key (to test checks after the signature). */
function resignGm(header: Header, body: Uint8Array): Uint8Array {
  const headerBytes = toBinary(HeaderSchema, create(HeaderSchema, header));
  const prot = new TextEncoder().encode(JSON.stringify({ alg: "SM2SM3", kid: wujiang.signing.kid, typ: "tongban-header+jws" }));
  const value = sm2Sign(signingInput(prot, headerBytes), sm2PrivateKeyOf(key(wujiang.signing)));
  return toBinary(EnvelopeSchema, create(EnvelopeSchema, { header: headerBytes, body, signature: { protected: prot, value } }));
}
