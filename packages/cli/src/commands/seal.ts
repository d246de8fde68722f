import { createPrivateKey, randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import {
  createJoseSeal,
  createSeal,
  decodeSeal,
  importSm2PrivateKey,
  isTongbanError,
  signDocument,
  signDocumentJose,
  verifySeal,
  verifySealSignature,
  type SealVerificationReport,
  type SealVerifyOptions,
} from "@tongban/sdk";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";
import { CliError } from "../output.js";

/** The DER of the first PEM block labelled `label`, or the bytes as they are when they are not PEM. */
function pemOrDer(bytes: Uint8Array, labels: readonly string[], file: string): Uint8Array {
  const text = Buffer.from(bytes).toString("latin1");
  if (!text.includes("-----BEGIN ")) return bytes;
  for (const label of labels) {
    const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
    if (m?.[1] !== undefined) return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ""), "base64"));
  }
  throw new CliError("USAGE", `${file}: no PEM block labelled ${labels.join(" or ")}`);
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (cause) {
    throw new CliError("USAGE", `cannot read ${file}: ${(cause as Error).message}`);
  }
}

const readCert = async (file: string) => pemOrDer(await readBytes(file), ["CERTIFICATE"], file);
const readCrlFile = async (file: string) => pemOrDer(await readBytes(file), ["X509 CRL"], file);

function parseDate(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`not a date: ${value}`);
  return d;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`not a positive integer: ${value}`);
  return n;
}

function parseFormat(value: string): "gbt38540" | "jose" {
  if (value !== "gbt38540" && value !== "jose") throw new InvalidArgumentError("format must be gbt38540 or jose");
  return value;
}

/** A seal file is JOSE when it is a compact JWS in ASCII, GB/T 38540 (DER) otherwise. */
function isJose(bytes: Uint8Array): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(Buffer.from(bytes).toString("latin1").trim());
}

interface CreateOptions {
  makerKey: string;
  makerCert: string;
  signerCert: string[];
  name: string;
  picture: string;
  validFrom: Date;
  validTo: Date;
  format: "gbt38540" | "jose";
  type: number;
  esId?: string;
  vid: string;
  width: number;
  height: number;
  out: string;
}

async function create(opts: CreateOptions, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const picture = await readBytes(opts.picture);
  const certList = await Promise.all(opts.signerCert.map(readCert));
  const makerCert = await readCert(opts.makerCert);
  const keyBytes = await readBytes(opts.makerKey);
  const esId = opts.esId ?? randomUUID().replaceAll("-", "");
  const common = {
    header: { vid: opts.vid },
    esId,
    property: { type: opts.type, name: opts.name, certList, validStart: opts.validFrom, validEnd: opts.validTo },
    picture: { type: "PNG", data: picture, width: opts.width, height: opts.height },
  };
  let bytes: Uint8Array;
  if (opts.format === "jose") {
    const privateKey = createPrivateKey(Buffer.from(keyBytes));
    bytes = new TextEncoder().encode(`${await createJoseSeal({ ...common, maker: { certDer: makerCert, privateKey } })}\n`);
  } else {
    const { privateKey } = importSm2PrivateKey(pemOrDer(keyBytes, ["PRIVATE KEY", "EC PRIVATE KEY"], opts.makerKey));
    bytes = createSeal({ ...common, maker: { certDer: makerCert, privateKey } });
  }
  await writeFile(opts.out, bytes);
  out.line(`wrote ${opts.format === "jose" ? "JOSE" : "GB/T 38540"} seal "${opts.name}" (esID ${esId}) to ${opts.out}`);
  out.result({ ok: true, format: opts.format, esId, out: opts.out, bytes: bytes.length });
}

interface SignOptions {
  seal: string;
  key: string;
  cert: string;
  out: string;
  propertyInfo: string;
  time?: Date;
}

async function sign(file: string, opts: SignOptions, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const [document, seal, certDer, keyBytes] = await Promise.all([readBytes(file), readBytes(opts.seal), readCert(opts.cert), readBytes(opts.key)]);
  const time = opts.time ?? new Date();
  let bytes: Uint8Array;
  let format: "gbt38540" | "jose";
  if (isJose(seal)) {
    format = "jose";
    const privateKey = createPrivateKey(Buffer.from(keyBytes));
    const jws = await signDocumentJose({
      seal: Buffer.from(seal).toString("latin1").trim(),
      signer: { certDer, privateKey },
      document,
      propertyInfo: opts.propertyInfo,
      time,
    });
    bytes = new TextEncoder().encode(`${jws}\n`);
  } else {
    format = "gbt38540";
    decodeSeal(seal); // a bad seal file is reported as SEAL_MALFORMED before any key is used
    const { privateKey } = importSm2PrivateKey(pemOrDer(keyBytes, ["PRIVATE KEY", "EC PRIVATE KEY"], opts.key));
    bytes = signDocument({ seal, signer: { certDer, privateKey }, document, propertyInfo: opts.propertyInfo, time });
  }
  await writeFile(opts.out, bytes);
  out.line(`wrote ${format === "jose" ? "JOSE" : "GB/T 38540"} seal signature over ${file} to ${opts.out}`);
  out.result({ ok: true, format, out: opts.out, signedAt: time.toISOString() });
}

