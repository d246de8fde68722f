import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import {
  TongbanError,
  TrustStore,
  createEnvelope,
  inspectEnvelope,
  keyIdOf,
  signatureAlgorithmOf,
  verifyEnvelope,
  type InspectedEnvelope,
} from "@tongban/sdk";
import { BodyEncoding, BodySchema, MessageType } from "@tongban/sdk/gen";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";
import { CliError, type Output } from "../output.js";

/**
 * `tongban envelope`: make, look into and verify signed envelopes
 * (docs/protocol.md). Envelope files hold the protobuf binary of
 * tongban.v1.Envelope (extension .tbe by convention).
 */
export const envelopeCommand: CommandRegistrar = (program, ctx) => {
  const env = program.command("envelope").description("create, inspect and verify signed envelopes");

  env
    .command("create")
    .description("build and sign an envelope from a JSON body (protobuf JSON of tongban.v1.Body)")
    .requiredOption("--from <node>", "sender node id (must match the signing certificate)")
    .requiredOption("--to <node>", "recipient node id")
    .requiredOption("--body <file>", 'JSON body, e.g. {"statusUpdate":{"state":"CASE_STATE_ACCEPTED"}}')
    .requiredOption("--key <file>", "the sender's signing private key (PEM)")
    .requiredOption("--cert <file>", "the sender's signing certificate (PEM)")
    .option("--case <id>", "case id (UUIDv7)")
    .option("--sequence <n>", "per-case sequence number", (v) => Number.parseInt(v, 10))
    .option("--encrypt-to <cert>", "encrypt the body to this recipient TLS certificate (required for personal data)")
    .option("--out <file>", "where to write the envelope (default: <message id>.tbe)")
    .action(async (opts: CreateOptions, cmd: Command) => create(opts, outputFor(cmd, ctx)));

  env
    .command("inspect")
    .description("decode an envelope WITHOUT verifying it and show its parts")
    .argument("<file>", "envelope file")
    .action(async (file: string, _opts: unknown, cmd: Command) => inspect(file, outputFor(cmd, ctx)));

  env
    .command("verify")
    .description("verify an envelope against a federation trust anchor; exit 0 when valid")
    .argument("<file>", "envelope file")
    .requiredOption("--trust <anchor>", "the federation root certificate (PEM)")
    .requiredOption("--cert <files...>", "signing certificates the signer may be among (PEM)")
    .option("--crl <file>", "revocation list signed by the root (PEM)")
    .option("--self <node>", "verify as this recipient (default: the envelope's own recipient)")
    .option("--decrypt-key <file>", "the recipient's TLS private key, to open an encrypted body")
    .option("--now <iso>", "verify as of this time (default: now)")
    .action(async (file: string, opts: VerifyOptions, cmd: Command) => verify(file, opts, outputFor(cmd, ctx), ctx));
};

interface CreateOptions {
  from: string;
  to: string;
  body: string;
  key: string;
  cert: string;
  case?: string;
  sequence?: number;
  encryptTo?: string;
  out?: string;
}

async function create(opts: CreateOptions, out: Output): Promise<void> {
  let json: JsonValue;
  try {
    json = JSON.parse(await readFile(opts.body, "utf8")) as JsonValue;
  } catch (err) {
    throw new CliError("USAGE", `cannot read the JSON body ${opts.body}: ${(err as Error).message}`, 2);
  }
  let body;
  try {
    body = fromJson(BodySchema, json);
  } catch (err) {
    throw new CliError("USAGE", `the body is not protobuf JSON of tongban.v1.Body: ${(err as Error).message}`, 2);
  }
  const certPem = await readFile(opts.cert, "utf8");
  const cert = new X509Certificate(certPem);
  const privateKey = createPrivateKey(await readFile(opts.key, "utf8"));
  const made = await createEnvelope({
    body,
    sender: opts.from,
    recipient: opts.to,
    signer: { kid: keyIdOf(cert.raw), privateKey, algorithm: signatureAlgorithmOf(cert.publicKey) },
    ...(opts.case === undefined ? {} : { caseId: opts.case }),
    ...(opts.sequence === undefined ? {} : { sequence: opts.sequence }),
    ...(opts.encryptTo === undefined ? {} : { encryptTo: new X509Certificate(await readFile(opts.encryptTo, "utf8")).publicKey }),
  });
  const file = opts.out ?? `${made.messageId}.tbe`;
  await writeFile(file, made.bytes);
  out.line(`wrote ${file}: ${MessageType[made.header.type]} ${made.messageId} from ${opts.from} to ${opts.to} (${made.bytes.byteLength} bytes)`);
  out.result({ ok: true, file, messageId: made.messageId, type: MessageType[made.header.type], bytes: made.bytes.byteLength });
}

