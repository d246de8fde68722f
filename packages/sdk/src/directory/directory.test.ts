import { createPrivateKey, sign } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { canonicalJson } from "../mapping/index.js";
import { createCrl, createFederationRoot, issueNodeCertificates, type FederationRoot, type IssuedCertificate, type NodeCertificates } from "../pki/index.js";
import { normalizeSerial } from "../pki/der-integer.js";
import { toDer } from "../pki/pem.js";
import { TrustStore } from "../trust/index.js";
import {
  DIRECTORY_JWS_TYPE,
  buildDirectory,
  diffDirectories,
  directoryWarnings,
  findNodeForRegion,
  issueDirectorySigningCertificate,
  nodeById,
  signDirectory,
  trustStoreFromDirectory,
  verifyDirectory,
  type DirectoryInput,
  type DirectoryNodeInput,
  type FederationDirectory,
  type UnsignedDirectory,
} from "./index.js";

const DAY = 86_400_000;
const T0 = new Date(Math.floor(Date.now() / 1000) * 1000);
const FEDERATION = { id: "yangtze-delta", name: "长三角生态绿色一体化发展示范区" };

interface NodeSpec {
  readonly nodeId: string;
  readonly name: string;
  readonly region: string;
  readonly host: string;
}

const SPECS: readonly NodeSpec[] = [
  { nodeId: "cn.310118.qingpu", name: "青浦区政务服务中心", region: "310118", host: "tongban.qingpu.example.cn" },
  { nodeId: "cn.320509.wujiang", name: "吴江区政务服务中心", region: "320509", host: "tongban.wujiang.example.cn" },
  { nodeId: "cn.330421.jiashan", name: "嘉善县政务服务中心", region: "330421", host: "tongban.jiashan.example.cn" },
];

let root: FederationRoot;
let signer: IssuedCertificate;
let crl: string;
const certs = new Map<string, NodeCertificates>();

function nodeInput(spec: NodeSpec, overrides: Partial<DirectoryNodeInput> = {}): DirectoryNodeInput {
  const c = certs.get(spec.nodeId) as NodeCertificates;
  return {
    nodeId: spec.nodeId,
    name: spec.name,
    regions: [spec.region],
    endpoints: { federation: `${spec.host}:8443`, platform: `${spec.host}:9443` },
    suite: "jose-v1",
    certificates: { tls: [c.tls.certificatePem], signing: [c.signing.certificatePem] },
    itemsServed: ["000117001000"],
    receivesFor: ["000117001000"],
    contact: { name: `${spec.name}办公室`, email: `ops@${spec.host}` },
    ...overrides,
  };
}

function input(overrides: Partial<DirectoryInput> = {}): DirectoryInput {
  return {
    federation: FEDERATION,
    version: 7,
    issuedAt: T0,
    expiresAt: new Date(T0.getTime() + 7 * DAY),
    crl,
    nodes: SPECS.map((s) => nodeInput(s)),
    mappingTables: [{ publisher: "national", kind: "catalog", version: 3, digest: "ab".repeat(32) }],
    ...overrides,
  };
}

function signed(dir: UnsignedDirectory = buildDirectory(input())): string {
  return signDirectory(dir, { key: signer.privateKeyPem, cert: signer.certificatePem, anchor: root.certificatePem });
}

/** Signs arbitrary payload text with any key, the way a forger or a buggy publisher would. */
function forge(payloadText: string, key: string, certPem: string, kid: string, alg: "ES256" = "ES256"): string {
  const header = { alg, kid, typ: DIRECTORY_JWS_TYPE, x5c: [Buffer.from(toDer(certPem)).toString("base64")] };
  const input = `${Buffer.from(canonicalJson(header)).toString("base64url")}.${Buffer.from(payloadText).toString("base64url")}`;
  const sig = sign("sha256", Buffer.from(input), { key: createPrivateKey(key), dsaEncoding: "ieee-p1363" });
  return `${input}.${sig.toString("base64url")}`;
}

