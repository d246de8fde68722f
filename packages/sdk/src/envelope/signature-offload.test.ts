import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFederationRoot, issueNodeCertificates, type FederationRoot, type NodeCertificates } from "../pki/index.js";
import { TrustStore } from "../trust/index.js";
import { CaseState } from "../gen/tongban/v1/common_pb.js";
import { TongbanError } from "../errors/index.js";
import { createEnvelope, type EnvelopeSigner } from "./create-envelope.js";
import { jwsSign, jwsVerify, threadPoolSignatures, type SignatureOffload } from "./jws.js";
import { startSignatureWorker, type SignatureWorker } from "./signature-worker.js";
import { verifyEnvelope } from "./verify-envelope.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const input = new TextEncoder().encode("eyJhbGciOiJFUzI1NiJ9.aGVhZGVy");

let root: FederationRoot;
let es: NodeCertificates;
let ed: NodeCertificates;
let worker: SignatureWorker;
beforeAll(async () => {
  root = await createFederationRoot({ name: "offload test root", validityDays: 2 });
  es = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays: 2 });
  ed = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "EdDSA", validityDays: 2 });
  worker = startSignatureWorker({ threads: 2 });
});
afterAll(() => worker.close());

const keysOf = (c: NodeCertificates) => ({ priv: createPrivateKey(c.signing.privateKeyPem), pub: createPublicKey(c.signing.certificatePem) });

describe.each([
  ["a signature worker (batched, 2 threads)", () => worker as SignatureOffload],
  ["the libuv thread pool", () => threadPoolSignatures],
])("signatures through %s", (_name, offload) => {
  for (const alg of ["ES256", "EdDSA"] as const) {
    it(`${alg}: signs what the in-line verify accepts, verifies what in-line sign made, and refuses a wrong one`, async () => {
      const { priv, pub } = keysOf(alg === "ES256" ? es : ed);
      const sig = await offload().sign(alg, priv, input);
      expect(sig.length).toBe(64);
      expect(jwsVerify(alg, pub, input, sig)).toBe(true);
      expect(await offload().verify(alg, pub, input, jwsSign(alg, priv, input))).toBe(true);
      const bad = new Uint8Array(sig);
      bad[10] = bad[10]! ^ 1;
      expect(await offload().verify(alg, pub, input, bad)).toBe(false);
      expect(await offload().verify(alg, pub, input, sig.subarray(0, 63))).toBe(false);
      expect(await offload().verify(alg, pub, new TextEncoder().encode("other"), sig)).toBe(false);
    });
  }
});

describe("the signature worker", () => {
  it("answers a burst of mixed jobs each with its own result, in few batches", async () => {
    const e = keysOf(es);
    const d = keysOf(ed);
    const before = worker.stats;
    const n = 300;
    const inputs = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`message ${i}`));
    const sigs = await Promise.all(inputs.map((m, i) => worker.sign(i % 2 === 0 ? "ES256" : "EdDSA", i % 2 === 0 ? e.priv : d.priv, m)));
    for (let i = 0; i < n; i++) {
      const ok = i % 2 === 0 ? verify("sha256", inputs[i]!, { key: e.pub, dsaEncoding: "ieee-p1363" }, sigs[i]!) : verify(null, inputs[i]!, d.pub, sigs[i]!);
      expect(ok).toBe(true);
    }
    // every other verification gets a signature of the wrong message: exactly those fail
    const checks = await Promise.all(inputs.map((m, i) => worker.verify(i % 2 === 0 ? "ES256" : "EdDSA", i % 2 === 0 ? e.pub : d.pub, m, sigs[i % 4 < 2 ? i : (i + 2) % n]!)));
    expect(checks).toEqual(inputs.map((_, i) => i % 4 < 2));
    const after = worker.stats;
    expect(after.signatures - before.signatures).toBe(2 * n);
    expect(after.batches - before.batches).toBeLessThan(2 * n / 10);
  });

  it("keeps keys apart: the same input signed with two keys verifies only under its own", async () => {
    const a = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const b = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const [sa, sb] = await Promise.all([worker.sign("ES256", a.privateKey, input), worker.sign("ES256", b.privateKey, input)]);
    expect(await Promise.all([worker.verify("ES256", a.publicKey, input, sa), worker.verify("ES256", b.publicKey, input, sa), worker.verify("ES256", b.publicKey, input, sb)])).toEqual([true, false, true]);
  });

  it("fails a signing job with a key that cannot sign with a coded error, and goes on", async () => {
    const { pub } = keysOf(es);
    const err = await worker.sign("ES256", pub, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TongbanError);
    expect((err as TongbanError).code).toBe("INTERNAL");
    expect((await worker.sign("ES256", keysOf(es).priv, input)).length).toBe(64);
  });

  it("after close, refuses new work", async () => {
    const w = startSignatureWorker();
    expect((await w.sign("EdDSA", keysOf(ed).priv, input)).length).toBe(64);
    await w.close();
    await expect(w.sign("EdDSA", keysOf(ed).priv, input)).rejects.toMatchObject({ code: "INTERNAL" });
  });

  it("envelopes made and checked through it are the same as in line", async () => {
    const trust = new TrustStore({ anchor: root.certificatePem });
    trust.addCertificate(es.signing.certificatePem);
    const signer: EnvelopeSigner = { kid: es.signing.kid, privateKey: keysOf(es).priv, algorithm: "ES256" };
    const body = { kind: { case: "statusUpdate" as const, value: { state: CaseState.ACCEPTED } } };
    const made = await createEnvelope({ body, sender: QINGPU, recipient: WUJIANG, signer, offload: worker });
    expect((await verifyEnvelope(made.bytes, { self: WUJIANG, resolver: trust })).header.messageId).toBe(made.messageId);
    const inline = await createEnvelope({ body, sender: QINGPU, recipient: WUJIANG, signer });
    expect((await verifyEnvelope(inline.bytes, { self: WUJIANG, resolver: trust, offload: worker })).header.messageId).toBe(inline.messageId);
    const tampered = new Uint8Array(inline.bytes);
    tampered[tampered.length - 5] = tampered[tampered.length - 5]! ^ 1; // in the signature value
    await expect(verifyEnvelope(tampered, { self: WUJIANG, resolver: trust, offload: worker })).rejects.toMatchObject({ code: "ENVELOPE_BAD_SIGNATURE" });
  });
});
