import { bytesEqual } from "../gm/hex.js";
import { sm2PublicKeyFromCertificate } from "../gm/certificate.js";
import { GM_OIDS } from "../gm/oids.js";
import { sm2Sign } from "../gm/sm2-signature.js";
import { sm2PublicKeyFromPrivateKey } from "../gm/sm2-keys.js";
import { encodeSealInfo, encodeSigned } from "./encode.js";
import type { SesExtData, SesSealInfo } from "./types.js";

/** A certificate and the SM2 private key that belongs to it. */
export interface Sm2Credential {
  /** X.509 certificate, DER, with an SM2 public key. */
  readonly certDer: Uint8Array;
  /** The matching 32-byte SM2 private key. */
  readonly privateKey: Uint8Array;
}

/** What `createSeal` puts into a GB/T 38540 seal. */
export interface CreateSealOptions {
  /** The seal maker (制章人) that signs the seal. */
  readonly maker: Sm2Credential;
  /** SES_Header; id defaults to "ES", version must be 4. */
  readonly header: { readonly id?: string; readonly version?: 4; readonly vid: string };
  /** Seal identifier (esID), unique within the maker. */
  readonly esId: string;
  readonly property: {
    readonly type: number;
    readonly name: string;
    /** Certificates (DER) of the signers allowed to use the seal. */
    readonly certList: readonly Uint8Array[];
    /** Defaults to now. */
    readonly createDate?: Date;
    readonly validStart: Date;
    readonly validEnd: Date;
  };
  /** The seal image; width and height in millimetres. */
  readonly picture: { readonly type: string; readonly data: Uint8Array; readonly width: number; readonly height: number };
  readonly extDatas?: readonly SesExtData[];
  /** SM2 user ID of the maker's signature; default `1234567812345678`. */
  readonly userId?: string;
}

/** Checks that a private key belongs to the certificate; a mismatch is a caller mistake. @internal */
export function checkCredential(cred: Sm2Credential, role: string): void {
  if (!(cred.certDer instanceof Uint8Array)) throw new TypeError(`${role}.certDer must be a Uint8Array`);
  const certKey = sm2PublicKeyFromCertificate(cred.certDer);
  if (!bytesEqual(certKey, sm2PublicKeyFromPrivateKey(cred.privateKey))) {
    throw new TypeError(`${role}.privateKey does not belong to ${role}.certDer`);
  }
}

/**
 * Makes a GB/T 38540-2020 electronic seal (SESeal v4, DER): the maker signs
 * DER(eSealInfo) with SM2-with-SM3 and the seal carries the maker's
 * certificate, the algorithm OID and the signature.
 *
 * @example
 * ```ts
 * const seal = createSeal({
 *   maker: { certDer: makerCert, privateKey: makerKey },
 *   header: { vid: "Tongban" }, esId: "11010000000001",
 *   property: { type: 1, name: "某市市场监督管理局", certList: [signerCert], validStart, validEnd },
 *   picture: { type: "PNG", data: png, width: 40, height: 40 },
 * });
 * ```
 */
export function createSeal(options: CreateSealOptions): Uint8Array {
  checkCredential(options.maker, "maker");
  const p = options.property;
  if (options.header.version !== undefined && options.header.version !== 4) throw new TypeError("createSeal writes version 4 only");
  if (!(p.validStart instanceof Date) || !(p.validEnd instanceof Date) || p.validEnd <= p.validStart) {
    throw new TypeError("property.validStart and validEnd must be Dates with validStart < validEnd");
  }
  if (p.certList.length === 0) throw new TypeError("property.certList must name at least one signer certificate");
  for (const c of p.certList) sm2PublicKeyFromCertificate(c); // each must be an SM2 certificate
  if (!(options.picture.data instanceof Uint8Array) || options.picture.data.length === 0) {
    throw new TypeError("picture.data must be non-empty bytes");
  }
  const info: SesSealInfo = {
    header: { id: options.header.id ?? "ES", version: 4, vid: options.header.vid },
    esId: options.esId,
    property: {
      type: p.type,
      name: p.name,
      certList: { kind: "certs", certs: p.certList },
      createDate: p.createDate ?? new Date(),
      validStart: p.validStart,
      validEnd: p.validEnd,
    },
    picture: options.picture,
    ...(options.extDatas === undefined ? {} : { extDatas: options.extDatas }),
  };
  const infoDer = encodeSealInfo(info);
  const signature = sm2Sign(infoDer, options.maker.privateKey, options.userId === undefined ? {} : { userId: options.userId });
  return encodeSigned(infoDer, options.maker.certDer, GM_OIDS.sm2WithSm3, signature);
}