function caught(fn: () => unknown): TongbanError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TongbanError) return err;
    throw err;
  }
  throw new Error("expected a TongbanError");
}

beforeAll(async () => {
  root = await createFederationRoot({ name: "Tongban Test Root", validityDays: 3650, notBefore: new Date(T0.getTime() - DAY) });
  signer = await issueDirectorySigningCertificate({ ca: root, federationId: FEDERATION.id, validityDays: 365, notBefore: new Date(T0.getTime() - DAY) });
  crl = await createCrl({ ca: root, revoked: [], thisUpdate: T0, nextUpdate: new Date(T0.getTime() + 30 * DAY) });
  for (const s of SPECS)
    certs.set(s.nodeId, await issueNodeCertificates({ ca: root, nodeId: s.nodeId, signingAlgorithm: "ES256", validityDays: 397, notBefore: new Date(T0.getTime() - DAY) }));
});

describe("directory round trip", () => {
  it("build → sign → verify → trustStoreFromDirectory resolves every node's signing kid", () => {
    const dir = buildDirectory(input(), { anchor: root.certificatePem });
    expect(dir.protocols).toEqual(["tongban/1"]);
    expect(dir.issuedAt).toBe(T0.toISOString());
    const jws = signed(dir);
    const verified = verifyDirectory(jws, { anchorPem: root.certificatePem, now: new Date(T0.getTime() + DAY) });
    expect(verified.status).toBe("current");
    expect(verified.alerts).toEqual([]);
    expect(verified.signer).toMatchObject({ kid: signer.kid, root: false });
    expect(verified.directory.authority.kid).toBe(signer.kid);
    expect(verified.digest).toMatch(/^[0-9a-f]{64}$/);
    const { authority: _authority, ...rest } = verified.directory;
    expect(rest).toEqual(dir);

    const store = trustStoreFromDirectory(verified.directory, root.certificatePem);
    for (const s of SPECS) {
      const c = certs.get(s.nodeId) as NodeCertificates;
      expect(store.resolveSigner(c.signing.kid, new Date(T0.getTime() + DAY)).nodeId).toBe(s.nodeId);
      expect(store.verifyPeerCertificate(c.tls.certificatePem, new Date(T0.getTime() + DAY))).toBe(s.nodeId);
    }
    expect(store.crl?.revoked).toBe(0);
  });

  it("verifies with a TrustStore that knows the anchor only by kid (x5c carries the root)", () => {
    const store = new TrustStore({ anchor: root.certificatePem });
    expect(verifyDirectory(signed(), { trustStore: store, now: T0 }).status).toBe("current");
    const withoutAnchor = signDirectory(buildDirectory(input()), { key: signer.privateKeyPem, cert: signer.certificatePem });
    expect(caught(() => verifyDirectory(withoutAnchor, { trustStore: store, now: T0 })).details).toMatchObject({ path: "header.x5c" });
  });

  it("accepts the federation root signing directly", () => {
    const jws = signDirectory(buildDirectory(input()), { key: root.privateKeyPem, cert: root.certificatePem });
    const v = verifyDirectory(new TextEncoder().encode(jws), { anchorPem: root.certificatePem, now: T0 });
    expect(v.signer).toMatchObject({ kid: root.kid, root: true });
  });

  it("looks nodes up by id and by region, falling back to the prefecture and province", () => {
    const dir = buildDirectory(input());
    expect(nodeById(dir, "cn.330421.jiashan")?.name).toBe("嘉善县政务服务中心");
    expect(nodeById(dir, "cn.330421.nope")).toBeUndefined();
    expect(findNodeForRegion(dir, "320509")?.nodeId).toBe("cn.320509.wujiang");
    expect(findNodeForRegion(dir, "110105")).toBeUndefined();
    const cityLevel = buildDirectory(input({ nodes: [nodeInput(SPECS[1] as NodeSpec, { regions: ["320500"] })] }));
    expect(findNodeForRegion(cityLevel, "320509")?.nodeId).toBe("cn.320509.wujiang");
    expect(findNodeForRegion(cityLevel, "320100")).toBeUndefined();
    expect(() => findNodeForRegion(dir, "3101")).toThrow(TypeError);
  });
});

