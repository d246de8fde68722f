import { spawn, spawnSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalFederation, type LocalFederation } from "@tongban/node";
import { createEnvelope, readTableFile, tableDigest, verifyEnvelope, TrustStore, type ImplementationList } from "@tongban/sdk";
import { CaseState } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTHON, QINGPU, WUJIANG } from "./fixture.js";

// Debian's grpcio as a partner node: mutual TLS to a real reference node, protobuf written and read by hand
// (tests/interop/grpc_client.py), checked from docs/protocol.md — no code shared with ours.
const CLIENT = fileURLToPath(new URL("./grpc_client.py", import.meta.url));
const VERIFY_ENVELOPE = fileURLToPath(new URL("./verify_envelope.py", import.meta.url));
const VERIFY_TABLE = fileURLToPath(new URL("./verify_table.py", import.meta.url));
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "mapping");
let dir: string;
let fed: LocalFederation;
let list: ImplementationList;

beforeAll(async () => {
  const probe = spawnSync(PYTHON, ["-c", "import grpc, jwcrypto"]);
  if (probe.status !== 0) throw new Error("the interop test needs Debian's python3-grpcio and python3-jwcrypto (.ci/run installs them)");
  dir = mkdtempSync(join(tmpdir(), "tongban-interop-grpc-"));
  const tables = join(dir, "tables-wujiang");
  cpSync(EXAMPLES, tables, { recursive: true });
  fed = await startLocalFederation({ dir, nodes: [{ nodeId: QINGPU, tablesDir: EXAMPLES }, { nodeId: WUJIANG, tablesDir: tables }] });
  // 吴江 signs its list with its node key and restarts on it, so it has a signed table to serve.
  list = readTableFile(join(tables, "320509.json")) as ImplementationList;
  writeFileSync(join(tables, "320509.jws"), fed.signTableAs(WUJIANG, list));
  await fed.stopNode(WUJIANG);
  await fed.startNode(WUJIANG);
  writeFileSync(join(dir, "root.pem"), fed.root.certificatePem);
  for (const id of [QINGPU, WUJIANG]) {
    const c = fed.node(id).certificates;
    writeFileSync(join(dir, `${id}.tls.crt`), c.tls.certificatePem);
    writeFileSync(join(dir, `${id}.tls.key`), c.tls.privateKeyPem);
    writeFileSync(join(dir, `${id}.sign.crt`), c.signing.certificatePem);
  }
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * grpc_client.py against 吴江's federation port, as 青浦 (its TLS certificate and key) unless `as` says otherwise.
 * Asynchronous: the node runs in this process, and a blocking spawn would stop it from answering.
 */
async function python(args: string[], as: string | "no certificate" = QINGPU): Promise<{ status: number; out: Record<string, unknown> }> {
  const identity = as === "no certificate" ? [] : ["--cert", join(dir, `${as}.tls.crt`), "--key", join(dir, `${as}.tls.key`)];
  const child = spawn(PYTHON, [CLIENT, fed.node(WUJIANG).node!.addresses!.federation, "--ca", join(dir, "root.pem"), ...identity, ...args]);
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => void (stdout += d.toString("utf8")));
  const status = await new Promise<number>((done) => child.on("close", (code) => done(code ?? -1)));
  return { status, out: JSON.parse(stdout || "{}") as Record<string, unknown> };
}

async function statusUpdate(file: string, mutate?: (bytes: Uint8Array) => Uint8Array): Promise<string> {
  const q = fed.node(QINGPU).certificates;
  const made = await createEnvelope({
    body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "interop" } } },
    sender: QINGPU,
    recipient: WUJIANG,
    signer: { kid: q.signing.kid, privateKey: createPrivateKey(q.signing.privateKeyPem), algorithm: "ES256" },
  });
  const path = join(dir, file);
  writeFileSync(path, mutate === undefined ? made.bytes : mutate(made.bytes));
  return path;
}

