import type { KeyObject } from "node:crypto";

/** Signature algorithms a Tongban envelope may name in its protected header. */
export type SignatureAlgorithm = "EdDSA" | "ES256" | "SM2SM3";

/** Algorithm suites; a node's suite is fixed by the federation directory. */
export type Suite = "jose-v1" | "gm-v1";

/**
 * A signer whose certificate has been checked: chain to the federation
 * anchor, validity and revocation. Everything the envelope verifier needs to
 * do its one signature check per message.
 */
export interface ResolvedSigner {
  /** The node id the certificate was issued to (from its URI SAN). */
  readonly nodeId: string;
  /** The key id: base64url(SHA-256(certificate DER)), as in the JWS `kid`. */
  readonly kid: string;
  readonly publicKey: KeyObject;
  /** The algorithm the certificate's key signs with. */
  readonly algorithm: SignatureAlgorithm;
  /**
   * The raw SM2 public key (0x04 || x || y) when `algorithm` is SM2SM3;
   * verifiers fall back to reading it from `publicKey` when absent.
   */
  readonly sm2PublicKey?: Uint8Array;
  /** The certificate's own validity window. */
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Resolves a key id to a verified signer at a given time. The trust store
 * implements it with chain checks cached by certificate fingerprint; tests
 * may implement it with a plain map.
 *
 * Throws TongbanError with TRUST_UNKNOWN_SIGNER, TRUST_UNTRUSTED_CHAIN,
 * TRUST_CERT_EXPIRED or TRUST_CERT_REVOKED.
 */
export interface SignerResolver {
  resolveSigner(kid: string, at: Date): ResolvedSigner;
}