describe("verification refuses", () => {
  it("a tampered payload", () => {
    const jws = signed();
    const [h, p, s] = jws.split(".") as [string, string, string];
    const dir = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { nodes: { endpoints: { federation: string } }[] };
    (dir.nodes[1] as { endpoints: { federation: string } }).endpoints.federation = "evil.example.com:8443";
    const tampered = `${h}.${Buffer.from(canonicalJson(dir)).toString("base64url")}.${s}`;
    const err = caught(() => verifyDirectory(tampered, { anchorPem: root.certificatePem, now: T0 }));
    expect(err.code).toBe("DIRECTORY_INVALID");
    expect(err.details).toMatchObject({ path: "signature" });
  });

  it("any single-character change to the document", () => {
    const jws = signed();
    fc.assert(
      fc.property(fc.nat({ max: jws.length - 1 }), fc.constantFrom(..."AZaz09-_.x"), (i, ch) => {
        fc.pre(jws[i] !== ch);
        const mutated = jws.slice(0, i) + ch + jws.slice(i + 1);
        expect(caught(() => verifyDirectory(mutated, { anchorPem: root.certificatePem, now: T0 })).code).toBe("DIRECTORY_INVALID");
      }),
      { numRuns: 60 },
    );
  });

  it("a directory signed under another federation root", async () => {
    const otherRoot = await createFederationRoot({ name: "Impostor Root", validityDays: 30, notBefore: new Date(T0.getTime() - DAY) });
    const otherSigner = await issueDirectorySigningCertificate({ ca: otherRoot, federationId: FEDERATION.id, validityDays: 30, notBefore: new Date(T0.getTime() - DAY) });
    const jws = signDirectory(buildDirectory(input()), { key: otherSigner.privateKeyPem, cert: otherSigner.certificatePem, anchor: otherRoot.certificatePem });
    expect(caught(() => verifyDirectory(jws, { anchorPem: root.certificatePem, now: T0 })).details).toMatchObject({ path: "header.x5c[0]" });
    expect(caught(() => verifyDirectory(jws, { trustStore: new TrustStore({ anchor: root.certificatePem }), now: T0 })).code).toBe("DIRECTORY_INVALID");
    const byOtherRoot = signDirectory(buildDirectory(input()), { key: otherRoot.privateKeyPem, cert: otherRoot.certificatePem });
    expect(caught(() => verifyDirectory(byOtherRoot, { anchorPem: root.certificatePem, now: T0 })).code).toBe("DIRECTORY_INVALID");
  });

  it("a directory signed with a node's signing key, though it chains to the root", () => {
    const node = certs.get("cn.310118.qingpu") as NodeCertificates;
    expect(() => signDirectory(buildDirectory(input()), { key: node.signing.privateKeyPem, cert: node.signing.certificatePem })).toThrow(TypeError);
    const payload = canonicalJson({ ...buildDirectory(input()), authority: { kid: node.signing.kid } });
    const forged = forge(payload, node.signing.privateKeyPem, node.signing.certificatePem, node.signing.kid);
    const err = caught(() => verifyDirectory(forged, { anchorPem: root.certificatePem, now: T0 }));
    expect(err.code).toBe("DIRECTORY_INVALID");
    expect(err.message).toMatch(/node certificate cannot sign/);
  });

  it("a payload that is validly signed but not canonical JSON", () => {
    const payload = JSON.stringify({ ...buildDirectory(input()), authority: { kid: signer.kid } }, null, 1);
    const forged = forge(payload, signer.privateKeyPem, signer.certificatePem, signer.kid);
    expect(caught(() => verifyDirectory(forged, { anchorPem: root.certificatePem, now: T0 })).details).toMatchObject({ path: "payload" });
  });

  it("a signed payload that breaks a directory rule, with the path", () => {
    const dir = { ...buildDirectory(input()), authority: { kid: signer.kid }, version: 0 };
    const forged = forge(canonicalJson(dir), signer.privateKeyPem, signer.certificatePem, signer.kid);
    expect(caught(() => verifyDirectory(forged, { anchorPem: root.certificatePem, now: T0 })).details).toMatchObject({ path: "version" });
  });

  it("a rollback to a lower version than the one held", () => {
    const jws = signed();
    const err = caught(() => verifyDirectory(jws, { anchorPem: root.certificatePem, now: T0, held: 8 }));
    expect(err.code).toBe("DIRECTORY_STALE");
    expect(err.details).toMatchObject({ reason: "rollback", version: 7, held: 8 });
    expect(verifyDirectory(jws, { anchorPem: root.certificatePem, now: T0, held: 7 }).status).toBe("current");
  });
});

