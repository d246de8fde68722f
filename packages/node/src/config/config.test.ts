import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TongbanError } from "@tongban/sdk";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../outbox/retry-schedule.js";
import { checkNodeConfigFiles, defaultNodeConfig, loadNodeConfig, parseNodeConfig, renderNodeConfig } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "tongban-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const minimal = (): Record<string, unknown> => ({
  nodeId: "cn.310118.qingpu",
  dataDir: "data",
  federation: { tlsCert: "pki/tls.crt", tlsKey: "pki/tls.key" },
  signing: { cert: "pki/sign.crt", key: "pki/sign.key" },
  trust: { anchor: "pki/root.crt" },
  platform: { auth: { tokens: [{ name: "vendor", sha256: "a".repeat(64) }] } },
});

/** The CONFIG_INVALID details of parsing `raw`, or fails. */
function invalid(raw: unknown): { file: string | null; path: string; reason: string; issues: { path: string; reason: string }[] } {
  try {
    parseNodeConfig(raw, { file: "node.yaml", baseDir: "/srv/node" });
  } catch (err) {
    expect(err).toBeInstanceOf(TongbanError);
    expect((err as TongbanError).code).toBe("CONFIG_INVALID");
    return (err as TongbanError).details as never;
  }
  throw new Error("expected CONFIG_INVALID");
}

