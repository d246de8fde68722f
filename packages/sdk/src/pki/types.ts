/**
 * A certificate authority able to issue: its certificate and its PKCS#8 private
 * key, both PEM. The federation root is one; an intermediate CA would be another.
 */
export interface CertificateAuthority {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** One issued certificate with its freshly generated key. */
export interface IssuedCertificate {
  readonly certificatePem: string;
  /** PKCS#8 PEM. Write it with file mode 0600. */
  readonly privateKeyPem: string;
  /** Serial number, lowercase hex. */
  readonly serial: string;
  /** base64url(SHA-256(DER)); the JWS `kid` for signing certificates. */
  readonly kid: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The federation root CA: an issued certificate that is also a CertificateAuthority. */
export interface FederationRoot extends CertificateAuthority, IssuedCertificate {}

/** The two certificates a node holds. */
export interface NodeCertificates {
  readonly nodeId: string;
  /**
   * mTLS certificate (P-256, serverAuth + clientAuth). Its key is also the
   * node's ECDH-ES key for JWE bodies addressed to it.
   */
  readonly tls: IssuedCertificate;
  /**
   * Envelope signing certificate (ES256, EdDSA or SM2); its kid is the JWS
   * `kid`. An SM2 one is also the node's gm-v1 body encryption certificate.
   */
  readonly signing: IssuedCertificate;
}
