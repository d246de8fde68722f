/**
 * Throw-away ECDSA P-256 PKI for transport tests, made with the openssl CLI
 * in a temporary directory: a federation CA with node certificates carrying
 * `urn:tongban:node:<id>` URI SANs, and a second, unrelated CA. Test-only.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate with its key, PEM. */
export interface TestKeyPair {
  readonly cert: string;
  readonly key: string;
}

/** The fixture PKI. */
export interface TestPki {
  readonly ca: string;
  /** `cn.310118.qingpu`, also valid for IP 127.0.0.1 and localhost. */
  readonly qingpuServer: TestKeyPair;
  /** `cn.320509.wujiang`, a client. */
  readonly wujiangClient: TestKeyPair;
  /** Another CA, and a client it issued claiming `cn.320509.wujiang`. */
  readonly rogueCa: string;
  readonly rogueClient: TestKeyPair;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
  openssl(dir, [
    "req", "-x509", "-new", "-key", `${name}.key`, "-subj", `/CN=${name}`, "-days", "2", "-out", `${name}.pem`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

function makeLeaf(dir: string, ca: string, name: string, nodeId: string, serial: number): TestKeyPair {
  openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
  openssl(dir, ["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${nodeId}`, "-out", `${name}.csr`]);
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      `subjectAltName=URI:urn:tongban:node:${nodeId},IP:127.0.0.1,DNS:localhost`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth,clientAuth",
    ].join("\n"),
  );
  openssl(dir, [
    "x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-set_serial", String(serial),
    "-days", "1", "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.pem`,
  ]);
  return { cert: readFileSync(join(dir, `${name}.pem`), "utf8"), key: readFileSync(join(dir, `${name}.key`), "utf8") };
}

/** Generates the fixture PKI (a few hundred milliseconds). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "tongban-pki-"));
  try {
    makeCa(dir, "federation-root");
    makeCa(dir, "rogue-root");
    return {
      ca: readFileSync(join(dir, "federation-root.pem"), "utf8"),
      qingpuServer: makeLeaf(dir, "federation-root", "qingpu", "cn.310118.qingpu", 1001),
      wujiangClient: makeLeaf(dir, "federation-root", "wujiang", "cn.320509.wujiang", 1002),
      rogueCa: readFileSync(join(dir, "rogue-root.pem"), "utf8"),
      rogueClient: makeLeaf(dir, "rogue-root", "rogue", "cn.320509.wujiang", 1003),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
