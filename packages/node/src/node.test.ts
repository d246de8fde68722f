import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { Client, Metadata, makeClientConstructor, type ServiceDefinition } from "@grpc/grpc-js";
import {
  TongbanError,
  clientCredentials,
  createCrl,
  createFederationRoot,
  createGrpcClient,
  issueNodeCertificates,
  type FederationRoot,
  type NodeCertificates,
} from "@tongban/sdk";
import { FederationService, PlatformService } from "@tongban/sdk/gen";
import { service as healthServiceDefinition } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openNode, type TongbanNode } from "./node.js";
import { platformTokenDigest } from "./server/platform-auth.js";
import { restoreBackup } from "./store/backup.js";
import { LevelStore, openLevelStore } from "./store/level-store.js";

const NODE = "cn.310118.qingpu";
const PEER = "cn.320509.wujiang";
const REVOKED = "cn.320114.yuhuatai";
const TOKEN = "tbp_integration-test-token";

let dir: string;
let root: FederationRoot;
let node: NodeCertificates;
let peer: NodeCertificates;
let revoked: NodeCertificates;
let stranger: NodeCertificates;
let tongban: TongbanNode;
const logLines: Record<string, unknown>[] = [];

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (err) {
    expect(err).toBeInstanceOf(TongbanError);
    return (err as TongbanError).code;
  }
}

const federationClient = (certs: NodeCertificates | undefined, ca: string = root.certificatePem) =>
  createGrpcClient(
    FederationService,
    tongban.addresses?.federation ?? "",
    clientCredentials({ ca, ...(certs === undefined ? {} : { cert: certs.tls.certificatePem, key: certs.tls.privateKeyPem }), expectedNodeId: NODE }),
    { defaultTimeoutMs: 5_000 },
  );

const peerCredentials = () => clientCredentials({ ca: root.certificatePem, cert: peer.tls.certificatePem, key: peer.tls.privateKeyPem, expectedNodeId: NODE });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-node-"));
  root = await createFederationRoot({ name: "Test Federation Root", validityDays: 30 });
  const other = await createFederationRoot({ name: "Some Other Root", validityDays: 30 });
  [node, peer, revoked, stranger] = await Promise.all([
    issueNodeCertificates({ ca: root, nodeId: NODE, signingAlgorithm: "ES256", validityDays: 30 }),
    issueNodeCertificates({ ca: root, nodeId: PEER, signingAlgorithm: "ES256", validityDays: 30 }),
    issueNodeCertificates({ ca: root, nodeId: REVOKED, signingAlgorithm: "ES256", validityDays: 30 }),
    issueNodeCertificates({ ca: other, nodeId: PEER, signingAlgorithm: "ES256", validityDays: 30 }),
  ]);
  const now = new Date();
  const crl = await createCrl({ ca: root, revoked: [{ serial: revoked.tls.serial, date: now, reason: "keyCompromise" }], thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000) });
  mkdirSync(join(dir, "pki"));
  mkdirSync(join(dir, "peers"));
  const files: Record<string, string> = {
    "pki/root.crt": root.certificatePem,
    "pki/crl.pem": crl,
    "pki/tls.crt": node.tls.certificatePem,
    "pki/tls.key": node.tls.privateKeyPem,
    "pki/sign.crt": node.signing.certificatePem,
    "pki/sign.key": node.signing.privateKeyPem,
    "peers/wujiang.tls.crt": peer.tls.certificatePem,
    "peers/wujiang.sign.crt": peer.signing.certificatePem,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: name.endsWith(".key") ? 0o600 : 0o644 });
  writeFileSync(
    join(dir, "node.yaml"),
    `nodeId: ${NODE}
dataDir: data
federation: { listen: "127.0.0.1:0", tlsCert: pki/tls.crt, tlsKey: pki/tls.key }
signing: { cert: pki/sign.crt, key: pki/sign.key, algorithm: ES256 }
trust: { anchor: pki/root.crt, crl: pki/crl.pem }
peers:
  - { nodeId: ${PEER}, address: "127.0.0.1:7443", certificates: [peers/wujiang.tls.crt, peers/wujiang.sign.crt] }
platform:
  listen: "127.0.0.1:0"
  auth: { tokens: [{ name: vendor-a, sha256: ${platformTokenDigest(TOKEN)} }] }
metrics: { listen: "127.0.0.1:0" }
log: { level: debug }
store: { writeBufferSize: 1048576 }
backup: { keep: 2 }
shutdown: { graceMs: 300 }
`,
  );
  tongban = await openNode(join(dir, "node.yaml"), { logDestination: { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) } });
  await tongban.start();
});

