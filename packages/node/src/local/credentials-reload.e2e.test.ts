/**
 * A running node takes new credentials from disk (`reloadCredentials`, SIGHUP
 * in `tongban node start`), over real nodes (mTLS, LevelDB): a refused set
 * changes nothing; an accepted one serves the new TLS certificate to new
 * connections, presents it on deliveries, signs with the new key, and still
 * opens bodies partners encrypted to the previous key.
 */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TongbanError, clientCredentials, createCrl, createGrpcClient, issueNodeCertificates, type NodeCertificates, type PlatformClient } from "@tongban/sdk";
import { CaseState, FederationService } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { runRemoteReceiptCase } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
let dir: string;
let fed: LocalFederation;
const platform = (id: string): PlatformClient => fed.node(id).platform!;
const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

/** A remote-receipt case from 青浦's window to 吴江, handled to the end: messages both ways. */
const runCase = (requestId: string): Promise<string> => runRemoteReceiptCase(platform(QINGPU), platform(WUJIANG), WUJIANG, requestId);

/** The serial of the certificate 吴江's federation or platform port shows a new connection. */
async function servedSerial(port: "federation" | "platform" = "federation"): Promise<string> {
  const q = fed.node(QINGPU).certificates;
  let seen = "";
  const client = createGrpcClient(
    FederationService,
    fed.node(WUJIANG).node!.addresses![port],
    clientCredentials({
      ca: fed.root.certificatePem,
      cert: q.tls.certificatePem,
      key: q.tls.privateKeyPem,
      expectedNodeId: WUJIANG,
      checkServerIdentity: (_host, cert) => {
        seen = cert.serialNumber;
        return undefined;
      },
    }),
    { defaultTimeoutMs: 5_000, channelOptions: { "grpc.use_local_subchannel_pool": 1 } },
  );
  try {
    // The platform port serves no FederationService: answered UNIMPLEMENTED, after the handshake looked at here.
    if (port === "federation") expect((await client.getNodeInfo({})).nodeId).toBe(WUJIANG);
    else expect(await client.getNodeInfo({}).then(() => "OK", (e: unknown) => (e as TongbanError).code)).toBe("UNIMPLEMENTED");
  } finally {
    client.close();
  }
  return seen;
}

const writeCredentials = (tls: { certificatePem: string; privateKeyPem: string }, signing: { certificatePem: string; privateKeyPem: string }) => {
  const { config } = fed.node(WUJIANG);
  writeFileSync(config.federation.tlsCert, tls.certificatePem);
  writeFileSync(config.federation.tlsKey, tls.privateKeyPem, { mode: 0o600 });
  writeFileSync(config.signing.cert, signing.certificatePem);
  writeFileSync(config.signing.key, signing.privateKeyPem, { mode: 0o600 });
};

