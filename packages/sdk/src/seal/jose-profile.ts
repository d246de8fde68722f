import { X509Certificate, createHash, type KeyObject } from "node:crypto";
import { CompactSign, base64url, importPKCS8, type CryptoKey } from "jose";

/** The JWS `typ` of a JOSE seal. */
export const JOSE_SEAL_TYP = "tongban-seal+jws";
/** The JWS `typ` of a JOSE seal signature over a document. */
export const JOSE_SEAL_SIGNATURE_TYP = "tongban-seal-signature+jws";

/** Algorithms the JOSE profile allows (DESIGN §5: EdDSA and ES256). */
export type JoseSealAlgorithm = "ES256" | "EdDSA";

/** The payload of a JOSE seal: the GB/T 38540 SES_SealInfo fields as JSON. */
export interface JoseSealPayload {
  readonly profile: "tongban-seal/1";
  readonly header: { readonly id: string; readonly version: 4; readonly vid: string };
  readonly esId: string;
  readonly property: {
    readonly type: number;
    readonly name: string;
    /** Signer certificates allowed to use the seal, base64 DER (as in x5c). */
    readonly certList: readonly string[];
    readonly createDate: string;
    readonly validStart: string;
    readonly validEnd: string;
  };
  readonly picture: {
    readonly type: string;
    readonly width: number;
    readonly height: number;
    /** base64url SHA-256 of the picture bytes. */
    readonly sha256: string;
    /** The picture bytes, base64. */
    readonly data: string;
  };
}

/** The payload of a JOSE seal signature: TBS_Sign as JSON. */
export interface JoseSealSignaturePayload {
  readonly profile: "tongban-seal-signature/1";
  /** The compact JWS of the seal, embedded unchanged. */
  readonly seal: string;
  readonly signedAt: string;
  readonly documentHash: { readonly alg: "SHA-256"; readonly value: string };
  readonly propertyInfo: string;
}

/** A certificate and its private key for the JOSE profile (P-256 or Ed25519). */
export interface JoseCredential {
  readonly certDer: Uint8Array;
  readonly privateKey: KeyObject;
}

/** Picks the JWS algorithm from the key type. @internal */
export function joseAlgorithmFor(key: KeyObject): JoseSealAlgorithm {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw new TypeError(`JOSE seals need an Ed25519 or P-256 key, got ${key.asymmetricKeyType ?? "unknown"}`);
}

async function sign(payload: unknown, typ: string, cred: JoseCredential, role: string): Promise<string> {
  if (!(cred.certDer instanceof Uint8Array)) throw new TypeError(`${role}.certDer must be a Uint8Array`);
  if (cred.privateKey.type !== "private") throw new TypeError(`${role}.privateKey must be a private KeyObject`);
  const alg = joseAlgorithmFor(cred.privateKey);
  if (!new X509Certificate(cred.certDer).checkPrivateKey(cred.privateKey)) {
    throw new TypeError(`${role}.privateKey does not belong to ${role}.certDer`);
  }
  // jose works on WebCrypto keys; PKCS#8 is the portable way across.
  const key: CryptoKey = await importPKCS8(cred.privateKey.export({ format: "pem", type: "pkcs8" }).toString(), alg);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg, typ, x5c: [Buffer.from(cred.certDer).toString("base64")] })
    .sign(key);
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");

/** What `createJoseSeal` needs: the `createSeal` fields with a P-256/Ed25519 maker. */
export interface CreateJoseSealOptions {
  readonly maker: JoseCredential;
  readonly header: { readonly id?: string; readonly vid: string };
  readonly esId: string;
  readonly property: {
    readonly type: number;
    readonly name: string;
    readonly certList: readonly Uint8Array[];
    readonly createDate?: Date;
    readonly validStart: Date;
    readonly validEnd: Date;
  };
  readonly picture: { readonly type: string; readonly data: Uint8Array; readonly width: number; readonly height: number };
}

/**
 * Makes a seal in the JOSE profile, for deployments without GM: the
 * SES_SealInfo fields as JSON, signed by the maker as a compact JWS
 * (ES256 or EdDSA) with the maker certificate in `x5c`.
 */
export async function createJoseSeal(options: CreateJoseSealOptions): Promise<string> {
  const p = options.property;
  if (!(p.validStart instanceof Date) || !(p.validEnd instanceof Date) || p.validEnd <= p.validStart) {
    throw new TypeError("property.validStart and validEnd must be Dates with validStart < validEnd");
  }
  if (p.certList.length === 0) throw new TypeError("property.certList must name at least one signer certificate");
  const payload: JoseSealPayload = {
    profile: "tongban-seal/1",
    header: { id: options.header.id ?? "ES", version: 4, vid: options.header.vid },
    esId: options.esId,
    property: {
      type: p.type,
      name: p.name,
      certList: p.certList.map(b64),
      createDate: (p.createDate ?? new Date()).toISOString(),
      validStart: p.validStart.toISOString(),
      validEnd: p.validEnd.toISOString(),
    },
    picture: {
      type: options.picture.type,
      width: options.picture.width,
      height: options.picture.height,
      sha256: base64url.encode(createHash("sha256").update(options.picture.data).digest()),
      data: b64(options.picture.data),
    },
  };
  return sign(payload, JOSE_SEAL_TYP, options.maker, "maker");
}

/** What `signDocumentJose` needs. */
export interface SignDocumentJoseOptions {
  /** A JOSE seal (compact JWS), embedded unchanged. */
  readonly seal: string;
  readonly signer: JoseCredential;
  readonly document: Uint8Array;
  readonly propertyInfo: string;
  readonly time?: Date;
}

/** Signs a document with a JOSE seal: SHA-256 of the document, signing time and the seal, as a compact JWS. */
export async function signDocumentJose(options: SignDocumentJoseOptions): Promise<string> {
  if (!(options.document instanceof Uint8Array)) throw new TypeError("document must be a Uint8Array");
  if (typeof options.seal !== "string") throw new TypeError("seal must be a compact JWS string");
  const payload: JoseSealSignaturePayload = {
    profile: "tongban-seal-signature/1",
    seal: options.seal,
    signedAt: new Date(Math.floor((options.time ?? new Date()).getTime() / 1000) * 1000).toISOString(),
    documentHash: { alg: "SHA-256", value: base64url.encode(createHash("sha256").update(options.document).digest()) },
    propertyInfo: options.propertyInfo,
  };
  return sign(payload, JOSE_SEAL_SIGNATURE_TYP, options.signer, "signer");
}
