// Test helper: a small SM2 PKI made with the SDK's own wrappers — a seal CA,
// a seal maker issued by it, and two document signers.
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, CertificateList, Name, RevokedCertificate, TBSCertList, Time, Version } from "@peculiar/asn1-x509";
import { parseCertificate } from "../../gm/certificate.js";
import { fromHex } from "../../gm/hex.js";
import { issueSm2Certificate } from "../../gm/issue-certificate.js";
import { GM_OIDS } from "../../gm/oids.js";
import { sm2Sign } from "../../gm/sm2-signature.js";
import { generateSm2KeyPair, type Sm2KeyPair } from "../../gm/sm2-keys.js";

export interface Party {
  readonly key: Sm2KeyPair;
  readonly certDer: Uint8Array;
}

export const NOT_BEFORE = new Date("2026-01-01T00:00:00Z");
export const NOT_AFTER = new Date("2030-01-01T00:00:00Z");

/** A seal CA, a maker it issued, a signer it issued and an outsider it also issued. */
export function makeSm2Pki(): { ca: Party; maker: Party; signer: Party; outsider: Party } {
  const caKey = generateSm2KeyPair();
  const caCert = issueSm2Certificate({
    subject: [["C", "CN"], ["O", "通办测试"], ["CN", "Seal CA"]],
    subjectPublicKey: caKey.publicKey,
    selfSignedPrivateKey: caKey.privateKey,
    isCa: true,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const issue = (cn: string, notAfter = new Date("2028-01-01T00:00:00Z")): Party => {
    const key = generateSm2KeyPair();
    const certDer = issueSm2Certificate({
      subject: [["C", "CN"], ["CN", cn]],
      subjectPublicKey: key.publicKey,
      issuer: { certDer: caCert, privateKey: caKey.privateKey },
      notBefore: NOT_BEFORE,
      notAfter,
    });
    return { key, certDer };
  };
  return { ca: { key: caKey, certDer: caCert }, maker: issue("制章系统"), signer: issue("经办人"), outsider: issue("Outsider") };
}

/** A CRL from `issuer` revoking the given serials (hex), signed with SM2. */
export function makeSm2Crl(issuer: Party, revokedSerials: readonly string[]): Uint8Array {
  const alg = new AlgorithmIdentifier({ algorithm: GM_OIDS.sm2WithSm3 });
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: alg,
    issuer: AsnConvert.parse(parseCertificate(issuer.certDer).subjectDer, Name),
    thisUpdate: new Time(new Date("2027-01-01T00:00:00Z")),
    nextUpdate: new Time(new Date("2027-02-01T00:00:00Z")),
    ...(revokedSerials.length === 0
      ? {}
      : {
          revokedCertificates: revokedSerials.map(
            (s) => new RevokedCertificate({ userCertificate: fromHex(s).slice().buffer, revocationDate: new Time(new Date("2027-01-01T00:00:00Z")) }),
          ),
        }),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = sm2Sign(tbsDer, issuer.key.privateKey);
  return new Uint8Array(AsnConvert.serialize(new CertificateList({ tbsCertList: tbs, signatureAlgorithm: alg, signature: signature.slice().buffer })));
}

/** A 1×1 PNG, enough to stand for a seal picture. */
export const PNG = fromHex(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0a0b0e70000000049454e44ae426082",
);
