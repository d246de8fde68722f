/** Size limits applied before anything is decoded (ENVELOPE_TOO_LARGE). */
export interface EnvelopeLimits {
  /** Largest encoded Header, in bytes. */
  readonly maxHeaderBytes: number;
  /** Largest body (clear or encrypted), in bytes. Materials travel separately. */
  readonly maxBodyBytes: number;
  /** Largest JWS protected header, in bytes. */
  readonly maxProtectedBytes: number;
  /** Largest encoded Envelope, in bytes. */
  readonly maxEnvelopeBytes: number;
}

/** Defaults: materials stream through PutMaterial, so bodies stay small. */
export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
  maxProtectedBytes: 1024,
  maxEnvelopeBytes: 4.5 * 1024 * 1024,
});
