// Test helper: the ofdrw interop files live next to the repository, in
// `../shared/interop/ofdrw/` relative to the repository root. A missing
// folder is a failing test, never a skipped one.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** `<repo>/../shared/interop/ofdrw/`, from packages/sdk/src/seal/testdata/. */
const DIR = fileURLToPath(new URL("../../../../../../shared/interop/ofdrw/", import.meta.url));

/** Reads one ofdrw interop file; throws with a clear message when it is absent. */
export function readOfdrw(name: "UserV4.esl" | "SignedValueV4.dat" | "UserV1.esl" | "sign_cert.pem" | "README.md"): Uint8Array {
  const path = `${DIR}${name}`;
  if (!existsSync(path)) {
    throw new Error(`ofdrw interop file missing: expected ${name} in ../shared/interop/ofdrw/ next to the repository root`);
  }
  return new Uint8Array(readFileSync(path));
}

/** The DER inside a PEM text (first block). */
export function pemToDer(pem: Uint8Array | string): Uint8Array {
  const text = typeof pem === "string" ? pem : new TextDecoder().decode(pem);
  const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(text);
  if (m?.[1] === undefined) throw new Error("no PEM block");
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ""), "base64"));
}