describe("expiry and grace", () => {
  const expiresAt = (): number => T0.getTime() + 7 * DAY;

  it("within grace after expiresAt: still usable, with an alert from the first minute", () => {
    const v = verifyDirectory(signed(), { anchorPem: root.certificatePem, now: new Date(expiresAt() + 60_000), graceMs: DAY });
    expect(v.status).toBe("expired-within-grace");
    expect(v.alerts).toHaveLength(1);
    expect(v.alerts[0]).toMatchObject({ kind: "directory-expired", expiredAt: new Date(expiresAt()).toISOString(), graceEndsAt: new Date(expiresAt() + DAY).toISOString() });
  });

  it("past grace: DIRECTORY_STALE", () => {
    const err = caught(() => verifyDirectory(signed(), { anchorPem: root.certificatePem, now: new Date(expiresAt() + DAY + 1), graceMs: DAY }));
    expect(err.code).toBe("DIRECTORY_STALE");
    expect(err.details).toMatchObject({ reason: "expired" });
    expect(caught(() => verifyDirectory(signed(), { anchorPem: root.certificatePem, now: new Date(expiresAt() + 1) })).code).toBe("DIRECTORY_STALE");
  });

  it("refuses to sign a directory that outlives its signer", () => {
    const err = caught(() => signed(buildDirectory(input({ expiresAt: new Date(T0.getTime() + 400 * DAY) }))));
    expect(err.code).toBe("DIRECTORY_INVALID");
    expect(err.details).toMatchObject({ path: "expiresAt" });
  });

  it("warns about certificates near their end and announced retirements", async () => {
    const short = await issueNodeCertificates({ ca: root, nodeId: "cn.320509.wujiang", signingAlgorithm: "ES256", validityDays: 20, notBefore: new Date(T0.getTime() - DAY) });
    const old = certs.get("cn.320509.wujiang") as NodeCertificates;
    const dir = buildDirectory(
      input({
        nodes: [
          nodeInput(SPECS[0] as NodeSpec),
          nodeInput(SPECS[1] as NodeSpec, {
            certificates: { tls: [short.tls.certificatePem], signing: [{ pem: old.signing.certificatePem, notAfter: new Date(T0.getTime() + 10 * DAY) }] },
          }),
        ],
      }),
    );
    const warnings = directoryWarnings(dir, T0);
    expect(warnings).toEqual([
      expect.objectContaining({ kind: "certificate-expiring", nodeId: "cn.320509.wujiang", use: "tls", kid: short.tls.kid, announced: false, daysLeft: 19 }),
      expect.objectContaining({ kind: "certificate-expiring", nodeId: "cn.320509.wujiang", use: "signing", kid: old.signing.kid, announced: true, daysLeft: 10 }),
    ]);
    expect(directoryWarnings(dir, new Date(T0.getTime() + 11 * DAY)).map((w) => w.kind)).toEqual(["certificate-expiring", "certificate-expired"]);
    expect(directoryWarnings(dir, T0, { withinDays: 5 })).toEqual([]);
    // A CRL whose nextUpdate falls before expiresAt is worth a warning of its own.
    const lateDir = buildDirectory(input({ expiresAt: new Date(T0.getTime() + 60 * DAY) }));
    expect(directoryWarnings(lateDir, T0).map((w) => w.kind)).toContain("crl-expires-first");
  });
});