const reloads = async (result: string): Promise<number> => {
  const text = await fed.node(WUJIANG).node!.components.metrics.registry.metrics();
  return Number(new RegExp(`tongban_credential_reloads_total\\{result="${result}",node_id="${WUJIANG}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-reload-"));
  fed = await startLocalFederation({ dir, tablesDir: TABLES, nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG }], fromDirectory: {}, compose: { outboxIntervalMs: 50 }, retry: { baseDelayMs: 50, minDelayMs: 20, maxDelayMs: 200 } });
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("credentials reloaded while a node runs", () => {
  let old: NodeCertificates;
  let fresh: NodeCertificates;

  it("refuses a set that does not fit, naming the file, and keeps serving the one it has", async () => {
    old = fed.node(WUJIANG).certificates;
    fresh = await issueNodeCertificates({ ca: fed.root, nodeId: WUJIANG, signingAlgorithm: "ES256", validityDays: 30 });
    expect(await servedSerial()).toBe(serialOf(old.tls.certificatePem));
    // The new TLS certificate with a key that is not its own.
    writeCredentials({ certificatePem: fresh.tls.certificatePem, privateKeyPem: old.tls.privateKeyPem }, old.signing);
    const err = await fed.node(WUJIANG).node!.reloadCredentials().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TongbanError);
    expect((err as TongbanError).code).toBe("CONFIG_INVALID");
    expect((err as TongbanError).details).toMatchObject({ issues: [{ path: "federation.tlsKey" }] });
    expect(await reloads("refused")).toBe(1);
    expect(await servedSerial()).toBe(serialOf(old.tls.certificatePem));
    expect(await servedSerial("platform")).toBe(serialOf(old.tls.certificatePem));
    // A signing certificate of another node is refused too.
    const other = await issueNodeCertificates({ ca: fed.root, nodeId: "cn.330421.jiashan", signingAlgorithm: "ES256", validityDays: 30 });
    writeCredentials(old.tls, other.signing);
    const err2 = await fed.node(WUJIANG).node!.reloadCredentials().catch((e: unknown) => e);
    expect((err2 as TongbanError).details).toMatchObject({ issues: [{ path: "signing.cert" }] });
    expect(await reloads("ok")).toBe(0);
    // The node still works on what it had.
    writeCredentials(old.tls, old.signing);
    await runCase("reload-before");
  }, 60_000);

  it("takes new TLS and signing credentials; partners still encrypting to the old key are served", async () => {
    // The authority publishes both certificates, the old TLS one first: 青浦 keeps encrypting to the old key.
    const both = await fed.publishDirectory((input) => ({
      ...input,
      nodes: input.nodes.map((n) => (n.nodeId === WUJIANG ? { ...n, certificates: { tls: [old.tls.certificatePem, fresh.tls.certificatePem], signing: [old.signing.certificatePem, fresh.signing.certificatePem] } } : n)),
    }));
    for (const n of fed.nodes.values()) await n.composed!.directory.offer(both, "rotation");

    writeCredentials(fresh.tls, fresh.signing);
    const r = await fed.node(WUJIANG).node!.reloadCredentials();
    expect([...r.changed].sort()).toEqual(["signing", "tls"]);
    expect(r.signing.kid).toBe(fresh.signing.kid);
    expect(await reloads("ok")).toBe(1);
    expect(await servedSerial()).toBe(serialOf(fresh.tls.certificatePem));
    expect(await servedSerial("platform")).toBe(serialOf(fresh.tls.certificatePem));
    // 青浦's submission is encrypted to 吴江's previous TLS key, which 吴江 no longer has on disk.
    await runCase("reload-old-key");
    // Reloading the same files again changes nothing.
    expect((await fed.node(WUJIANG).node!.reloadCredentials()).changed).toEqual([]);
  }, 60_000);

  it("after a restart, still opens bodies encrypted to a key listed in federation.retiredKeys", async () => {
    // The in-memory copy of the replaced key is gone with the process; the config keeps it.
    const { config, configFile } = fed.node(WUJIANG);
    const kept = join(dirname(config.federation.tlsKey), "tls.retired.key");
    writeFileSync(kept, old.tls.privateKeyPem, { mode: 0o600 });
    const doc = YAML.parse(readFileSync(configFile, "utf8")) as { federation: Record<string, unknown> };
    doc.federation["retiredKeys"] = [kept];
    writeFileSync(configFile, YAML.stringify(doc));
    await fed.stopNode(WUJIANG);
    await fed.startNode(WUJIANG);
    expect(await servedSerial()).toBe(serialOf(fresh.tls.certificatePem));
    // The directory still lists the old TLS certificate first: 青浦 encrypts to the retired key.
    await runCase("restart-retired-key");
  }, 60_000);

  it("uses only the new credentials once the old ones are revoked", async () => {
    // The authority drops the old certificates and revokes them: 青浦 now refuses anything
    // 吴江 would sign with the old key or present the old TLS certificate for.
    const now = new Date();
    const crl = await createCrl({
      ca: fed.root,
      revoked: [old.tls.serial, old.signing.serial].map((serial) => ({ serial, date: now, reason: "superseded" as const })),
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + 86_400_000),
    });
    const only = await fed.publishDirectory((input) => ({
      ...input,
      crl,
      nodes: input.nodes.map((n) => (n.nodeId === WUJIANG ? { ...n, certificates: { tls: [fresh.tls.certificatePem], signing: [fresh.signing.certificatePem] } } : n)),
    }));
    for (const n of fed.nodes.values()) await n.composed!.directory.offer(only, "revocation");
    const caseId = await runCase("reload-new-only");
    expect((await platform(QINGPU).getCase({ caseId })).view?.state).toBe(CaseState.RESULT_DELIVERED);
  }, 60_000);
});
