import { createHash, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TrustStore } from "../trust/index.js";
import { verifyEnvelope } from "./verify-envelope.js";

// Golden envelopes made once by testdata/envelopes/generate.mjs and committed:
// they pin the wire format. If a change to the SDK stops them verifying, the
// change broke compatibility with every envelope already sent.
const dir = new URL("../../testdata/envelopes/", import.meta.url);
const read = (name: string) => readFileSync(fileURLToPath(new URL(name, dir)));
const expected = JSON.parse(read("expected.json").toString("utf8")) as {
  file: string;
  sha256: string;
  sender: string;
  recipient: string;
  messageId: string;
  caseId: string;
  sequence: number;
  bodyCase: string;
  encrypted: boolean;
  receiptDigest: string;
  verifyAt: string;
}[];

describe("golden envelopes", () => {
  const trust = new TrustStore({ anchor: read("root.crt").toString("utf8") });
  for (const id of ["cn.310118.qingpu", "cn.320509.wujiang"]) trust.addCertificate(read(`${id}.sign.crt`).toString("utf8"));

  it("has goldens to check", () => expect(expected.length).toBeGreaterThanOrEqual(2));

  for (const g of expected) {
    it(`${g.file} is unchanged and verifies`, async () => {
      const bytes = read(g.file);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(g.sha256);
      const v = await verifyEnvelope(bytes, {
        self: g.recipient,
        resolver: trust,
        now: new Date(g.verifyAt),
        decryptionKey: createPrivateKey(read(`${g.recipient}.tls.key`)),
      });
      expect(v.header.sender).toBe(g.sender);
      expect(v.header.messageId).toBe(g.messageId);
      expect(v.header.caseId).toBe(g.caseId);
      expect(v.header.sequence).toBe(BigInt(g.sequence));
      expect(v.body?.kind.case).toBe(g.bodyCase);
      expect(Buffer.from(v.receiptDigest).toString("hex")).toBe(g.receiptDigest);
    });
  }
});
