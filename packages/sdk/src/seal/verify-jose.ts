// Internal: verification of the JOSE seal profile, producing the same steps
// as the GB/T 38540 verifier.
import { X509Certificate, createHash } from "node:crypto";
import { base64url, compactVerify, importSPKI } from "jose";
import { parseCertificate, type ParsedCertificate } from "../gm/certificate.js";
import { bytesEqual } from "../gm/hex.js";
import { malformed } from "./asn1-read.js";
import {
  JOSE_SEAL_SIGNATURE_TYP,
  JOSE_SEAL_TYP,
  joseAlgorithmFor,
  type JoseSealPayload,
  type JoseSealSignaturePayload,
} from "./jose-profile.js";
import type { SealVerificationReport, SealVerificationStep } from "./report.js";
import { documentHashStep, revocationStep, step, windowStep } from "./steps.js";
import { buildReport } from "./verify-gbt.js";
import type { SealVerifyOptions } from "./verify-options.js";

interface DecodedJws<P> {
  readonly jws: string;
  readonly typ: string;
  readonly alg: string;
  readonly certDer: Uint8Array;
  readonly payload: P;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function str(o: Record<string, unknown>, k: string, field: string): string {
  const v = o[k];
  if (typeof v !== "string") malformed(`${field}.${k}`, "expected a string");
  return v;
}
function num(o: Record<string, unknown>, k: string, field: string): number {
  const v = o[k];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) malformed(`${field}.${k}`, "expected a non-negative integer");
  return v;
}
function date(o: Record<string, unknown>, k: string, field: string): Date {
  const d = new Date(str(o, k, field));
  if (Number.isNaN(d.getTime())) malformed(`${field}.${k}`, "expected an ISO 8601 time");
  return d;
}
function b64(s: string, field: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) malformed(field, "expected base64");
  return new Uint8Array(Buffer.from(s, "base64"));
}

/** Splits and decodes a compact JWS without verifying it. */
function decodeJws<P>(jws: string, typ: string, field: string, check: (p: unknown) => P): DecodedJws<P> {
  const parts = jws.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) malformed(field, "not a compact JWS");
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(base64url.decode(parts[0] ?? "")));
    payload = JSON.parse(new TextDecoder().decode(base64url.decode(parts[1] ?? "")));
  } catch (cause) {
    malformed(field, "header or payload is not base64url JSON", cause);
  }
  if (!isObj(header)) malformed(`${field}.header`, "expected an object");
  if (header.typ !== typ) malformed(`${field}.header.typ`, `expected ${typ}`);
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || typeof x5c[0] !== "string") malformed(`${field}.header.x5c`, "expected a certificate");
  return { jws, typ, alg: str(header, "alg", `${field}.header`), certDer: b64(x5c[0], `${field}.header.x5c[0]`), payload: check(payload) };
}

function checkSealPayload(p: unknown): JoseSealPayload {
  const f = "seal";
  if (!isObj(p) || p.profile !== "tongban-seal/1") malformed(`${f}.profile`, "expected tongban-seal/1");
  const h = p.header;
  const prop = p.property;
  const pic = p.picture;
  if (!isObj(h) || !isObj(prop) || !isObj(pic)) malformed(f, "header, property and picture must be objects");
  if (h.version !== 4) malformed(`${f}.header.version`, "expected 4");
  const certList = prop.certList;
  if (!Array.isArray(certList) || !certList.every((c) => typeof c === "string")) malformed(`${f}.property.certList`, "expected base64 strings");
  // Read every field once so a malformed one is reported here, not later.
  str(h, "id", `${f}.header`);
  str(h, "vid", `${f}.header`);
  str(p, "esId", f);
  num(prop, "type", `${f}.property`);
  str(prop, "name", `${f}.property`);
  for (const k of ["createDate", "validStart", "validEnd"]) date(prop, k, `${f}.property`);
  str(pic, "type", `${f}.picture`);
  num(pic, "width", `${f}.picture`);
  num(pic, "height", `${f}.picture`);
  str(pic, "sha256", `${f}.picture`);
  b64(str(pic, "data", `${f}.picture`), `${f}.picture.data`);
  return p as unknown as JoseSealPayload;
}

