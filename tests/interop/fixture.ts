import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFederationRoot, issueNodeCertificates, type NodeCertificates } from "@tongban/sdk";

/** Debian's Python (with python3-jwcrypto): the independent implementation the interop tests run. */
export const PYTHON = "/usr/bin/python3";
export const QINGPU = "cn.310118.qingpu";
export const WUJIANG = "cn.320509.wujiang";

/**
 * A throwaway federation for an interop test: a root (`root.pem`) and two nodes, 青浦 signing with ES256 and
 * 吴江 with EdDSA (each signing certificate as `<nodeId>.pem`), in a new temporary directory.
 * Fails when Python lacks jwcrypto (.ci/run installs it).
 */
export async function interopFederation(prefix: string): Promise<{ dir: string; nodes: Record<string, NodeCertificates> }> {
  const probe = spawnSync(PYTHON, ["-c", "import jwcrypto, cryptography"]);
  if (probe.status !== 0) throw new Error("the interop test needs Debian's python3-jwcrypto: apt-get install python3-jwcrypto (.ci/run does this)");
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const root = await createFederationRoot({ name: "Interop Root", validityDays: 30 });
  writeFileSync(join(dir, "root.pem"), root.certificatePem);
  const nodes: Record<string, NodeCertificates> = {};
  for (const [id, alg] of [[QINGPU, "ES256"], [WUJIANG, "EdDSA"]] as const) {
    nodes[id] = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: alg, validityDays: 30 });
    writeFileSync(join(dir, `${id}.pem`), nodes[id].signing.certificatePem);
  }
  return { dir, nodes };
}