interface VerifyOptions {
  document?: string;
  trustedMaker?: string[];
  crl?: string[];
  now?: Date;
  userId?: string;
}

const VERDICT_TEXT: Record<SealVerificationReport["verdict"], string> = {
  valid: "VALID",
  "valid-at-signing-time": "VALID AT SIGNING TIME (expired or no longer valid now)",
  invalid: "INVALID",
};

async function verify(file: string, opts: VerifyOptions, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const input = await readBytes(file);
  const options: SealVerifyOptions = {
    ...(opts.document === undefined ? {} : { document: await readBytes(opts.document) }),
    ...(opts.trustedMaker === undefined ? {} : { trustedSealMakers: await Promise.all(opts.trustedMaker.map(readCert)) }),
    ...(opts.crl === undefined ? {} : { crls: await Promise.all(opts.crl.map(readCrlFile)) }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(opts.userId === undefined ? {} : { userId: opts.userId }),
  };
  let report: SealVerificationReport;
  try {
    report = await verifySealSignature(input, options);
  } catch (err) {
    // Not a signature: it may be a seal on its own; if not, the first error says why.
    if (!isTongbanError(err, "SEAL_MALFORMED")) throw err;
    try {
      report = await verifySeal(input, options);
    } catch {
      throw err;
    }
  }
  out.line(`${report.kind === "seal" ? "seal" : "seal signature"} (${report.format}): "${report.seal.name}" esID ${report.seal.esId}`);
  if (report.signature !== undefined) out.line(`signed ${report.signature.signedAt} by ${report.signature.signer}`);
  out.table(
    ["step", "status", "detail"],
    report.steps.map((s) => [s.id, s.status, s.detail]),
  );
  out.line(`verdict: ${VERDICT_TEXT[report.verdict]}`);
  out.result(report);
  if (report.verdict === "invalid") ctx.setExitCode(1);
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * `tongban seal`: make electronic seals (GB/T 38540 with SM2, or the JOSE
 * profile), sign documents with them, and verify sealed signatures step by
 * step. `verify` exits 0 for valid and valid-at-signing-time, 1 for invalid.
 */
export const sealCommand: CommandRegistrar = (program, ctx) => {
  const seal = program.command("seal").description("electronic seals (GB/T 38540 / JOSE): create, sign, verify");

  seal
    .command("create")
    .description("make a seal signed by the seal maker")
    .requiredOption("--maker-key <file>", "seal maker private key (PKCS#8 PEM; SM2 for gbt38540, P-256/Ed25519 for jose)")
    .requiredOption("--maker-cert <file>", "seal maker certificate (PEM or DER)")
    .requiredOption("--signer-cert <file>", "certificate allowed to sign with the seal (repeatable)", collect)
    .requiredOption("--name <name>", "seal name, e.g. 某市市场监督管理局")
    .requiredOption("--picture <png>", "seal picture (PNG)")
    .requiredOption("--valid-from <date>", "start of validity (ISO 8601)", parseDate)
    .requiredOption("--valid-to <date>", "end of validity (ISO 8601)", parseDate)
    .requiredOption("--out <file>", "where to write the seal")
    .option("--format <format>", "gbt38540 (DER, SM2) or jose (JWS)", parseFormat, "gbt38540")
    .option("--type <n>", "seal type (1 official seal, 2 special seal, …)", parsePositive, 1)
    .option("--es-id <id>", "seal identifier (random when absent)")
    .option("--vid <vendor>", "vendor id in the seal header", "Tongban")
    .option("--width <mm>", "picture width in millimetres", parsePositive, 40)
    .option("--height <mm>", "picture height in millimetres", parsePositive, 40)
    .action(async (opts: CreateOptions, cmd: Command) => {
      await create(opts, cmd, ctx);
    });

  seal
    .command("sign")
    .description("sign a document with a seal (format follows the seal)")
    .argument("<file>", "the document to sign")
    .requiredOption("--seal <file>", "the seal")
    .requiredOption("--key <file>", "signer private key (PKCS#8 PEM)")
    .requiredOption("--cert <file>", "signer certificate (PEM or DER); should be in the seal's list")
    .requiredOption("--out <file>", "where to write the signature")
    .option("--property-info <text>", "where the signature sits in the document", "/Doc_0/Signs/Sign_0/Signature.xml")
    .option("--time <date>", "signing time (ISO 8601; default now)", parseDate)
    .action(async (file: string, opts: SignOptions, cmd: Command) => {
      await sign(file, opts, cmd, ctx);
    });

  seal
    .command("verify")
    .description("verify a seal signature (or a seal) and print each step")
    .argument("<signature>", "SES_Signature (DER), JOSE seal signature, or a seal on its own")
    .option("--document <file>", "the signed document, to check its hash")
    .option("--trusted-maker <cert>", "trusted seal maker or seal CA certificate (repeatable)", collect)
    .option("--crl <file>", "CRL (PEM or DER) to check revocation against (repeatable)", collect)
    .option("--now <date>", "check validity at this time instead of now", parseDate)
    .option("--user-id <id>", "SM2 user ID (default 1234567812345678)")
    .action(async (file: string, opts: VerifyOptions, cmd: Command) => {
      await verify(file, opts, cmd, ctx);
    });
};