describe("a Python gRPC client (grpcio) as a partner of a reference node", () => {
  it("reads GetNodeInfo over mutual TLS", async () => {
    const r = await python(["node-info"]);
    expect(r.out).toMatchObject({ ok: true, node_id: WUJIANG });
    expect(r.status).toBe(0);
  });

  it("delivers an envelope and gets a signed receipt binding what it sent, which Python verifies; the same bytes again get the same receipt", async () => {
    const sent = await statusUpdate("status.tbe");
    const first = await python(["deliver", sent, "--receipt-out", join(dir, "receipt-1.tbe")]);
    expect(first.out).toMatchObject({ ok: true, binds_what_was_sent: true, duplicate: false });
    // The receipt is 吴江's envelope to 青浦: the independent verifier checks its signature and chain.
    const v = spawnSync(PYTHON, [VERIFY_ENVELOPE, join(dir, "receipt-1.tbe"), "--cert", join(dir, `${WUJIANG}.sign.crt`), "--anchor", join(dir, "root.pem"), "--self", QINGPU], { encoding: "utf8" });
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, sender: WUJIANG, type: 2 });
    // And the SDK agrees.
    const trust = new TrustStore({ anchor: fed.root.certificatePem });
    trust.addCertificate(fed.node(WUJIANG).certificates.signing.certificatePem);
    const receipt = await verifyEnvelope(readFileSync(join(dir, "receipt-1.tbe")), { self: QINGPU, resolver: trust });
    expect(receipt.body?.kind.case).toBe("technicalReceipt");
    const again = await python(["deliver", sent, "--receipt-out", join(dir, "receipt-2.tbe")]);
    expect(again.out).toMatchObject({ ok: true, binds_what_was_sent: true });
    expect(readFileSync(join(dir, "receipt-2.tbe")).equals(readFileSync(join(dir, "receipt-1.tbe")))).toBe(true);
  });

  it("gets the node's refusals as gRPC statuses with the stable code in the trailers", async () => {
    // The body changed after signing: the last byte of the envelope is inside the signature value; flip one in the body instead.
    const tampered = await statusUpdate("tampered.tbe", (b) => {
      const copy = Uint8Array.from(b);
      const at = Buffer.from(copy).indexOf(Buffer.from("interop"));
      copy[at] = copy[at]! ^ 1;
      return copy;
    });
    expect((await python(["deliver", tampered, "--receipt-out", join(dir, "x.tbe")])).out).toMatchObject({ ok: false, grpc: "INVALID_ARGUMENT", code: "ENVELOPE_BODY_DIGEST_MISMATCH" });
    // Signed by 青浦, sent over 吴江's own TLS identity: the TLS peer is not the signer.
    const other = await statusUpdate("other.tbe");
    expect((await python(["deliver", other, "--receipt-out", join(dir, "y.tbe")], WUJIANG)).out).toMatchObject({ ok: false, code: "TRANSPORT_PEER_MISMATCH" });
    expect((await python(["mapping-table", "999999", "implementation", "--out", join(dir, "none.jws")])).out).toMatchObject({ ok: false, grpc: "NOT_FOUND", code: "MAPPING_TABLE_NOT_FOUND" });
    // Without a client certificate the handshake itself is refused.
    expect((await python(["node-info"], "no certificate")).out).toMatchObject({ ok: false, grpc: "UNAVAILABLE" });
  });

  it("fetches a signed mapping table, which the Python table verifier checks against the digest a directory lists", async () => {
    const out = join(dir, "320509.jws");
    expect((await python(["mapping-table", "320509", "implementation", "--out", out])).out).toEqual({ ok: true, version: String(list.version) });
    const v = spawnSync(PYTHON, [VERIFY_TABLE, out, "--cert", join(dir, `${WUJIANG}.sign.crt`), "--anchor", join(dir, "root.pem"), "--digest", tableDigest(list)], { encoding: "utf8" });
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, publisher: "320509", digest: tableDigest(list) });
  });
});