describe("parseNodeConfig", () => {
  it("fills defaults and resolves relative paths against the file's directory", () => {
    const c = parseNodeConfig(minimal(), { file: "node.yaml", baseDir: "/srv/node" });
    expect(c.nodeId).toBe("cn.310118.qingpu");
    expect(c.dataDir).toBe("/srv/node/data");
    expect(c.federation).toEqual({ listen: { host: "127.0.0.1", port: 7443 }, tlsCert: "/srv/node/pki/tls.crt", tlsKey: "/srv/node/pki/tls.key", retiredKeys: [], delivery: "push", pullWaitMs: 20_000 });
    expect(c.signing.retiredKeys).toEqual([]);
    expect(c.platform.listen).toEqual({ host: "127.0.0.1", port: 7444 });
    expect(c.signing.algorithm).toBe("ES256");
    expect(c.log.level).toBe("info");
    expect(c.metrics).toEqual({});
    expect(c.retry.policy).toEqual(DEFAULT_RETRY_POLICY);
    expect(c.limits).toEqual({ maxMessageBytes: 4 * 1024 * 1024, timestampWindowMs: 300_000, maxInFlight: 256, perPartnerRate: 500, perPartnerBurst: 1_000, perPartnerInFlight: 64 });
    expect(c.store).toEqual({ writeBufferSize: 32 * 1024 * 1024, cacheSize: 8 * 1024 * 1024 });
    expect(c.backup).toEqual({ dir: "/srv/node/backups", everyHours: 0, keep: 7 });
    expect(c.retention).toEqual({ evidencePayloadDays: 0 });
    expect(c.shutdown).toEqual({ graceMs: 5000, drainDelayMs: 0 });
  });

  it("keeps absolute paths, reads IPv6 addresses, peers, mTLS platform auth and retry overrides", () => {
    const c = parseNodeConfig(
      {
        ...minimal(),
        dataDir: "/var/lib/tongban",
        federation: { listen: "[::1]:0", tlsCert: "pki/tls.crt", tlsKey: "pki/tls.key", retiredKeys: ["pki/tls.2026.key", "/keys/tls.2025.key"] },
        peers: [{ nodeId: "cn.320509.wujiang", address: "10.0.0.2:7443", suite: "jose-v1", certificates: ["peers/wujiang.tls.crt"] }],
        platform: { listen: "0.0.0.0:9000", auth: { mtls: true, clientCa: "/etc/platform-ca.crt" } },
        retry: { maxDelayMs: 60_000, perDestination: { "cn.320509.wujiang": { deadlineMs: 3_600_000 } } },
        metrics: { listen: "127.0.0.1:9464" },
        log: { level: "debug" },
        store: { writeBufferSize: 8 * 1024 * 1024 },
        backup: { dir: "../backups/qingpu", everyHours: 24, keep: 30 },
        retention: { evidencePayloadDays: 1095 },
      },
      { baseDir: "/srv/node" },
    );
    expect(c.store).toEqual({ writeBufferSize: 8 * 1024 * 1024, cacheSize: 8 * 1024 * 1024 });
    expect(c.backup).toEqual({ dir: "/srv/backups/qingpu", everyHours: 24, keep: 30 });
    expect(c.retention).toEqual({ evidencePayloadDays: 1095 });
    expect(c.dataDir).toBe("/var/lib/tongban");
    expect(c.federation.listen).toEqual({ host: "::1", port: 0 });
    expect(c.federation.retiredKeys).toEqual(["/srv/node/pki/tls.2026.key", "/keys/tls.2025.key"]);
    expect(c.peers).toEqual([{ nodeId: "cn.320509.wujiang", address: "10.0.0.2:7443", suite: "jose-v1", certificates: ["/srv/node/peers/wujiang.tls.crt"] }]);
    expect(c.platform.auth).toEqual({ kind: "mtls", clientCa: "/etc/platform-ca.crt" });
    expect(c.retry.policy.maxDelayMs).toBe(60_000);
    expect(c.retry.perDestination).toEqual({ "cn.320509.wujiang": { deadlineMs: 3_600_000 } });
    expect(c.metrics.listen).toEqual({ host: "127.0.0.1", port: 9464 });
  });

  it.each([
    ["a missing node id", (r: Record<string, unknown>) => delete r["nodeId"], "nodeId", /is required/],
    ["a malformed node id", (r: Record<string, unknown>) => (r["nodeId"] = "Qingpu"), "nodeId", /not a valid node id/],
    ["a bad listen address", (r: Record<string, unknown>) => (r["federation"] = { listen: "7443", tlsCert: "a", tlsKey: "b" }), "federation.listen", /host:port/],
    ["a port out of range", (r: Record<string, unknown>) => (r["federation"] = { listen: "127.0.0.1:70000", tlsCert: "a", tlsKey: "b" }), "federation.listen", /out of range/],
    ["a missing TLS key", (r: Record<string, unknown>) => (r["federation"] = { tlsCert: "a" }), "federation.tlsKey", /is required/],
    ["an unknown algorithm", (r: Record<string, unknown>) => (r["signing"] = { cert: "a", key: "b", algorithm: "RS256" }), "signing.algorithm", /one of ES256, EdDSA, SM2SM3/],
    ["a misspelt key", (r: Record<string, unknown>) => (r["trust"] = { anchor: "a", crll: "b" }), "trust.crll", /unknown key/],
    ["a token stored in clear", (r: Record<string, unknown>) => (r["platform"] = { auth: { tokens: [{ name: "v", sha256: "secret" }] } }), "platform.auth.tokens[0].sha256", /SHA-256/],
    ["both auth kinds", (r: Record<string, unknown>) => (r["platform"] = { auth: { tokens: [], mtls: true } }), "platform.auth", /exactly one/],
    ["the platform on the federation port", (r: Record<string, unknown>) => (r["platform"] = { listen: "127.0.0.1:7443", auth: { tokens: [] } }), "platform.listen", /must differ/],
    ["a peer without address", (r: Record<string, unknown>) => (r["peers"] = [{ nodeId: "cn.320509.wujiang" }]), "peers[0].address", /is required/],
    ["the node as its own peer", (r: Record<string, unknown>) => (r["peers"] = [{ nodeId: "cn.310118.qingpu", address: "h:1" }]), "peers[0].nodeId", /own peer/],
    ["a log level pino lacks", (r: Record<string, unknown>) => (r["log"] = { level: "verbose" }), "log.level", /must be one of/],
    ["an impossible retry policy", (r: Record<string, unknown>) => (r["retry"] = { minDelayMs: 10, maxDelayMs: 5 }), "retry", /minDelayMs/],
    ["retry overrides for an unknown peer", (r: Record<string, unknown>) => (r["retry"] = { perDestination: { "cn.320509.wujiang": {} } }), "retry.perDestination.cn.320509.wujiang", /not in peers/],
    ["a tiny message limit", (r: Record<string, unknown>) => (r["limits"] = { maxMessageBytes: 10 }), "limits.maxMessageBytes", /between/],
    ["a memtable below LevelDB's floor", (r: Record<string, unknown>) => (r["store"] = { writeBufferSize: 4096 }), "store.writeBufferSize", /between/],
    ["a misspelt store key", (r: Record<string, unknown>) => (r["store"] = { blockCache: 1 }), "store.blockCache", /unknown key/],
    ["a backup schedule in minutes", (r: Record<string, unknown>) => (r["backup"] = { everyHours: 0.5 }), "backup.everyHours", /whole number/],
    ["keeping no backup", (r: Record<string, unknown>) => (r["backup"] = { keep: 0 }), "backup.keep", /between|at least/],
    ["a misspelt backup key", (r: Record<string, unknown>) => (r["backup"] = { directory: "b" }), "backup.directory", /unknown key/],
    ["a negative retention", (r: Record<string, unknown>) => (r["retention"] = { evidencePayloadDays: -1 }), "retention.evidencePayloadDays", /between|at least/],
    ["a misspelt retention key", (r: Record<string, unknown>) => (r["retention"] = { payloadDays: 30 }), "retention.payloadDays", /unknown key/],
    ["a retired key that is not a path", (r: Record<string, unknown>) => (r["federation"] = { tlsCert: "a", tlsKey: "b", retiredKeys: ["c", 7] }), "federation.retiredKeys[1]", /file path/],
    ["retired signing keys on a JOSE node", (r: Record<string, unknown>) => (r["signing"] = { cert: "a", key: "b", retiredKeys: ["c"] }), "signing.retiredKeys", /only an SM2SM3 node/],
    ["a fractional grace", (r: Record<string, unknown>) => (r["shutdown"] = { graceMs: 1.5 }), "shutdown.graceMs", /whole number/],
  ])("refuses %s, naming the path", (_name, mutate, path, reason) => {
    const raw = minimal();
    mutate(raw);
    const d = invalid(raw);
    expect(d.file).toBe("node.yaml");
    expect(d.path).toBe(path);
    expect(d.reason).toMatch(reason);
  });

  it("reports every mistake at once", () => {
    const d = invalid({ nodeId: 7, federation: [], log: { level: 1 } });
    const paths = d.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["nodeId", "dataDir", "federation", "signing", "trust", "platform", "log.level"]));
    expect(d.path).toBe("nodeId");
  });

  it("reads the console (off by default; users with roles, viewer by default) and refuses a bad digest or role", () => {
    expect(parseNodeConfig(minimal(), { file: "node.yaml", baseDir: "/srv/node" }).console).toEqual({ users: [] });
    const c = parseNodeConfig({ ...minimal(), console: { listen: "127.0.0.1:7480", users: [{ name: "值班员", sha256: "b".repeat(64), role: "operator" }, { name: "屏幕", sha256: "c".repeat(64) }] } }, { file: "node.yaml", baseDir: "/srv/node" });
    expect(c.console).toEqual({ listen: { host: "127.0.0.1", port: 7480 }, users: [{ name: "值班员", sha256: "b".repeat(64), role: "operator" }, { name: "屏幕", sha256: "c".repeat(64), role: "viewer" }] });
    const d = invalid({ ...minimal(), console: { listen: "nowhere", users: [{ name: "x", sha256: "short", role: "admin" }] } });
    expect(d.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["console.listen", "console.users[0].sha256", "console.users[0].role"]));
  });

  it("reads pull mode: the node's own delivery, peers that pull without an address; two pull nodes cannot pair", () => {
    const base = minimal();
    expect(parseNodeConfig(base, { file: "node.yaml", baseDir: "/srv/node" }).federation).toMatchObject({ delivery: "push", pullWaitMs: 20_000 });
    const pulling = parseNodeConfig(
      { ...base, federation: { ...(base["federation"] as object), delivery: "pull", pullWaitMs: 5_000 }, peers: [{ nodeId: "cn.320509.wujiang", address: "wujiang.example:7443", certificates: [] }] },
      { file: "node.yaml", baseDir: "/srv/node" },
    );
    expect(pulling.federation).toMatchObject({ delivery: "pull", pullWaitMs: 5_000 });
    const withPullPeer = parseNodeConfig({ ...base, peers: [{ nodeId: "cn.320509.wujiang", delivery: "pull", certificates: [] }] }, { file: "node.yaml", baseDir: "/srv/node" });
    expect(withPullPeer.peers).toEqual([{ nodeId: "cn.320509.wujiang", delivery: "pull", certificates: [] }]);
    const d = invalid({
      ...base,
      federation: { ...(base["federation"] as object), delivery: "pull", pullWaitMs: 10 },
      peers: [{ nodeId: "cn.320509.wujiang", delivery: "pull", certificates: [] }, { nodeId: "cn.330421.jiashan", certificates: [] }, { nodeId: "cn.330402.nanhu", delivery: "sometimes", address: "x:1", certificates: [] }],
    });
    expect(d.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["federation.pullWaitMs", "peers[0].delivery", "peers[1].address", "peers[2].delivery"]));
    expect(d.issues.find((i) => i.path === "peers[0].delivery")?.reason).toMatch(/two pull nodes/);
  });

  it("refuses a document that is not a mapping", () => {
    expect(invalid(["a"]).reason).toMatch(/must be a mapping/);
  });
});

