import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../program.js";

let dir: string;
const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";

async function tongban(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}
const p = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-cli-envelope-"));
  expect((await tongban("pki", "init", "--out", p("ca"))).code).toBe(0);
  expect((await tongban("pki", "issue", "--ca", p("ca"), "--node-id", QINGPU, "--out", p("nodes"))).code).toBe(0);
  expect((await tongban("pki", "issue", "--ca", p("ca"), "--node-id", WUJIANG, "--alg", "EdDSA", "--out", p("nodes"))).code).toBe(0);
  writeFileSync(p("status.json"), JSON.stringify({ statusUpdate: { state: "CASE_STATE_ACCEPTED", note: "已受理" } }));
  writeFileSync(p("submission.json"), JSON.stringify({ applicationSubmission: { mode: "HANDLING_MODE_REMOTE_RECEIPT", applicant: { name: "张三", idNumber: "11010519491231002X" } } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tongban envelope", () => {
  it("creates, inspects and verifies an envelope", async () => {
    const made = await tongban("--json", "envelope", "create", "--from", QINGPU, "--to", WUJIANG, "--body", p("status.json"),
      "--key", p(`nodes/${QINGPU}.sign.key`), "--cert", p(`nodes/${QINGPU}.sign.crt`), "--out", p("a.tbe"));
    expect(made.code).toBe(0);
    expect(JSON.parse(made.out)).toMatchObject({ ok: true, type: "STATUS_UPDATE" });

    const shown = await tongban("--json", "envelope", "inspect", p("a.tbe"));
    expect(JSON.parse(shown.out)).toMatchObject({ verified: false, header: { sender: QINGPU, recipient: WUJIANG, type: "STATUS_UPDATE" }, body: { statusUpdate: { state: "CASE_STATE_ACCEPTED" } } });
    const human = await tongban("envelope", "inspect", p("a.tbe"));
    expect(human.out).toContain("NOT VERIFIED");

    const ok = await tongban("envelope", "verify", p("a.tbe"), "--trust", p("ca/root.crt"), "--cert", p(`nodes/${QINGPU}.sign.crt`), p(`nodes/${WUJIANG}.sign.crt`));
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`valid: STATUS_UPDATE`);
  });

  it("encrypts personal data and opens it with the recipient's key only", async () => {
    const made = await tongban("envelope", "create", "--from", QINGPU, "--to", WUJIANG, "--body", p("submission.json"),
      "--key", p(`nodes/${QINGPU}.sign.key`), "--cert", p(`nodes/${QINGPU}.sign.crt`), "--encrypt-to", p(`nodes/${WUJIANG}.tls.crt`), "--out", p("b.tbe"));
    expect(made.code).toBe(0);
    expect(readFileSync(p("b.tbe")).includes(Buffer.from("11010519491231002X"))).toBe(false);
    const opened = await tongban("--json", "envelope", "verify", p("b.tbe"), "--trust", p("ca/root.crt"), "--cert", p(`nodes/${QINGPU}.sign.crt`), "--decrypt-key", p(`nodes/${WUJIANG}.tls.key`));
    expect(opened.code).toBe(0);
    expect(JSON.parse(opened.out).body.applicationSubmission.applicant.idNumber).toBe("11010519491231002X");
    const refused = await tongban("--json", "envelope", "verify", p("b.tbe"), "--trust", p("ca/root.crt"), "--cert", p(`nodes/${QINGPU}.sign.crt`), "--decrypt-key", p(`nodes/${QINGPU}.tls.key`));
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out).error.code).toBe("ENVELOPE_DECRYPTION_FAILED");
  });

  it("refuses personal data in the clear", async () => {
    const r = await tongban("envelope", "create", "--from", QINGPU, "--to", WUJIANG, "--body", p("submission.json"),
      "--key", p(`nodes/${QINGPU}.sign.key`), "--cert", p(`nodes/${QINGPU}.sign.crt`), "--out", p("c.tbe"));
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("encryptTo");
  });

  it("exits non-zero with the code for a tampered envelope, a wrong recipient and a revoked signer", async () => {
    const bytes = readFileSync(p("a.tbe"));
    const tampered = Buffer.from(bytes);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 70) ^ 0xff, tampered.length - 70);
    writeFileSync(p("t.tbe"), tampered);
    const t = await tongban("--json", "envelope", "verify", p("t.tbe"), "--trust", p("ca/root.crt"), "--cert", p(`nodes/${QINGPU}.sign.crt`));
    expect(t.code).toBe(1);
    expect(JSON.parse(t.out).error.code).toMatch(/^ENVELOPE_/);

    const w = await tongban("--json", "envelope", "verify", p("a.tbe"), "--trust", p("ca/root.crt"), "--cert", p(`nodes/${QINGPU}.sign.crt`), "--self", "cn.330421.jiashan");
    expect(JSON.parse(w.out).error.code).toBe("ENVELOPE_WRONG_RECIPIENT");

    expect((await tongban("pki", "revoke", "--ca", p("ca"), "--cert", p(`nodes/${QINGPU}.sign.crt`))).code).toBe(0);
    const r = await tongban("--json", "envelope", "verify", p("a.tbe"), "--trust", p("ca/root.crt"), "--cert", p(`nodes/${QINGPU}.sign.crt`), "--crl", p("ca/crl.pem"));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).error.code).toBe("TRUST_CERT_REVOKED");
  });
});
