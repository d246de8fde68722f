import { createPrivateKey, sign, X509Certificate } from "node:crypto";
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { EnvelopeSchema, HeaderSchema, MessageType, type Header } from "../gen/tongban/v1/envelope_pb.js";
import { CaseState, HandlingMode, IdentityDocumentType } from "../gen/tongban/v1/common_pb.js";
import { newMessageId } from "../identifiers/index.js";
import { createCrl, createFederationRoot, issueNodeCertificates, type FederationRoot, type NodeCertificates } from "../pki/index.js";
import { TrustStore } from "../trust/index.js";
import { createEnvelope, type EnvelopeSigner } from "./create-envelope.js";
import { signingInput } from "./jws.js";
import { MemoryReplayGuard } from "./replay-guard.js";
import { verifyEnvelope, type VerifyEnvelopeOptions } from "./verify-envelope.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
const T0 = new Date("2026-03-02T02:00:00Z");
const NOW = new Date("2026-03-02T02:00:05Z");

let root: FederationRoot;
let qingpu: NodeCertificates;
let qingpuEd: NodeCertificates;
let wujiang: NodeCertificates;
let jiashan: NodeCertificates;
let trust: TrustStore;

function signerOf(n: NodeCertificates): EnvelopeSigner {
  const alg = createPrivateKey(n.signing.privateKeyPem).asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256";
  return { kid: n.signing.kid, privateKey: createPrivateKey(n.signing.privateKeyPem), algorithm: alg };
}
const tlsPublic = (n: NodeCertificates) => new X509Certificate(n.tls.certificatePem).publicKey;
const tlsPrivate = (n: NodeCertificates) => createPrivateKey(n.tls.privateKeyPem);

const statusBody = { kind: { case: "statusUpdate" as const, value: { state: CaseState.ACCEPTED, note: "受理" } } };
const submissionBody = {
  kind: {
    case: "applicationSubmission" as const,
    value: {
      mode: HandlingMode.REMOTE_RECEIPT,
      applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" },
      form: [{ name: "reason", value: "遗失" }],
    },
  },
};

beforeAll(async () => {
  const notBefore = new Date("2026-01-01T00:00:00Z");
  root = await createFederationRoot({ name: "Tongban Test Root", validityDays: 3650, notBefore });
  qingpu = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays: 365, notBefore });
  qingpuEd = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "EdDSA", validityDays: 365, notBefore });
  wujiang = await issueNodeCertificates({ ca: root, nodeId: WUJIANG, signingAlgorithm: "ES256", validityDays: 365, notBefore });
  jiashan = await issueNodeCertificates({ ca: root, nodeId: JIASHAN, signingAlgorithm: "EdDSA", validityDays: 365, notBefore });
  trust = new TrustStore({ anchor: root.certificatePem });
  for (const n of [qingpu, qingpuEd, wujiang, jiashan]) trust.addCertificate(n.signing.certificatePem);
});

const opts = (extra: Partial<VerifyEnvelopeOptions> = {}): VerifyEnvelopeOptions => ({ self: WUJIANG, resolver: trust, now: NOW, ...extra });

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof TongbanError && e.code === code);
}