function checkSignaturePayload(p: unknown): JoseSealSignaturePayload {
  const f = "signature";
  if (!isObj(p) || p.profile !== "tongban-seal-signature/1") malformed(`${f}.profile`, "expected tongban-seal-signature/1");
  str(p, "seal", f);
  date(p, "signedAt", f);
  str(p, "propertyInfo", f);
  const h = p.documentHash;
  if (!isObj(h) || h.alg !== "SHA-256") malformed(`${f}.documentHash`, "expected { alg: SHA-256, value }");
  str(h, "value", `${f}.documentHash`);
  return p as unknown as JoseSealSignaturePayload;
}

type CertResult = { ok: true; info: ParsedCertificate } | { ok: false; why: string };

function readCert(der: Uint8Array): CertResult {
  try {
    return { ok: true, info: parseCertificate(der) };
  } catch {
    return { ok: false, why: "certificate cannot be parsed" };
  }
}

async function jwsStep(id: "signature-value" | "seal-maker-signature", who: string, d: DecodedJws<unknown>, cert: CertResult): Promise<SealVerificationStep> {
  if (!cert.ok) return step(id, "fail", `${who} ${cert.why}`);
  if (d.alg !== "ES256" && d.alg !== "EdDSA") return step(id, "fail", `${who} JWS algorithm ${d.alg} is not ES256 or EdDSA`);
  try {
    const publicKey = new X509Certificate(d.certDer).publicKey;
    if (joseAlgorithmFor(publicKey) !== d.alg) return step(id, "fail", `${who} JWS algorithm ${d.alg} does not fit the certificate key`);
    const key = await importSPKI(publicKey.export({ format: "pem", type: "spki" }).toString(), d.alg);
    await compactVerify(d.jws, key, { algorithms: [d.alg] });
    return step(id, "pass", `${who} ${d.alg} JWS verifies with ${cert.info.subject} (serial ${cert.info.serialNumber})`);
  } catch {
    return step(id, "fail", `${who} ${d.alg} JWS does not verify`);
  }
}

function chainStep(d: DecodedJws<JoseSealPayload>, maker: CertResult, options: SealVerifyOptions): SealVerificationStep {
  const anchors = options.trustedSealMakers;
  if (anchors === undefined || anchors.length === 0) return step("seal-maker-chain", "not-checked", "no trusted seal makers given");
  if (!maker.ok) return step("seal-maker-chain", "fail", `maker ${maker.why}`);
  let trustedBy: string | undefined;
  for (const anchor of anchors) {
    if (bytesEqual(anchor, d.certDer)) {
      trustedBy = "is itself a trusted seal maker";
      break;
    }
    try {
      const a = new X509Certificate(anchor);
      const m = new X509Certificate(d.certDer);
      if (m.checkIssued(a) && m.verify(a.publicKey)) {
        trustedBy = `is issued by trusted ${parseCertificate(anchor).subject}`;
        break;
      }
    } catch {
      // an unusable anchor is skipped
    }
  }
  if (trustedBy === undefined) return step("seal-maker-chain", "fail", "maker certificate does not chain to a trusted seal maker");
  const made = new Date(d.payload.property.createDate);
  const inner = windowStep("seal-maker-chain", "maker certificate", maker.info.notBefore, maker.info.notAfter, made, "seal creation");
  return inner.status === "pass" ? step("seal-maker-chain", "pass", `maker certificate ${trustedBy} and was valid when the seal was made`) : inner;
}

function pictureOk(p: JoseSealPayload): boolean {
  const digest = createHash("sha256").update(Buffer.from(p.picture.data, "base64")).digest();
  return base64url.encode(digest) === p.picture.sha256;
}

async function makerSteps(seal: DecodedJws<JoseSealPayload>, maker: CertResult): Promise<SealVerificationStep> {
  const s = await jwsStep("seal-maker-signature", "seal maker", seal, maker);
  if (s.status === "pass" && !pictureOk(seal.payload)) return step("seal-maker-signature", "fail", "picture digest does not match the picture");
  return s;
}

function summary(p: JoseSealPayload, maker: CertResult): SealVerificationReport["seal"] {
  return {
    esId: p.esId,
    name: p.property.name,
    type: p.property.type,
    validStart: new Date(p.property.validStart).toISOString(),
    validEnd: new Date(p.property.validEnd).toISOString(),
    maker: maker.ok ? maker.info.subject : "(unreadable certificate)",
  };
}