describe("buildDirectory validation", () => {
  function issuesOf(dirInput: DirectoryInput, anchor?: string): { path: string; reason: string }[] {
    const err = caught(() => buildDirectory(dirInput, anchor === undefined ? {} : { anchor }));
    expect(err.code).toBe("DIRECTORY_INVALID");
    return err.details["issues"] as { path: string; reason: string }[];
  }

  it("names the certificate issued to another node by its path", () => {
    const qingpu = certs.get("cn.310118.qingpu") as NodeCertificates;
    const jiashan = certs.get("cn.330421.jiashan") as NodeCertificates;
    const nodes = [
      nodeInput(SPECS[0] as NodeSpec),
      nodeInput(SPECS[1] as NodeSpec),
      nodeInput(SPECS[2] as NodeSpec, { certificates: { tls: [qingpu.tls.certificatePem], signing: [jiashan.signing.certificatePem] } }),
    ];
    const err = caught(() => buildDirectory(input({ nodes })));
    expect(err.details).toMatchObject({ path: "nodes[2].certificates.tls[0]" });
    expect(err.details["reason"]).toMatch(/issued to node cn\.310118\.qingpu, not cn\.330421\.jiashan/);
  });

  it("finds duplicates, bad identifiers, endpoints, times and misplaced certificates all at once", () => {
    const wujiang = certs.get("cn.320509.wujiang") as NodeCertificates;
    const issues = issuesOf(
      input({
        version: 1.5,
        expiresAt: T0,
        nodes: [
          nodeInput(SPECS[0] as NodeSpec, { endpoints: { federation: "qingpu:99999" }, regions: ["310118", "999999"] }),
          nodeInput(SPECS[1] as NodeSpec, { certificates: { tls: [wujiang.signing.certificatePem], signing: [wujiang.tls.certificatePem] }, regions: ["310118"] }),
          nodeInput(SPECS[1] as NodeSpec, { itemsServed: ["12345"], nodeId: "cn.320509.wujiang" }),
        ],
      }),
    );
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "version",
        "expiresAt",
        "nodes[0].endpoints.federation",
        "nodes[0].regions[1]",
        "nodes[1].regions[0]",
        "nodes[1].certificates.tls[0]",
        "nodes[1].certificates.signing[0]",
        "nodes[2].nodeId",
        "nodes[2].itemsServed[0]",
        "nodes[2].certificates.tls[0]",
      ]),
    );
    expect(issues.find((i) => i.path === "nodes[2].nodeId")?.reason).toMatch(/duplicate node id/);
    expect(issues.find((i) => i.path === "nodes[1].regions[0]")?.reason).toMatch(/already belongs to cn\.310118\.qingpu/);
  });

  it("takes a pull node without a federation endpoint, and refuses a push node without one or an unknown mode", () => {
    const [q, w, j] = SPECS as [NodeSpec, NodeSpec, NodeSpec];
    const built = buildDirectory(input({ nodes: [nodeInput(q), { ...nodeInput(w), delivery: "pull", endpoints: {} }, nodeInput(j)] }));
    expect(built.nodes[1]).toMatchObject({ delivery: "pull", endpoints: {} });
    const issues = issuesOf(input({ nodes: [{ ...nodeInput(q), endpoints: {} }, { ...nodeInput(w), delivery: "sometimes" as never }, nodeInput(j)] }));
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(["nodes[0].endpoints.federation", "nodes[1].delivery"]));
  });

  it("refuses certificates expired at issuedAt and unknown fields", async () => {
    const expired = await issueNodeCertificates({ ca: root, nodeId: "cn.310118.qingpu", signingAlgorithm: "ES256", validityDays: 1, notBefore: new Date(T0.getTime() - 10 * DAY) });
    const spec = SPECS[0] as NodeSpec;
    const issues = issuesOf(
      input({
        nodes: [{ ...nodeInput(spec, { certificates: { tls: [expired.tls.certificatePem], signing: [expired.signing.certificatePem] } }), extra: 1 } as DirectoryNodeInput],
      }),
    );
    expect(issues.map((i) => i.path)).toEqual(["nodes[0].extra", "nodes[0].certificates.tls[0]", "nodes[0].certificates.signing[0]"]);
    expect(issues[2]?.reason).toMatch(/expired/);
  });

  it("with the anchor: refuses revoked certificates and a foreign CRL", async () => {
    const qingpu = certs.get("cn.310118.qingpu") as NodeCertificates;
    const revokedCrl = await createCrl({ ca: root, revoked: [{ serial: qingpu.signing.serial, date: T0 }], thisUpdate: T0, nextUpdate: new Date(T0.getTime() + 30 * DAY) });
    const issues = issuesOf(input({ crl: revokedCrl }), root.certificatePem);
    expect(issues).toEqual([{ path: "nodes[0].certificates.signing[0]", reason: expect.stringMatching(/TRUST_CERT_REVOKED/) as unknown as string }]);
    const other = await createFederationRoot({ name: "Other Root", validityDays: 30 });
    const foreignCrl = await createCrl({ ca: other, revoked: [], thisUpdate: T0, nextUpdate: new Date(T0.getTime() + DAY) });
    expect(issuesOf(input({ crl: foreignCrl }), root.certificatePem)[0]?.path).toBe("crl");
  });
});

