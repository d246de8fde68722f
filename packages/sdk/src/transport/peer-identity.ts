import { X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import type { PeerInfo } from "./types.js";

/** Prefix of the URI SAN that names a node in its TLS certificate. */
export const NODE_URI_PREFIX = "urn:tongban:node:";

/**
 * The URI entries of an OpenSSL-style `subjectAltName` string
 * (`"DNS:a, URI:urn:tongban:node:x"`). Node quotes entries that contain
 * separators as JSON strings; those are unquoted.
 */
export function sanUris(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined || subjectAltName === "") return [];
  const uris: string[] = [];
  for (const entry of splitSan(subjectAltName)) {
    if (!entry.startsWith("URI:")) continue;
    let value = entry.slice(4);
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        // A malformed quoted entry cannot be a node URI; skip it rather than guess.
        continue;
      }
    }
    uris.push(value);
  }
  return uris;
}

/** Splits at ", " outside JSON-quoted values. */
function splitSan(text: string): string[] {
  const entries: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      current += ch;
      if (ch === "\\") current += text[++i] ?? "";
      else if (ch === '"') quoted = false;
    } else if (ch === '"') {
      quoted = true;
      current += ch;
    } else if (ch === "," && text[i + 1] === " ") {
      entries.push(current);
      current = "";
      i++;
    } else {
      current += ch;
    }
  }
  entries.push(current);
  return entries;
}

/**
 * The node id named by `urn:tongban:node:<id>` URI SANs, or undefined when
 * there is none or more than one different one (an ambiguous certificate
 * identifies nobody).
 */
export function nodeIdFromUris(uris: readonly string[]): string | undefined {
  const ids = new Set(uris.filter((u) => u.startsWith(NODE_URI_PREFIX)).map((u) => u.slice(NODE_URI_PREFIX.length)));
  if (ids.size !== 1) return undefined;
  const [id] = ids;
  return id === "" ? undefined : id;
}

/**
 * The node id in a DER or PEM certificate's URI SAN, or undefined.
 *
 * @example
 * ```ts
 * nodeIdFromCertificate(ctx.peer.certificate!) // "cn.310118.qingpu"
 * ```
 */
export function nodeIdFromCertificate(certificate: Uint8Array | string): string | undefined {
  const x509 = new X509Certificate(typeof certificate === "string" ? certificate : Buffer.from(certificate));
  return nodeIdFromUris(sanUris(x509.subjectAltName));
}

/** Builds the handler-facing peer from what grpc-js reports. */
export function peerFromTls(address: string, cert: PeerCertificate | undefined): PeerInfo {
  if (cert === undefined || cert.raw === undefined) return { address, certificate: undefined, nodeId: undefined };
  return {
    address,
    certificate: new Uint8Array(cert.raw.buffer, cert.raw.byteOffset, cert.raw.byteLength),
    nodeId: nodeIdFromUris(sanUris(cert.subjectaltname)),
  };
}
