import { spawnSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { createEnvelope, type NodeCertificates } from "@tongban/sdk";
import { EnvelopeSchema, HandlingMode } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTHON, QINGPU, WUJIANG, interopFederation } from "./fixture.js";

// Debian's Python with python3-jwcrypto: an implementation that shares no code with ours.
const SCRIPT = fileURLToPath(new URL("./verify_envelope.py", import.meta.url));

let dir: string;
let nodes: Record<string, NodeCertificates>;

beforeAll(async () => {
  ({ dir, nodes } = await interopFederation("tongban-interop-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function python(file: string, signer: string, self: string): { status: number; out: Record<string, unknown> } {
  const r = spawnSync(PYTHON, [SCRIPT, file, "--cert", join(dir, `${signer}.pem`), "--anchor", join(dir, "root.pem"), "--self", self], { encoding: "utf8" });
  return { status: r.status ?? -1, out: JSON.parse(r.stdout) as Record<string, unknown> };
}

async function envelopeFile(name: string, from: string, to: string, mutate?: (e: ReturnType<typeof fromBinary<typeof EnvelopeSchema>>) => void): Promise<string> {
  const n = nodes[from]!;
  const key = createPrivateKey(n.signing.privateKeyPem);
  const made = await createEnvelope({
    body: { kind: { case: "applicationSubmission", value: { mode: HandlingMode.REMOTE_RECEIPT, caseNumber: "demo" } } },
    sender: from,
    recipient: to,
    signer: { kid: n.signing.kid, privateKey: key, algorithm: key.asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256" },
    encryptTo: new X509Certificate(nodes[to]!.tls.certificatePem).publicKey,
  });
  let bytes = made.bytes;
  if (mutate) {
    const e = fromBinary(EnvelopeSchema, bytes);
    mutate(e);
    bytes = toBinary(EnvelopeSchema, e);
  }
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe("an independent Python/jwcrypto verifier following docs/protocol.md", () => {
  it("accepts envelopes signed with ES256 and with EdDSA", async () => {
    const a = python(await envelopeFile("a.tbe", QINGPU, WUJIANG), QINGPU, WUJIANG);
    expect(a.out).toMatchObject({ valid: true, sender: QINGPU, recipient: WUJIANG, encrypted: true });
    expect(a.status).toBe(0);
    const b = python(await envelopeFile("b.tbe", WUJIANG, QINGPU), WUJIANG, QINGPU);
    expect(b.out).toMatchObject({ valid: true, sender: WUJIANG });
  });

  it("rejects a tampered body, a tampered signature and a wrong recipient with the documented codes", async () => {
    const body = python(await envelopeFile("c.tbe", QINGPU, WUJIANG, (e) => void (e.body[10] = (e.body[10] ?? 0) ^ 1)), QINGPU, WUJIANG);
    expect(body).toMatchObject({ status: 1, out: { valid: false, code: "ENVELOPE_BODY_DIGEST_MISMATCH" } });
    const sig = python(await envelopeFile("d.tbe", QINGPU, WUJIANG, (e) => void (e.signature!.value[5] = (e.signature!.value[5] ?? 0) ^ 1)), QINGPU, WUJIANG);
    expect(sig).toMatchObject({ status: 1, out: { valid: false, code: "ENVELOPE_BAD_SIGNATURE" } });
    const hdr = python(await envelopeFile("e.tbe", QINGPU, WUJIANG, (e) => void (e.header[3] = (e.header[3] ?? 0) ^ 1)), QINGPU, WUJIANG);
    expect(hdr.out).toMatchObject({ valid: false, code: "ENVELOPE_BAD_SIGNATURE" });
    const wrong = python(await envelopeFile("f.tbe", QINGPU, WUJIANG), QINGPU, "cn.330421.jiashan");
    expect(wrong.out).toMatchObject({ valid: false, code: "ENVELOPE_WRONG_RECIPIENT" });
  });
});