/** Decodes a JOSE seal or seal signature and tells which. @internal */
export function joseKind(text: string): "seal" | "signature" {
  const header = text.split(".")[0] ?? "";
  try {
    const h: unknown = JSON.parse(new TextDecoder().decode(base64url.decode(header)));
    if (isObj(h) && h.typ === JOSE_SEAL_TYP) return "seal";
    if (isObj(h) && h.typ === JOSE_SEAL_SIGNATURE_TYP) return "signature";
  } catch (cause) {
    malformed("JWS", "header is not base64url JSON", cause);
  }
  return malformed("JWS.header.typ", `expected ${JOSE_SEAL_TYP} or ${JOSE_SEAL_SIGNATURE_TYP}`);
}

/** Verifies a JOSE seal on its own. @internal */
export async function verifyJoseSeal(jws: string, options: SealVerifyOptions): Promise<SealVerificationReport> {
  const now = options.now ?? new Date();
  const seal = decodeJws(jws, JOSE_SEAL_TYP, "seal", checkSealPayload);
  const maker = readCert(seal.certDer);
  const p = seal.payload.property;
  const steps: SealVerificationStep[] = [
    await makerSteps(seal, maker),
    chainStep(seal, maker, options),
    windowStep("seal-valid-now", "seal", new Date(p.validStart), new Date(p.validEnd), now, "now"),
    revocationStep(maker.ok ? [{ role: "seal maker", info: maker.info }] : [], options.crls),
  ];
  return buildReport("jose", "seal", steps, summary(seal.payload, maker));
}

/** Verifies a JOSE seal signature. @internal */
export async function verifyJoseSignature(jws: string, options: SealVerifyOptions): Promise<SealVerificationReport> {
  const now = options.now ?? new Date();
  const sig = decodeJws(jws, JOSE_SEAL_SIGNATURE_TYP, "signature", checkSignaturePayload);
  const seal = decodeJws(sig.payload.seal, JOSE_SEAL_TYP, "seal", checkSealPayload);
  const signer = readCert(sig.certDer);
  const maker = readCert(seal.certDer);
  const signedAt = new Date(sig.payload.signedAt);
  const p = seal.payload.property;
  const validStart = new Date(p.validStart);
  const validEnd = new Date(p.validEnd);
  const signerB64 = Buffer.from(sig.certDer).toString("base64");
  const steps: SealVerificationStep[] = [
    await jwsStep("signature-value", "document", sig, signer),
    p.certList.some((c) => bytesEqual(b64(c, "seal.property.certList"), sig.certDer) || c === signerB64)
      ? step("signer-cert-in-seal", "pass", `signer certificate is one of the seal's ${p.certList.length} listed certificate(s)`)
      : step("signer-cert-in-seal", "fail", "signer certificate is not in the seal's certificate list"),
    await makerSteps(seal, maker),
    chainStep(seal, maker, options),
    windowStep("seal-valid-at-signing", "seal", validStart, validEnd, signedAt, "signing time"),
    windowStep("seal-valid-now", "seal", validStart, validEnd, now, "now"),
    signer.ok
      ? windowStep("cert-valid-at-signing", "signer certificate", signer.info.notBefore, signer.info.notAfter, signedAt, "signing time")
      : step("cert-valid-at-signing", "fail", `signer ${signer.why}`),
    signer.ok
      ? windowStep("cert-valid-now", "signer certificate", signer.info.notBefore, signer.info.notAfter, now, "now")
      : step("cert-valid-now", "fail", `signer ${signer.why}`),
    documentHashStep(
      options.document,
      base64url.decode(sig.payload.documentHash.value),
      (d) => new Uint8Array(createHash("sha256").update(d).digest()),
      "SHA-256",
    ),
    revocationStep(
      [...(signer.ok ? [{ role: "signer", info: signer.info }] : []), ...(maker.ok ? [{ role: "seal maker", info: maker.info }] : [])],
      options.crls,
    ),
  ];
  return buildReport("jose", "signature", steps, summary(seal.payload, maker), {
    signedAt: signedAt.toISOString(),
    signer: signer.ok ? signer.info.subject : "(unreadable certificate)",
    propertyInfo: sig.payload.propertyInfo,
  });
}