function describeHeader(i: InspectedEnvelope): Record<string, string> {
  const h = i.header;
  return {
    protocol: h.protocol,
    message_id: h.messageId,
    type: MessageType[h.type] ?? String(h.type),
    sender: h.sender,
    recipient: h.recipient,
    original_sender: h.originalSender,
    final_recipient: h.finalRecipient,
    case_id: h.caseId,
    correlation_id: h.correlationId,
    sequence: h.sequence.toString(),
    created_at: h.createdAt ? timestampDate(h.createdAt).toISOString() : "",
    expires_at: h.expiresAt ? timestampDate(h.expiresAt).toISOString() : "",
    body_digest: h.bodyDigest ? Buffer.from(h.bodyDigest.value).toString("hex") : "",
    suite: h.suite,
    body_encoding: BodyEncoding[h.bodyEncoding] ?? String(h.bodyEncoding),
  };
}

async function inspect(file: string, out: Output): Promise<void> {
  const i = inspectEnvelope(await readFile(file));
  const header = describeHeader(i);
  const body = i.body === undefined ? null : toJson(BodySchema, i.body);
  out.line("NOT VERIFIED — inspection only");
  out.table(["header field", "value"], Object.entries(header).filter(([, v]) => v !== ""));
  out.table(["signature", "value"], [
    ["protected", JSON.stringify(i.protectedHeader)],
    ["value", Buffer.from(i.envelope.signature?.value ?? new Uint8Array()).toString("base64url")],
    ["certificates", String(i.envelope.signature?.certificates.length ?? 0)],
    ["receipt digest", Buffer.from(i.receiptDigest).toString("hex")],
  ]);
  out.line(i.encrypted ? "body: encrypted (JWE)" : `body: ${JSON.stringify(body, null, 2)}`);
  out.result({ verified: false, header, protected: i.protectedHeader, encrypted: i.encrypted, body, receiptDigest: Buffer.from(i.receiptDigest).toString("hex") });
}

interface VerifyOptions {
  trust: string;
  cert: string[];
  crl?: string;
  self?: string;
  decryptKey?: string;
  now?: string;
}

async function verify(file: string, opts: VerifyOptions, out: Output, ctx: CommandContext): Promise<void> {
  const bytes = await readFile(file);
  const now = opts.now === undefined ? new Date() : new Date(opts.now);
  if (Number.isNaN(now.getTime())) throw new CliError("USAGE", `--now is not a date: ${opts.now}`, 2);
  try {
    const trust = new TrustStore({ anchor: await readFile(opts.trust, "utf8") });
    for (const c of opts.cert) trust.addCertificate(await readFile(c, "utf8"));
    if (opts.crl !== undefined) trust.setCrl(await readFile(opts.crl, "utf8"));
    const self = opts.self ?? inspectEnvelope(bytes).header.recipient;
    const v = await verifyEnvelope(bytes, {
      self,
      resolver: trust,
      now,
      ...(opts.decryptKey === undefined ? { skipBody: true } : { decryptionKey: createPrivateKey(await readFile(opts.decryptKey, "utf8")) }),
    });
    out.line(`valid: ${MessageType[v.header.type]} ${v.header.messageId} from ${v.signer.nodeId} to ${v.header.recipient}, signed ${prettyAlg(v.signer.algorithm)}`);
    out.result({
      ok: true,
      valid: true,
      messageId: v.header.messageId,
      type: MessageType[v.header.type],
      sender: v.signer.nodeId,
      recipient: v.header.recipient,
      receiptDigest: Buffer.from(v.receiptDigest).toString("hex"),
      body: v.body === undefined ? null : toJson(BodySchema, v.body),
    });
  } catch (err) {
    if (!(err instanceof TongbanError)) throw err;
    out.line(`INVALID ${err.code}: ${err.message}`);
    out.result({ ok: false, valid: false, error: err.toJSON() });
    ctx.setExitCode(1);
  }
}

function prettyAlg(alg: string): string {
  return alg === "EdDSA" ? "EdDSA (Ed25519)" : alg === "ES256" ? "ES256 (P-256)" : alg;
}
