import { createFederationRoot, issueNodeCertificates, type FederationRoot, type NodeCertificates } from "../pki/index.js";
import type { EvidenceSigner } from "./signed-statement.js";

export const QINGPU = "cn.310118.qingpu";
export const WUJIANG = "cn.320509.wujiang";
export const JIASHAN = "cn.330421.jiashan";
export const T0 = new Date("2026-03-02T02:00:00Z");

export interface Federation {
  readonly root: FederationRoot;
  readonly qingpu: NodeCertificates;
  readonly wujiang: NodeCertificates;
  readonly jiashan: NodeCertificates;
}

/** A root and three nodes, ES256 and EdDSA signers, valid around T0. */
export async function makeFederation(): Promise<Federation> {
  const notBefore = new Date("2026-01-01T00:00:00Z");
  const root = await createFederationRoot({ name: "Tongban Evidence Test Root", validityDays: 3650, notBefore });
  const qingpu = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays: 365, notBefore });
  const wujiang = await issueNodeCertificates({ ca: root, nodeId: WUJIANG, signingAlgorithm: "EdDSA", validityDays: 365, notBefore });
  const jiashan = await issueNodeCertificates({ ca: root, nodeId: JIASHAN, signingAlgorithm: "ES256", validityDays: 365, notBefore });
  return { root, qingpu, wujiang, jiashan };
}

export function signerOf(n: NodeCertificates): EvidenceSigner {
  return { privateKey: n.signing.privateKeyPem, certificateChain: [n.signing.certificatePem] };
}
