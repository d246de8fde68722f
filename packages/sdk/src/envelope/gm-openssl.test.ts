import { spawnSync } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvelopeSchema } from "../gen/tongban/v1/envelope_pb.js";
import { base64url } from "./base64url.js";

// An implementation that shares no code with ours (OpenSSL 3's SM2) checks
// the gm-v1 golden signatures as docs/protocol.md describes them: SM2 with
// SM3 and distinguishing ID 1234567812345678 over ASCII(BASE64URL(protected)
// "." BASE64URL(header)), value DER.
const golden = new URL("../../testdata/envelopes/gm-v1/", import.meta.url);
const path = (name: string) => fileURLToPath(new URL(name, golden));
let dir: string;

function openssl(...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tongban-gm-openssl-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("gm-v1 goldens checked by OpenSSL", () => {
  for (const [file, signer] of [
    ["status-update.sm2sm3.tbe", "cn.320509.wujiang"],
    ["application-submission.sm2sm3.gm-sm4.tbe", "cn.330421.jiashan"],
  ] as const) {
    it(`${file}: the signature verifies with the default user ID and not with another`, () => {
      const e = fromBinary(EnvelopeSchema, readFileSync(path(file)));
      const input = join(dir, `${file}.input`);
      const sig = join(dir, `${file}.sig`);
      const pub = join(dir, `${file}.pub`);
      writeFileSync(input, `${base64url(e.signature!.protected)}.${base64url(e.header)}`);
      writeFileSync(sig, e.signature!.value);
      const key = openssl("x509", "-in", path(`${signer}.sign.crt`), "-pubkey", "-noout");
      expect(key.ok, key.output).toBe(true);
      writeFileSync(pub, key.output);
      const check = (id: string) => openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3", "-in", input, "-sigfile", sig, "-pkeyopt", `distid:${id}`);
      expect(check("1234567812345678").ok, check("1234567812345678").output).toBe(true);
      expect(check("1234567812345679").ok).toBe(false);
    });
  }
});