describe("loadNodeConfig", () => {
  it("reads YAML and JSON, relative to the file", async () => {
    writeFileSync(join(dir, "node.json"), JSON.stringify(minimal()));
    const fromJson = await loadNodeConfig(join(dir, "node.json"));
    expect(fromJson.dataDir).toBe(join(dir, "data"));
    expect(fromJson.file).toBe(join(dir, "node.json"));
    writeFileSync(join(dir, "node.yaml"), "nodeId: cn.310118.qingpu\ndataDir: ./state\nfederation: { tlsCert: t.crt, tlsKey: t.key }\nsigning: { cert: s.crt, key: s.key, algorithm: EdDSA }\ntrust: { anchor: root.crt }\nplatform: { auth: { tokens: [] } }\n");
    const fromYaml = await loadNodeConfig(join(dir, "node.yaml"));
    expect(fromYaml.dataDir).toBe(join(dir, "state"));
    expect(fromYaml.signing.algorithm).toBe("EdDSA");
  });

  it("names the file and the line of a YAML syntax error", async () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "nodeId: cn.310118.qingpu\nfederation: [\n");
    await expect(loadNodeConfig(file)).rejects.toMatchObject({ code: "CONFIG_INVALID", details: { file, path: "", reason: expect.stringMatching(/not valid YAML \(line \d+/) } });
  });

  it("refuses duplicate keys and a missing file", async () => {
    const file = join(dir, "dup.yaml");
    writeFileSync(file, "nodeId: a\nnodeId: b\n");
    await expect(loadNodeConfig(file)).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    await expect(loadNodeConfig(join(dir, "absent.yaml"))).rejects.toMatchObject({ code: "CONFIG_INVALID", details: { reason: expect.stringMatching(/ENOENT/) } });
  });

  it("checkNodeConfigFiles names each file that cannot be read by its config path", async () => {
    const config = parseNodeConfig(minimal(), { file: "node.yaml", baseDir: dir });
    await expect(checkNodeConfigFiles(config)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      details: { path: "federation.tlsCert", issues: expect.arrayContaining([expect.objectContaining({ path: "trust.anchor" })]) },
    });
  });
});

