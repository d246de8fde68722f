// Internal: the steps every format shares, computed from plain facts so the
// GB/T 38540 and JOSE verifiers produce the same report.
import { AsnConvert } from "@peculiar/asn1-schema";
import { CertificateList } from "@peculiar/asn1-x509";
import { bytesEqual, toHex } from "../gm/hex.js";
import type { ParsedCertificate } from "../gm/certificate.js";
import type { SealStepId, SealVerificationStep } from "./report.js";

/** @internal */
export function step(id: SealStepId, status: SealVerificationStep["status"], detail: string): SealVerificationStep {
  return { id, status, detail };
}

const iso = (d: Date): string => d.toISOString();

/** Is `at` inside [start, end]? @internal */
export function windowStep(id: SealStepId, what: string, start: Date, end: Date, at: Date, atLabel: string): SealVerificationStep {
  if (at < start) return step(id, "fail", `${what} not yet valid at ${atLabel} ${iso(at)} (valid from ${iso(start)})`);
  if (at > end) return step(id, "fail", `${what} expired at ${iso(end)}, before ${atLabel} ${iso(at)}`);
  return step(id, "pass", `${what} valid ${iso(start)} – ${iso(end)}, covers ${atLabel} ${iso(at)}`);
}

/** Compares the document's digest with the signed one. @internal */
export function documentHashStep(document: Uint8Array | undefined, signed: Uint8Array, digest: (d: Uint8Array) => Uint8Array, alg: string): SealVerificationStep {
  if (document === undefined) return step("document-hash", "not-checked", "original document not given");
  if (!(document instanceof Uint8Array)) throw new TypeError("document must be a Uint8Array");
  const actual = digest(document);
  return bytesEqual(actual, signed)
    ? step("document-hash", "pass", `${alg} of the document matches`)
    : step("document-hash", "fail", `${alg} of the document is ${toHex(actual)}, the signature covers ${toHex(signed)}`);
}

interface ParsedCrl {
  readonly issuerDer: Uint8Array;
  readonly revoked: ReadonlyMap<string, Date | undefined>;
}

function parseCrl(der: Uint8Array, i: number): ParsedCrl | string {
  try {
    const crl = AsnConvert.parse(der, CertificateList);
    const revoked = new Map<string, Date | undefined>();
    for (const r of crl.tbsCertList.revokedCertificates ?? []) {
      revoked.set(toHex(new Uint8Array(r.userCertificate)).replace(/^(00)+(?=.)/, ""), r.revocationDate.getTime());
    }
    return { issuerDer: new Uint8Array(AsnConvert.serialize(crl.tbsCertList.issuer)), revoked };
  } catch {
    return `CRL #${i + 1} cannot be parsed`;
  }
}

/**
 * Looks the given certificates up in the CRLs. CRLs are taken as already
 * authenticated: in Tongban they ride inside the signed federation
 * directory, whose signature the trust layer checks.
 * @internal
 */
export function revocationStep(certs: readonly { role: string; info: ParsedCertificate }[], crls: readonly Uint8Array[] | undefined): SealVerificationStep {
  if (crls === undefined || crls.length === 0) return step("revocation", "not-checked", "no CRL given");
  if (certs.length === 0) return step("revocation", "not-checked", "no readable certificate to look up");
  const parsed: ParsedCrl[] = [];
  for (const [i, der] of crls.entries()) {
    const p = parseCrl(der, i);
    if (typeof p === "string") return step("revocation", "fail", p);
    parsed.push(p);
  }
  const uncovered: string[] = [];
  for (const { role, info } of certs) {
    const mine = parsed.filter((c) => bytesEqual(c.issuerDer, info.issuerDer));
    if (mine.length === 0) {
      uncovered.push(role);
      continue;
    }
    for (const c of mine) {
      if (c.revoked.has(info.serialNumber)) {
        const when = c.revoked.get(info.serialNumber);
        return step("revocation", "fail", `${role} certificate ${info.serialNumber} is revoked${when ? ` since ${iso(when)}` : ""}`);
      }
    }
  }
  if (uncovered.length > 0) return step("revocation", "not-checked", `no CRL from the issuer of the ${uncovered.join(" and ")} certificate`);
  return step("revocation", "pass", `${certs.map((c) => c.role).join(" and ")} certificate(s) not revoked`);
}