afterAll(async () => {
  await tongban?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a node opened from its config file (LevelDB, mutual TLS)", () => {
  it("runs on LevelDB in dataDir and reports where it listens", () => {
    expect(tongban.state).toBe("running");
    // store.writeBufferSize from node.yaml reaches LevelDB; the block cache keeps its default.
    expect(tongban.components.store).toBeInstanceOf(LevelStore);
    expect((tongban.components.store as LevelStore).writeBufferSize).toBe(1048576);
    expect((tongban.components.store as LevelStore).cacheSize).toBe(8 * 1024 * 1024);
    expect(tongban.addresses?.federation).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(tongban.addresses?.platform).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(tongban.addresses?.federation).not.toBe(tongban.addresses?.platform);
  });

  it("answers GetNodeInfo to a peer with a federation certificate", async () => {
    const c = federationClient(peer);
    const info = await c.getNodeInfo({});
    c.close();
    expect(info.nodeId).toBe(NODE);
    expect(info.regions).toEqual(["310118"]);
    expect(info.suites).toEqual(["jose-v1"]);
    expect(info.protocols).toEqual(["tongban/1"]);
    expect(info.software).toMatch(/^@tongban\/node\//);
    expect(Math.abs(Number(info.now?.seconds) * 1000 - Date.now())).toBeLessThan(10_000);
  });

  it("refuses a client without a certificate and one from another CA at the handshake", async () => {
    const none = federationClient(undefined);
    expect(await codeOf(none.getNodeInfo({}))).toBe("TRANSPORT_UNAVAILABLE");
    none.close();
    const foreign = federationClient(stranger);
    expect(await codeOf(foreign.getNodeInfo({}))).toBe("TRANSPORT_UNAVAILABLE");
    foreign.close();
  });

  it("refuses a peer whose certificate is revoked, though its chain passes the handshake", async () => {
    const c = federationClient(revoked);
    expect(await codeOf(c.getNodeInfo({}))).toBe("TRUST_CERT_REVOKED");
    // Even methods the node does not implement are refused first.
    expect(await codeOf(c.getDirectory({}))).toBe("TRUST_CERT_REVOKED");
    c.close();
  });

  it("answers UNIMPLEMENTED for FederationService methods nothing provides yet", async () => {
    const c = federationClient(peer);
    expect(await codeOf(c.deliver({}))).toBe("UNIMPLEMENTED");
    c.close();
  });

  it("requires a platform token on the platform port", async () => {
    const c = createGrpcClient(PlatformService, tongban.addresses?.platform ?? "", clientCredentials({ ca: root.certificatePem, expectedNodeId: NODE }), { defaultTimeoutMs: 5_000 });
    expect(await codeOf(c.listCases({}))).toBe("TRANSPORT_UNAUTHENTICATED");
    expect(await codeOf(c.listCases({}, { metadata: { authorization: "Bearer wrong" } }))).toBe("TRANSPORT_UNAUTHENTICATED");
    expect(await codeOf(c.listCases({}, { metadata: { authorization: `Bearer ${TOKEN}` } }))).toBe("UNIMPLEMENTED");
    c.close();
  });

  it("lists tongban.v1.FederationService through server reflection and describes it", async () => {
    const raw = new Client(tongban.addresses?.federation ?? "", peerCredentials());
    const responses = await new Promise<Buffer[]>((resolve, reject) => {
      const out: Buffer[] = [];
      const call = raw.makeBidiStreamRequest("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", (b: Buffer) => b, (b: Buffer) => b, new Metadata());
      call.on("data", (b: Buffer) => out.push(b));
      call.on("error", reject);
      call.on("end", () => resolve(out));
      call.write(Buffer.from([0x3a, 0x01, 0x2a])); // list_services: "*"
      const symbol = Buffer.from("tongban.v1.FederationService");
      call.write(Buffer.concat([Buffer.from([0x22, symbol.length]), symbol])); // file_containing_symbol
      call.end();
    });
    raw.close();
    expect(responses).toHaveLength(2);
    const services = fieldsOf(responses[0] ?? Buffer.alloc(0), 6).flatMap((list) => fieldsOf(list, 1)).flatMap((s) => fieldsOf(s, 1)).map((b) => b.toString());
    expect(services).toEqual(["tongban.v1.FederationService"]);
    const files = fieldsOf(responses[1] ?? Buffer.alloc(0), 4).flatMap((r) => fieldsOf(r, 1));
    // The service's file and what it imports (envelope, timestamp, ...), as FileDescriptorProtos.
    const names = files.map((f) => (fieldsOf(f, 1)[0] ?? Buffer.alloc(0)).toString());
    expect(names).toContain("tongban/v1/federation.proto");
    expect(names).toContain("google/protobuf/timestamp.proto");
  });

  it("serves the counters on /metrics with the node_id label", async () => {
    tongban.components.metrics.alertsTotal.inc({ kind: "outbox.failed" });
    const res = await fetch(`http://${tongban.addresses?.metrics ?? ""}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of ["tongban_intake_total", "tongban_intake_seconds", "tongban_outbox_messages", "tongban_delivery_attempts_total", "tongban_deadline_warnings_total"])
      expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain(`tongban_alerts_total{kind="outbox.failed",node_id="${NODE}"} 1`);
    expect((await fetch(`http://${tongban.addresses?.metrics ?? ""}/other`)).status).toBe(404);
  });

  it("writes a backup of its store while running, one snapshot that restores to the same keys; keeps backup.keep", async () => {
    await tongban.components.store.batch([{ type: "put", key: new TextEncoder().encode("meta\u0000backup-test"), value: new Uint8Array([1, 2, 3]) }]);
    const [a, b] = await Promise.all([tongban.backup(), tongban.backup()]);
    expect(b).toBe(a); // one at a time: a second call while one is written gets that one
    expect(a.file.startsWith(join(dir, "backups", `${NODE}-`))).toBe(true);
    const keys: string[] = [];
    for await (const e of tongban.components.store.iterate()) keys.push(Buffer.from(e.key).toString("hex"));
    const restored = join(dir, "restored");
    expect((await restoreBackup(a.file, restored, { expectNodeId: NODE })).entries).toBe(keys.length);
    const copy = await openLevelStore(restored);
    const copied: string[] = [];
    for await (const e of copy.iterate()) copied.push(Buffer.from(e.key).toString("hex"));
    await copy.close();
    expect(copied).toEqual(keys);
    await tongban.backup();
    await tongban.backup();
    expect(readdirSync(join(dir, "backups"))).toHaveLength(2);
    expect(logLines.filter((l) => l["msg"] === "backup written")).toHaveLength(3);
    const text = await (await fetch(`http://${tongban.addresses?.metrics ?? ""}/metrics`)).text();
    expect(text).toContain(`tongban_backups_total{result="ok",node_id="${NODE}"} 3`);
    expect(text).toMatch(new RegExp(`tongban_backup_last_success_timestamp_seconds\\{node_id="${NODE.replace(/\./g, "\\.")}"\\} [1-9]`));
  });

  it("reloads its credentials while running; a CRL file older than the one in use does not replace it", async () => {
    expect((await tongban.reloadCredentials()).changed).toEqual([]);
    // A newer CRL reaches the node another way (a directory carries one): reloading the older file keeps it.
    const at = new Date(Date.now() + 5_000);
    const newer = await createCrl({ ca: root, revoked: [{ serial: revoked.tls.serial, date: new Date() }], thisUpdate: at, nextUpdate: new Date(at.getTime() + 86_400_000) });
    tongban.components.trust.setCrl(newer);
    const inUse = tongban.components.trust.crl;
    expect((await tongban.reloadCredentials()).changed).toEqual([]);
    expect(tongban.components.trust.crl).toEqual(inUse);
    const text = await tongban.components.metrics.registry.metrics();
    expect(text).toContain(`tongban_credential_reloads_total{result="ok",node_id="${NODE}"} 2`);
    expect(logLines.some((l) => l["msg"] === "credentials reloaded")).toBe(true);
  });

  it("logs JSON lines carrying the node id", () => {
    const listening = logLines.find((l) => l["msg"] === "node listening");
    expect(listening).toMatchObject({ nodeId: NODE, federation: tongban.addresses?.federation, platformAuth: "tokens" });
    expect(logLines.every((l) => l["nodeId"] === NODE)).toBe(true);
  });

  it("reports SERVING, then NOT_SERVING when it stops; then refuses calls and closes the store", async () => {
    const Health = makeClientConstructor(healthServiceDefinition as unknown as ServiceDefinition, "Health");
    const health = new Health(tongban.addresses?.federation ?? "", peerCredentials()) as unknown as Client & {
      check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void;
      watch(req: { service: string }): NodeJS.EventEmitter;
    };
    const checked = await new Promise<string | undefined>((resolve, reject) => health.check({ service: "" }, (err, res) => (err === null ? resolve(res?.status) : reject(err))));
    expect(checked).toBe("SERVING");
    const seen: string[] = [];
    const watch = health.watch({ service: "tongban.v1.FederationService" });
    watch.on("error", () => undefined); // the stream is cancelled when the grace ends
    const first = new Promise<void>((resolve) => watch.on("data", (m: { status: string }) => (seen.push(m.status), resolve())));
    await first;
    const address = tongban.addresses?.federation ?? "";
    await tongban.stop();
    health.close();
    expect(seen).toEqual(["SERVING", "NOT_SERVING"]);
    expect(tongban.state).toBe("stopped");
    expect(tongban.components.store.status).toBe("closed");
    const late = createGrpcClient(FederationService, address, peerCredentials(), { defaultTimeoutMs: 2_000 });
    expect(await codeOf(late.getNodeInfo({}))).toBe("TRANSPORT_UNAVAILABLE");
    late.close();
    expect(logLines.some((l) => l["msg"] === "node stopped")).toBe(true);
  });
});

/** Every length-delimited value of field `field` in a protobuf message. */
function fieldsOf(bytes: Uint8Array, field: number): Buffer[] {
  const reader = new BinaryReader(bytes);
  const out: Buffer[] = [];
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (no === field && wireType === 2) out.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType);
  }
  return out;
}