describe("defaultNodeConfig and renderNodeConfig", () => {
  it("round-trip through YAML with paths relative to the node directory", () => {
    const base = defaultNodeConfig("cn.330802.kecheng", "/srv/kecheng");
    const config = {
      ...base,
      federation: { ...base.federation, retiredKeys: ["/srv/kecheng/pki/tls.2026.key"], delivery: "pull" as const, pullWaitMs: 15_000 },
      peers: [{ nodeId: "cn.320509.wujiang", address: "wujiang.example:7443", certificates: [] }, { nodeId: "cn.330421.jiashan", delivery: "push" as const, address: "jiashan.example:7443", certificates: [] }],
      platform: { ...base.platform, auth: { kind: "tokens" as const, tokens: [{ name: "init", sha256: "b".repeat(64) }] } },
      retry: { policy: { ...base.retry.policy, maxAttempts: 5 }, perDestination: {} },
    };
    const text = renderNodeConfig(config, "/srv/kecheng");
    expect(text).toContain("tlsCert: pki/tls.crt");
    expect(text).toContain("- pki/tls.2026.key");
    expect(text).not.toContain("/srv/kecheng");
    const back = parseNodeConfig(parse(text), { file: "/srv/kecheng/node.yaml", baseDir: "/srv/kecheng" });
    expect(back).toEqual(config);
  });
});
