import { sign as cryptoSign, createPrivateKey, type KeyObject } from "node:crypto";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readTableFile, signTable, tableDigest, type MappingTable, type NodeCertificates } from "@tongban/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTHON, QINGPU, WUJIANG, interopFederation } from "./fixture.js";

// Debian's Python with python3-jwcrypto checks signed mapping tables and their directory digest from
// docs/mapping.md §5 alone: the same digest from an implementation that shares no code with ours.
const SCRIPT = fileURLToPath(new URL("./verify_table.py", import.meta.url));
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "mapping");

let dir: string;
let nodes: Record<string, NodeCertificates>;
const tables: MappingTable[] = readdirSync(EXAMPLES)
  .filter((n) => /\.(json|csv)$/.test(n) && !n.endsWith(".meta.json"))
  .map((n) => readTableFile(join(EXAMPLES, n)));

beforeAll(async () => {
  ({ dir, nodes } = await interopFederation("tongban-interop-tables-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const signerOf = (id: string) => {
  const key = createPrivateKey(nodes[id]!.signing.privateKeyPem);
  return { kid: nodes[id]!.signing.kid, privateKey: key, algorithm: key.asymmetricKeyType === "ed25519" ? ("EdDSA" as const) : ("ES256" as const) };
};

function python(document: string, signer: string, digest?: string): { status: number; out: Record<string, unknown> } {
  const file = join(dir, "table.jws");
  writeFileSync(file, document);
  const r = spawnSync(PYTHON, [SCRIPT, file, "--cert", join(dir, `${signer}.pem`), "--anchor", join(dir, "root.pem"), ...(digest === undefined ? [] : ["--digest", digest])], { encoding: "utf8" });
  return { status: r.status ?? -1, out: JSON.parse(r.stdout) as Record<string, unknown> };
}

/** A JWS over any payload and header, signed with the node's key (to make documents the SDK would never write). */
function rawJws(header: Record<string, unknown>, payload: string, key: KeyObject, alg: "ES256" | "EdDSA"): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(payload).toString("base64url")}`;
  const sig = alg === "ES256" ? cryptoSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }) : cryptoSign(null, Buffer.from(input), key);
  return `${input}.${sig.toString("base64url")}`;
}

describe("signed mapping tables, checked by an independent Python implementation", () => {
  it("verifies every example table signed with ES256 and EdDSA, and computes the directory's digest", () => {
    expect(tables.length).toBeGreaterThanOrEqual(6);
    for (const id of [QINGPU, WUJIANG]) {
      for (const table of tables) {
        const r = python(signTable(table, signerOf(id)), id, tableDigest(table));
        expect(r.out, `${table.kind} ${table.publisher} signed by ${id}`).toEqual({ valid: true, publisher: table.publisher, kind: table.kind, version: table.version, digest: tableDigest(table) });
        expect(r.status).toBe(0);
      }
    }
  });

  it("refuses a changed payload, a payload that is not canonical, a header that disagrees, another digest, another signer", () => {
    const table = tables.find((t) => t.kind === "implementation")!;
    const signer = signerOf(QINGPU);
    const good = signTable(table, signer);
    const [h, p, s] = good.split(".") as [string, string, string];
    const changed = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { version: number };
    changed.version += 1;
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>;
    const canonical = Buffer.from(p, "base64url").toString("utf8");
    const cases: [string, string, string, string | undefined, string][] = [
      ["a changed payload", `${h}.${Buffer.from(JSON.stringify(changed)).toString("base64url")}.${s}`, QINGPU, undefined, "MAPPING_SIGNATURE_INVALID"],
      ["a payload with whitespace, properly signed", rawJws(header, JSON.stringify(JSON.parse(canonical), null, 1), signer.privateKey, "ES256"), QINGPU, undefined, "MAPPING_SIGNATURE_INVALID"],
      ["a header naming another version", rawJws({ ...header, tbver: 99 }, canonical, signer.privateKey, "ES256"), QINGPU, undefined, "MAPPING_SIGNATURE_INVALID"],
      ["a digest the directory does not list", good, QINGPU, "00".repeat(32), "MAPPING_DIGEST_MISMATCH"],
      ["a certificate the kid does not name", good, WUJIANG, undefined, "TRUST_UNKNOWN_SIGNER"],
    ];
    for (const [what, doc, cert, digest, code] of cases) {
      const r = python(doc, cert, digest);
      expect(r.out, what).toMatchObject({ valid: false, code });
      expect(r.status, what).toBe(1);
    }
  });
});
