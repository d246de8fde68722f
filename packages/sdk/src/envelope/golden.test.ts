import { createHash, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isSm2KeyObject } from "../gm/key-object.js";
import { TrustStore } from "../trust/index.js";
import { verifyEnvelope } from "./verify-envelope.js";

// Golden envelopes made once by testdata/envelopes/generate.mjs (jose-v1)
// and testdata/envelopes/gm-v1/generate.mjs (gm-v1 in a mixed federation)
// and committed: they pin the wire format. If a change to the SDK stops them
// verifying, the change broke compatibility with every envelope already sent.
interface Golden {
  file: string;
  sha256: string;
  sender: string;
  recipient: string;
  messageId: string;
  caseId: string;
  sequence: number;
  bodyCase: string;
  encrypted: boolean;
  suite?: string;
  receiptDigest: string;
  verifyAt: string;
}

const SETS = [
  { name: "jose-v1", dir: new URL("../../testdata/envelopes/", import.meta.url), nodes: ["cn.310118.qingpu", "cn.320509.wujiang"], cas: [] as string[] },
  { name: "gm-v1", dir: new URL("../../testdata/envelopes/gm-v1/", import.meta.url), nodes: ["cn.310118.qingpu", "cn.320509.wujiang", "cn.330421.jiashan"], cas: ["sm2-ca.crt"] },
];

for (const set of SETS) {
  const read = (name: string) => readFileSync(fileURLToPath(new URL(name, set.dir)));
  const expected = JSON.parse(read("expected.json").toString("utf8")) as Golden[];

  describe(`golden envelopes (${set.name})`, () => {
    const trust = new TrustStore({ anchor: read("root.crt").toString("utf8") });
    for (const ca of set.cas) trust.addCertificate(read(ca).toString("utf8"));
    for (const id of set.nodes) trust.addCertificate(read(`${id}.sign.crt`).toString("utf8"));

    it("has goldens to check", () => expect(expected.length).toBeGreaterThanOrEqual(2));

    for (const g of expected) {
      it(`${g.file} is unchanged and verifies`, async () => {
        const bytes = read(g.file);
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(g.sha256);
        const signKey = createPrivateKey(read(`${g.recipient}.sign.key`));
        const v = await verifyEnvelope(bytes, {
          self: g.recipient,
          resolver: trust,
          now: new Date(g.verifyAt),
          decryptionKey: createPrivateKey(read(`${g.recipient}.tls.key`)),
          // a gm-v1 node's SM2 signing key is also its SM2 decryption key
          ...(isSm2KeyObject(signKey) ? { sm2DecryptionKey: signKey } : {}),
        });
        expect(v.header.sender).toBe(g.sender);
        expect(v.header.messageId).toBe(g.messageId);
        expect(v.header.caseId).toBe(g.caseId);
        expect(v.header.sequence).toBe(BigInt(g.sequence));
        expect(v.header.suite).toBe(g.suite ?? "jose-v1");
        expect(v.body?.kind.case).toBe(g.bodyCase);
        expect(Buffer.from(v.receiptDigest).toString("hex")).toBe(g.receiptDigest);
      });
    }
  });
}