describe("createEnvelope / verifyEnvelope", () => {
  it("round-trips a clear body signed with ES256 and with EdDSA", async () => {
    for (const n of [qingpu, qingpuEd]) {
      const made = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(n), now: T0 });
      const v = await verifyEnvelope(made.bytes, opts());
      expect(v.header.type).toBe(MessageType.STATUS_UPDATE);
      expect(v.header.messageId).toBe(made.messageId);
      expect(v.body?.kind.case).toBe("statusUpdate");
      expect(v.signer.nodeId).toBe(QINGPU);
      expect(Buffer.from(v.receiptDigest)).toEqual(Buffer.from(made.receiptDigest));
      expect(v.duplicate).toBe(false);
    }
  });

  it("encrypts personal data to the recipient; only the recipient's key opens it", async () => {
    const made = await createEnvelope({ body: submissionBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), encryptTo: tlsPublic(wujiang), now: T0 });
    expect(Buffer.from(made.envelope.body).includes(Buffer.from("11010519491231002X"))).toBe(false);
    const v = await verifyEnvelope(made.bytes, opts({ decryptionKey: tlsPrivate(wujiang) }));
    expect(v.body?.kind.case).toBe("applicationSubmission");
    if (v.body?.kind.case === "applicationSubmission") expect(v.body.kind.value.applicant?.idNumber).toBe("11010519491231002X");
    // a hop can check origin without reading
    const hop = await verifyEnvelope(made.bytes, opts({ skipBody: true }));
    expect(hop.body).toBeUndefined();
    await expectCode(verifyEnvelope(made.bytes, opts({ decryptionKey: tlsPrivate(jiashan) })), "ENVELOPE_DECRYPTION_FAILED");
    await expectCode(verifyEnvelope(made.bytes, opts()), "ENVELOPE_DECRYPTION_FAILED");
  });

  it("tries several decryption keys in order (a rotated key kept for bodies encrypted before the switch)", async () => {
    const made = await createEnvelope({ body: submissionBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), encryptTo: tlsPublic(wujiang), now: T0 });
    for (const keys of [[tlsPrivate(jiashan), tlsPrivate(wujiang)], [tlsPrivate(wujiang), tlsPrivate(jiashan)]]) {
      const v = await verifyEnvelope(made.bytes, opts({ decryptionKey: keys }));
      if (v.body?.kind.case !== "applicationSubmission") throw new Error(`opened as ${String(v.body?.kind.case)}`);
      expect(v.body.kind.value.applicant?.idNumber).toBe("11010519491231002X");
    }
    await expectCode(verifyEnvelope(made.bytes, opts({ decryptionKey: [tlsPrivate(jiashan), tlsPrivate(qingpu)] })), "ENVELOPE_DECRYPTION_FAILED");
    await expectCode(verifyEnvelope(made.bytes, opts({ decryptionKey: [] })), "ENVELOPE_DECRYPTION_FAILED");
  });

  it("refuses to send personal data in the clear", async () => {
    await expect(createEnvelope({ body: submissionBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu) })).rejects.toThrow(TypeError);
  });

  it("treats a second delivery of the same bytes as a duplicate and different content under the same id as a replay", async () => {
    const replay = new MemoryReplayGuard({ now: () => NOW.getTime() });
    const messageId = newMessageId(T0);
    const a = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0, messageId });
    expect((await verifyEnvelope(a.bytes, opts({ replay }))).duplicate).toBe(false);
    expect((await verifyEnvelope(a.bytes, opts({ replay }))).duplicate).toBe(true);
    const b = await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.REFUSED } } }, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0, messageId });
    await expectCode(verifyEnvelope(b.bytes, opts({ replay })), "ENVELOPE_REPLAYED");
  });

  it("rejects a wrong recipient, a future or stale timestamp and an expired envelope", async () => {
    const made = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: JIASHAN, signer: signerOf(qingpu), now: T0 });
    await expectCode(verifyEnvelope(made.bytes, opts()), "ENVELOPE_WRONG_RECIPIENT");
    const future = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: new Date(NOW.getTime() + 10 * 60_000) });
    await expectCode(verifyEnvelope(future.bytes, opts()), "ENVELOPE_TIMESTAMP_OUT_OF_WINDOW");
    const old = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0, ttlSeconds: 60 });
    await expectCode(verifyEnvelope(old.bytes, opts({ now: new Date(T0.getTime() + 120_000) })), "ENVELOPE_EXPIRED");
    const stale = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0 });
    await expectCode(verifyEnvelope(stale.bytes, opts({ now: new Date(T0.getTime() + 73 * 3600_000) })), "ENVELOPE_TIMESTAMP_OUT_OF_WINDOW");
  });

  it("rejects an untrusted signer, a revoked signer and a signer posing as another node", async () => {
    const other = await createFederationRoot({ name: "Other Root", validityDays: 3650, notBefore: T0 });
    const stranger = await issueNodeCertificates({ ca: other, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays: 30, notBefore: T0 });
    const s = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(stranger), now: T0 });
    await expectCode(verifyEnvelope(s.bytes, opts()), "TRUST_UNKNOWN_SIGNER");
    const t2 = new TrustStore({ anchor: root.certificatePem });
    t2.addCertificate(stranger.signing.certificatePem);
    await expectCode(verifyEnvelope(s.bytes, opts({ resolver: t2 })), "TRUST_UNTRUSTED_CHAIN");

    const revokedStore = new TrustStore({ anchor: root.certificatePem });
    revokedStore.addCertificate(qingpu.signing.certificatePem);
    revokedStore.setCrl(
      await createCrl({ ca: root, revoked: [{ serial: qingpu.signing.serial, date: T0 }], thisUpdate: T0, nextUpdate: new Date(T0.getTime() + 7 * 86_400_000) }),
    );
    const r = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0 });
    await expectCode(verifyEnvelope(r.bytes, opts({ resolver: revokedStore })), "TRUST_CERT_REVOKED");

    // jiashan's key signing a header that claims to be from qingpu
    const posing = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(jiashan), now: T0 });
    await expectCode(verifyEnvelope(posing.bytes, opts()), "TRUST_SIGNER_MISMATCH");
  });

  it("rejects an expired signer certificate", async () => {
    const made = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: new Date("2027-06-01T00:00:00Z") });
    await expectCode(verifyEnvelope(made.bytes, opts({ now: new Date("2027-06-01T00:00:01Z") })), "TRUST_CERT_EXPIRED");
  });

  it("rejects a header whose type differs from its body", async () => {
    // Sign a header claiming DECISION over a StatusUpdate body: a sender bug the receiver must catch.
    const made = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0 });
    const header = fromBinary(HeaderSchema, made.headerBytes);
    header.type = MessageType.DECISION;
    const resigned = resign(header, made.envelope.body);
    await expectCode(verifyEnvelope(resigned, opts()), "ENVELOPE_BODY_TYPE_MISMATCH");
  });

  it("rejects oversize input before decoding it", async () => {
    await expectCode(verifyEnvelope(new Uint8Array(5 * 1024 * 1024), opts()), "ENVELOPE_TOO_LARGE");
    const made = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0 });
    await expectCode(verifyEnvelope(made.bytes, opts({ limits: { maxBodyBytes: 4 } })), "ENVELOPE_TOO_LARGE");
  });

  it("rejects an unsupported algorithm and garbage", async () => {
    const made = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0 });
    const env = fromBinary(EnvelopeSchema, made.bytes);
    env.signature!.protected = new TextEncoder().encode(JSON.stringify({ alg: "HS256", kid: qingpu.signing.kid, typ: "tongban-header+jws" }));
    await expectCode(verifyEnvelope(toBinary(EnvelopeSchema, env), opts()), "ENVELOPE_UNSUPPORTED_SUITE");
    await expectCode(verifyEnvelope(new Uint8Array([0xff, 0xff, 0xff]), opts()), "ENVELOPE_MALFORMED");
  });

  it("rejects any single changed byte of header, body, protected header or signature value with the code of the step it breaks", async () => {
    const made = await createEnvelope({ body: statusBody, sender: QINGPU, recipient: WUJIANG, signer: signerOf(qingpu), now: T0 });
    const parts = ["header", "body", "protected", "value"] as const;
    const allowedCodes: Record<(typeof parts)[number], string[]> = {
      // The signature covers the header bytes: any change breaks it (or the JSON/alg/kid it is found by).
      header: ["ENVELOPE_BAD_SIGNATURE"],
      // The body is bound through the digest in the signed header.
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
        const err = await verifyEnvelope(toBinary(EnvelopeSchema, env), opts()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, `${part}[${at % copy.length}] ^ ${xor} was accepted`).toBeInstanceOf(TongbanError);
        expect(allowedCodes[part]).toContain((err as TongbanError).code);
      }),
      { numRuns: 300 },
    );
  });
});

/** Re-signs a modified header with qingpu's key (to test checks after the signature). */
function resign(header: Header, body: Uint8Array): Uint8Array {
  const headerBytes = toBinary(HeaderSchema, header);
  const prot = new TextEncoder().encode(JSON.stringify({ alg: "ES256", kid: qingpu.signing.kid, typ: "tongban-header+jws" }));
  const value = sign("sha256", signingInput(prot, headerBytes), { key: createPrivateKey(qingpu.signing.privateKeyPem), dsaEncoding: "ieee-p1363" });
  return toBinary(EnvelopeSchema, create(EnvelopeSchema, { header: headerBytes, body, signature: { protected: prot, value } }));
}