describe("diffDirectories", () => {
  it("reports a rotated signing certificate, then the old one's removal, and other changes", async () => {
    const old = certs.get("cn.320509.wujiang") as NodeCertificates;
    const rotated = await issueNodeCertificates({ ca: root, nodeId: "cn.320509.wujiang", signingAlgorithm: "EdDSA", validityDays: 397, notBefore: T0 });
    const wujiang = SPECS[1] as NodeSpec;
    const v7 = buildDirectory(input());
    const v8 = buildDirectory(
      input({
        version: 8,
        nodes: [
          nodeInput(SPECS[0] as NodeSpec),
          nodeInput(wujiang, {
            certificates: {
              tls: [old.tls.certificatePem],
              signing: [{ pem: old.signing.certificatePem, notAfter: new Date(T0.getTime() + 14 * DAY) }, rotated.signing.certificatePem],
            },
            itemsServed: ["000117001000", "320500001000"],
          }),
          nodeInput(SPECS[2] as NodeSpec, { endpoints: { federation: "tongban2.jiashan.example.cn:8443" } }),
        ],
      }),
    );
    const d = diffDirectories(v7, v8);
    expect(d.changed).toBe(true);
    expect(d.nodesAdded).toEqual([]);
    expect(d.nodesRemoved).toEqual([]);
    expect(d.header).toEqual([{ kind: "value", field: "version", from: 7, to: 8 }]);
    const wj = d.nodesChanged.find((n) => n.nodeId === wujiang.nodeId);
    expect(wj?.changes).toEqual([
      { kind: "set", field: "itemsServed", added: ["320500001000"], removed: [] },
      {
        kind: "certificates",
        field: "certificates.signing",
        added: [{ kid: rotated.signing.kid, serial: expect.any(String) as unknown as string, notAfter: rotated.signing.notAfter.toISOString() }],
        removed: [],
        announced: [{ kid: old.signing.kid, from: undefined, to: new Date(T0.getTime() + 14 * DAY).toISOString() }],
      },
    ]);
    expect(d.nodesChanged.find((n) => n.nodeId === "cn.330421.jiashan")?.changes).toEqual([
      { kind: "value", field: "endpoints.federation", from: "tongban.jiashan.example.cn:8443", to: "tongban2.jiashan.example.cn:8443" },
      { kind: "value", field: "endpoints.platform", from: "tongban.jiashan.example.cn:9443", to: undefined },
    ]);

    const v9: UnsignedDirectory = { ...v8, version: 9, nodes: v8.nodes.map((n) => (n.nodeId === wujiang.nodeId ? { ...n, certificates: { ...n.certificates, signing: n.certificates.signing.slice(1) } } : n)) };
    const d2 = diffDirectories(v8, v9);
    expect(d2.nodesChanged).toEqual([
      { nodeId: wujiang.nodeId, changes: [{ kind: "certificates", field: "certificates.signing", added: [], removed: [expect.objectContaining({ kid: old.signing.kid })], announced: [] }] },
    ]);
    expect(d.nodesChanged.length).toBe(2);
    expect(d2.crl).toBeUndefined();
  });

  it("reports nodes added and removed, CRL entries and mapping tables", async () => {
    const qingpu = certs.get("cn.310118.qingpu") as NodeCertificates;
    const a = buildDirectory(input({ nodes: SPECS.slice(0, 2).map((s) => nodeInput(s)) }));
    const newCrl = await createCrl({ ca: root, revoked: [{ serial: qingpu.tls.serial, date: T0, reason: "keyCompromise" }], thisUpdate: new Date(T0.getTime() + 1000), nextUpdate: new Date(T0.getTime() + 30 * DAY) });
    const b = buildDirectory(
      input({
        crl: newCrl,
        nodes: SPECS.slice(1).map((s) => nodeInput(s)),
        mappingTables: [
          { publisher: "national", kind: "catalog", version: 4, digest: "cd".repeat(32) },
          { publisher: "330421", kind: "implementation", version: 1, digest: "ef".repeat(32) },
        ],
      }),
    );
    const d = diffDirectories(a, b);
    expect(d.nodesAdded).toEqual(["cn.330421.jiashan"]);
    expect(d.nodesRemoved).toEqual(["cn.310118.qingpu"]);
    expect(d.crl?.revokedAdded).toEqual([normalizeSerial(qingpu.tls.serial)]);
    expect(d.crl?.revokedRemoved).toEqual([]);
    expect(d.mappingTables.added.map((t) => t.publisher)).toEqual(["330421"]);
    expect(d.mappingTables.changed).toEqual([expect.objectContaining({ publisher: "national", kind: "catalog" })]);
    expect(diffDirectories(a, { ...a, version: 8 }).changed).toBe(false);
  });
});

describe("signDirectory arguments", () => {
  it("refuses a key that does not match the certificate", () => {
    const dir = buildDirectory(input());
    expect(() => signDirectory(dir, { key: root.privateKeyPem, cert: signer.certificatePem })).toThrow(/does not belong/);
  });

  it("refuses a signer for another federation", async () => {
    const other = await issueDirectorySigningCertificate({ ca: root, federationId: "pearl-river", validityDays: 30, notBefore: new Date(T0.getTime() - DAY) });
    expect(() => signDirectory(buildDirectory(input()), { key: other.privateKeyPem, cert: other.certificatePem })).toThrow(TypeError);
    // And a forged one is refused by the verifier, which checks the binding too.
    const dir: FederationDirectory = { ...buildDirectory(input()), authority: { kid: other.kid } };
    const forged = forge(canonicalJson(dir), other.privateKeyPem, other.certificatePem, other.kid);
    expect(caught(() => verifyDirectory(forged, { anchorPem: root.certificatePem, now: T0 })).details).toMatchObject({ path: "federation.id" });
  });
});
