import { TongbanError, validateLicenseId, verifySealSignature } from "@tongban/sdk";
import type { SealedDocument } from "@tongban/sdk/gen";
import type { MaterialStore } from "./materials.js";

/** What the receiving node found about one sealed document of a result. */
export interface DocumentReport {
  readonly documentId: string;
  readonly name: string;
  /** `valid`, `valid-at-signing-time`, `invalid`, `unsealed` (no seal signature) or `malformed` (undecodable). */
  readonly verdict: string;
  readonly format?: string;
  readonly seal?: { readonly esId: string; readonly name: string };
  readonly steps: readonly { readonly id: string; readonly status: string; readonly detail: string }[];
  /** 证照标识 (GB/T 36904) carried, each checked. */
  readonly licenses: readonly { readonly id: string; readonly valid: boolean; readonly issues?: readonly string[] }[];
}

/** What result verification needs. */
export interface ResultVerification {
  /** The federation's seal CA certificates (DER): a seal must chain to one. */
  readonly sealMakers: readonly Uint8Array[];
  /** Where documents referenced as materials are read from (already pushed, verified by digest). */
  readonly materials?: MaterialStore;
  readonly now?: () => Date;
  /**
   * Replaces {@link verifyResultDocuments} (e.g. with a call to a provincial
   * seal verification service). It must return one report per document.
   */
  readonly verifier?: ResultVerifier;
}

/** Verifies a result's sealed documents; see {@link verifyResultDocuments}. */
export type ResultVerifier = (documents: readonly SealedDocument[], options: ResultVerification) => Promise<DocumentReport[]>;

async function bytesOf(doc: SealedDocument, materials: MaterialStore | undefined): Promise<Uint8Array | undefined> {
  if (doc.content.length > 0) return doc.content;
  if (doc.material === undefined || materials === undefined || !(await materials.has(doc.material.digest))) return undefined;
  const parts: Uint8Array[] = [];
  for await (const c of materials.read(doc.material.digest)) parts.push(c.data);
  return Buffer.concat(parts);
}

/**
 * Verifies the sealed documents of a RESULT on intake (docs/seals.md): each
 * seal signature with the GB/T 38540 / JOSE step report against the
 * federation's seal CAs and the document bytes, each e-license id with the
 * GB/T 36904 check. Never throws for a bad seal: the reports are recorded in
 * the case and an invalid one raises an alert; the message itself is kept
 * (the result was sent, and what was wrong with it is evidence).
 */
export async function verifyResultDocuments(documents: readonly SealedDocument[], options: ResultVerification): Promise<DocumentReport[]> {
  const out: DocumentReport[] = [];
  for (const doc of documents) {
    const licenses = doc.licenseIds.map((id) => {
      const v = validateLicenseId(id);
      return v.ok ? { id, valid: true } : { id, valid: false, issues: v.issues.map((i) => i.message) };
    });
    const base = { documentId: doc.documentId, name: doc.name, licenses };
    if (doc.sealSignature.length === 0) {
      out.push({ ...base, verdict: "unsealed", steps: [] });
      continue;
    }
    const document = await bytesOf(doc, options.materials);
    try {
      const report = await verifySealSignature(doc.sealSignature, {
        trustedSealMakers: options.sealMakers,
        ...(document === undefined ? {} : { document }),
        ...(options.now === undefined ? {} : { now: options.now() }),
      });
      out.push({ ...base, verdict: report.verdict, format: report.format, seal: { esId: report.seal.esId, name: report.seal.name }, steps: report.steps.map((s) => ({ id: s.id, status: s.status, detail: s.detail })) });
    } catch (err) {
      if (!(err instanceof TongbanError)) throw err;
      out.push({ ...base, verdict: "malformed", steps: [{ id: "decode", status: "fail", detail: `${err.code}: ${err.message}` }] });
    }
  }
  return out;
}
