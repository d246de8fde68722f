import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openLevelStore, storeKeys, type Store } from "@tongban/node";
import { issueNodeCertificates } from "@tongban/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../program.js";

const EXAMPLES = fileURLToPath(new URL("../../../../examples/mapping/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tongban-cli-node-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function tongban(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

async function keysOf(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.iterate()) out.push(`${Buffer.from(e.key).toString("hex")}=${Buffer.from(e.value).toString("hex")}`);
  return out;
}

describe("tongban node", () => {
  it("init writes a node directory that check accepts; a broken config is reported with its field", async () => {
    const init = await tongban("--json", "node", "init", "--node-id", "cn.310118.qingpu", "--dir", join(dir, "qingpu"), "--new-federation", "--platform-listen", "127.0.0.1:0", "--federation-listen", "127.0.0.1:0");
    expect(init.code, init.err).toBe(0);
    const made = JSON.parse(init.out) as { platformToken: string; config: string };
    expect(made.platformToken).toMatch(/^tbp_/);
    const yaml = readFileSync(made.config, "utf8");
    expect(yaml).toContain("nodeId: cn.310118.qingpu");
    expect(yaml).not.toContain(made.platformToken); // only its digest is stored

    const ok = await tongban("--json", "node", "check", "--config", made.config);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect((JSON.parse(ok.out) as { ok: boolean }).ok).toBe(true);

    const again = await tongban("node", "init", "--node-id", "cn.310118.qingpu", "--dir", join(dir, "qingpu"), "--new-federation");
    expect(again.code).toBe(1);
    expect(again.err).toContain("--force");

    // Mapping tables are loaded as the node loads them: in force listed; a broken one fails the check with its file and row.
    const tables = join(dir, "qingpu-tables");
    cpSync(EXAMPLES, tables, { recursive: true });
    writeFileSync(made.config, `${yaml}mapping:\n  tablesDir: ${tables}\n`);
    const withTables = await tongban("--json", "node", "check", "--config", made.config);
    expect(withTables.code, withTables.out).toBe(0);
    const row = (JSON.parse(withTables.out) as { checks: { check: string; result: string; detail: string }[] }).checks.find((c) => c.check === "mapping tables");
    expect(row).toMatchObject({ result: "ok", detail: expect.stringMatching(/^7 in force \(0 signed\): .*implementation 330421 v1/) });
    const catalog = JSON.parse(readFileSync(join(tables, "catalog.json"), "utf8")) as { items: { basicCode: string }[] };
    writeFileSync(join(tables, "catalog.json"), JSON.stringify({ ...catalog, items: catalog.items.filter((i) => i.basicCode !== "00TB00000102") }));
    const broken = await tongban("--json", "node", "check", "--config", made.config);
    expect(broken.code).toBe(1);
    const failed = (JSON.parse(broken.out) as { checks: { check: string; result: string; detail: string }[] }).checks;
    expect(failed).toEqual(expect.arrayContaining([expect.objectContaining({ check: "mapping.tablesDir", result: "FAIL", detail: expect.stringMatching(/00TB00000102/) }), { check: "code", result: "FAIL", detail: "MAPPING_TABLE_INVALID" }]));

    writeFileSync(made.config, yaml.replace("nodeId: cn.310118.qingpu", "nodeId: not a node id").replace(/listen: 127\.0\.0\.1:0/, "listen: nowhere"));
    const bad = await tongban("--json", "node", "check", "--config", made.config);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.out) as { ok: boolean; checks: { check: string; result: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => c.check)).toEqual(expect.arrayContaining(["nodeId", "federation.listen", "code"]));
  });

  it("start runs the node until SIGTERM, then stops gracefully (exit 0)", async () => {
    const init = await tongban("--json", "node", "init", "--node-id", "cn.320509.wujiang", "--dir", join(dir, "wujiang"), "--new-federation", "--platform-listen", "127.0.0.1:0", "--federation-listen", "127.0.0.1:0");
    expect(init.code, init.err).toBe(0);
    const { config } = JSON.parse(init.out) as { config: string };
    let err = "";
    const running = run(["node", "start", "--config", config], { stdout: () => undefined, stderr: (t) => void (err += t) });
    for (let i = 0; i < 200 && !err.includes("running"); i++) await new Promise((r) => setTimeout(r, 25));
    expect(err).toMatch(/node cn\.320509\.wujiang running: federation 127\.0\.0\.1:\d+, platform 127\.0\.0\.1:\d+/);
    process.emit("SIGTERM");
    expect(await running).toBe(0);
    expect(err).toContain("stopping cn.320509.wujiang gracefully");
  });

  it("backs up a running node on SIGUSR2 and a stopped one with `node backup`; verify-backup and restore check what they read", async () => {
    const init = await tongban("--json", "node", "init", "--node-id", "cn.330421.jiashan", "--dir", join(dir, "jiashan"), "--new-federation", "--platform-listen", "127.0.0.1:0", "--federation-listen", "127.0.0.1:0");
    expect(init.code, init.err).toBe(0);
    const { config } = JSON.parse(init.out) as { config: string };
    const data = join(dir, "jiashan", "data");

    let err = "";
    const running = run(["node", "start", "--config", config], { stdout: () => undefined, stderr: (t) => void (err += t) });
    for (let i = 0; i < 200 && !err.includes("running"); i++) await new Promise((r) => setTimeout(r, 25));
    process.emit("SIGUSR2");
    for (let i = 0; i < 200 && !err.includes("SIGUSR2: backup"); i++) await new Promise((r) => setTimeout(r, 25));
    const online = /SIGUSR2: backup written to (\S+\.tbbackup)/.exec(err)?.[1];
    expect(online, err).toBeDefined();
    expect(existsSync(online!)).toBe(true);
    process.emit("SIGTERM");
    expect(await running).toBe(0);
    expect(process.listenerCount("SIGUSR2")).toBe(0);

    // Data of every shape, then: the store in use → refused with a hint; free → backed up.
    const store = await openLevelStore(data);
    await store.batch(Array.from({ length: 500 }, (_, i) => ({ type: "put" as const, key: new TextEncoder().encode(`test\u0000${i}`), value: new Uint8Array(i % 97).fill(i % 251) })));
    const locked = await tongban("node", "backup", "--config", config);
    expect(locked.code).toBe(1);
    expect(locked.err).toContain("STORE_UNAVAILABLE");
    expect(locked.err).toContain("SIGUSR2");
    const keys = await keysOf(store);
    await store.close();
    const offline = await tongban("--json", "node", "backup", "--config", config);
    expect(offline.code, offline.err).toBe(0);
    const written = JSON.parse(offline.out) as { file: string; entries: number; nodeId: string; sha256: string };
    expect(written).toMatchObject({ nodeId: "cn.330421.jiashan", entries: keys.length });

    const verified = await tongban("--json", "node", "verify-backup", written.file);
    expect(verified.code, verified.err).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ entries: keys.length, sha256: written.sha256 });
    const damaged = join(dir, "damaged.tbbackup");
    const bytes = readFileSync(written.file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 40) ^ 0xff, bytes.length - 40);
    writeFileSync(damaged, bytes);
    const bad = await tongban("node", "verify-backup", damaged);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("BACKUP_INVALID");

    const over = await tongban("node", "restore", "--config", config, "--from", written.file);
    expect(over.code).toBe(1);
    expect(over.err).toContain("BACKUP_TARGET_EXISTS");
    renameSync(data, `${data}.old`);
    const restored = await tongban("--json", "node", "restore", "--config", config, "--from", written.file);
    expect(restored.code, restored.err).toBe(0);
    const copy = await openLevelStore(data);
    try {
      expect(await keysOf(copy)).toEqual(keys);
    } finally {
      await copy.close();
    }
    // After a restore: the indexes beside the records agree with them; a damaged one is named, exit 1.
    const checked = await tongban("--json", "node", "check", "--config", config, "--store");
    expect(checked.code, checked.err).toBe(0);
    expect(JSON.parse(checked.out).checks).toContainEqual(expect.objectContaining({ check: "store indexes", result: "ok" }));
    const damage = await openLevelStore(data);
    await damage.batch([{ type: "put", key: storeKeys.caseOpen.key("0190f0a0-0000-7000-8000-000000000000"), value: new Uint8Array() }]);
    await damage.close();
    const broken = await tongban("node", "check", "--config", config, "--store");
    expect(broken.code).toBe(1);
    expect(broken.out).toContain("case-open");
  }, 30_000);

  it("reloads certificates and keys on SIGHUP, all or nothing, and says which changed", async () => {
    const home = join(dir, "qingpu-reload");
    const init = await tongban("--json", "node", "init", "--node-id", "cn.310118.qingpu", "--dir", home, "--new-federation", "--platform-listen", "127.0.0.1:0", "--federation-listen", "127.0.0.1:0");
    expect(init.code, init.err).toBe(0);
    const { config } = JSON.parse(init.out) as { config: string };
    let err = "";
    const running = run(["node", "start", "--config", config], { stdout: () => undefined, stderr: (t) => void (err += t) });
    for (let i = 0; i < 200 && !err.includes("running"); i++) await new Promise((r) => setTimeout(r, 25));
    const hangUp = async (n: number) => {
      process.emit("SIGHUP");
      for (let i = 0; i < 200 && (err.match(/SIGHUP: /g) ?? []).length < n; i++) await new Promise((r) => setTimeout(r, 25));
      return err.split("\n").filter((l) => l.includes("SIGHUP: ")).at(-1) ?? "";
    };
    expect(await hangUp(1)).toContain("credentials reloaded (nothing changed)");
    // A new TLS certificate with the old key: refused, naming the file; the node keeps running on what it has.
    const root = { certificatePem: readFileSync(join(home, "federation-root.crt"), "utf8"), privateKeyPem: readFileSync(join(home, "federation-root.key"), "utf8") };
    const fresh = await issueNodeCertificates({ ca: root, nodeId: "cn.310118.qingpu", signingAlgorithm: "ES256", validityDays: 30 });
    writeFileSync(join(home, "pki", "tls.crt"), fresh.tls.certificatePem);
    const refused = await hangUp(2);
    expect(refused).toContain("credentials NOT reloaded");
    expect(refused).toContain("CONFIG_INVALID");
    expect(refused).toContain("federation.tlsKey");
    // The whole new set: taken.
    writeFileSync(join(home, "pki", "tls.key"), fresh.tls.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(home, "pki", "sign.crt"), fresh.signing.certificatePem);
    writeFileSync(join(home, "pki", "sign.key"), fresh.signing.privateKeyPem, { mode: 0o600 });
    const taken = await hangUp(3);
    expect(taken).toContain("credentials reloaded (changed: tls, signing)");
    expect(taken).toContain(fresh.signing.kid);
    process.emit("SIGTERM");
    expect(await running).toBe(0);
    expect(process.listenerCount("SIGHUP")).toBe(0);
  }, 30_000);

  it("enrols without moving keys: init --request, the operator's pki sign, then check accepts the directory", async () => {
    const ca = join(dir, "enrol-ca");
    expect((await tongban("pki", "init", "--out", ca)).code).toBe(0);
    const nodeDir = join(dir, "nanhu");
    const init = await tongban("--json", "node", "init", "--request", "--node-id", "cn.330402.nanhu", "--dir", nodeDir, "--anchor", join(ca, "root.crt"), "--dns", "tongban.nanhu.example", "--platform-listen", "127.0.0.1:0", "--federation-listen", "127.0.0.1:0");
    expect(init.code, init.err).toBe(0);
    const made = JSON.parse(init.out) as { config: string; requests: { tls: string; signing: string } };
    expect(readFileSync(made.requests.tls, "utf8")).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect(readFileSync(made.requests.tls, "utf8")).not.toContain("PRIVATE KEY");
    // Before the certificates come back, check names what is missing.
    const early = await tongban("node", "check", "--config", made.config);
    expect(early.code).not.toBe(0);
    expect(early.out + early.err).toMatch(/federation\.tlsCert/);
    // The operator looks at a request before signing it.
    const shown = await tongban("--json", "pki", "show", made.requests.tls);
    expect(shown.code, shown.err).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ type: "certificate-request", nodeIds: ["cn.330402.nanhu"], keyAlgorithm: "ES256", dnsNames: ["tongban.nanhu.example"], proofOfPossession: true });
    // The operator: a request for another node is refused; the node's own are signed.
    const wrong = await tongban("pki", "sign", "--ca", ca, "--node-id", "cn.330481.haining", "--tls", made.requests.tls, "--signing", made.requests.signing, "--out", join(dir, "wrong-certs"));
    expect(wrong.code).not.toBe(0);
    expect(wrong.out + wrong.err).toContain("TRUST_CERT_INVALID");
    const signed = await tongban("--json", "pki", "sign", "--ca", ca, "--node-id", "cn.330402.nanhu", "--tls", made.requests.tls, "--signing", made.requests.signing, "--out", join(dir, "nanhu-certs"));
    expect(signed.code, signed.err).toBe(0);
    expect((JSON.parse(signed.out) as { tls: { dnsNames: string[] } }).tls.dnsNames).toEqual(["localhost", "tongban.nanhu.example"]);
    expect(JSON.parse(readFileSync(join(ca, "ca.json"), "utf8")).issued.filter((r: { nodeId: string }) => r.nodeId === "cn.330402.nanhu")).toHaveLength(2);
    // Signing the same into the same place again would overwrite: refused.
    expect((await tongban("pki", "sign", "--ca", ca, "--node-id", "cn.330402.nanhu", "--tls", made.requests.tls, "--signing", made.requests.signing, "--out", join(dir, "nanhu-certs"))).code).not.toBe(0);
    cpSync(join(dir, "nanhu-certs", "tls.crt"), join(nodeDir, "pki", "tls.crt"));
    cpSync(join(dir, "nanhu-certs", "sign.crt"), join(nodeDir, "pki", "sign.crt"));
    const ok = await tongban("--json", "node", "check", "--config", made.config);
    expect(ok.code, ok.out + ok.err).toBe(0);
    // A gm-v1 node: an SM2 signing key, its request signed with SM2-with-SM3.
    const gmDir = join(dir, "nanhu-gm");
    const gm = await tongban("--json", "node", "init", "--request", "--signing-algorithm", "SM2SM3", "--node-id", "cn.330481.haining", "--dir", gmDir, "--anchor", join(ca, "root.crt"), "--platform-listen", "127.0.0.1:0", "--federation-listen", "127.0.0.1:0");
    expect(gm.code, gm.err).toBe(0);
    const gmMade = JSON.parse(gm.out) as { config: string; requests: { tls: string; signing: string } };
    const gmSigned = await tongban("--json", "pki", "sign", "--ca", ca, "--node-id", "cn.330481.haining", "--tls", gmMade.requests.tls, "--signing", gmMade.requests.signing, "--out", join(dir, "gm-certs"));
    expect(gmSigned.code, gmSigned.err).toBe(0);
    expect((JSON.parse(gmSigned.out) as { signing: { algorithm: string } }).signing.algorithm).toBe("SM2SM3");
    expect(JSON.parse((await tongban("--json", "pki", "show", gmMade.requests.signing)).out)).toMatchObject({ keyAlgorithm: "SM2", nodeIds: ["cn.330481.haining"], proofOfPossession: true });
    cpSync(join(dir, "gm-certs", "tls.crt"), join(gmDir, "pki", "tls.crt"));
    cpSync(join(dir, "gm-certs", "sign.crt"), join(gmDir, "pki", "sign.crt"));
    const gmOk = await tongban("--json", "node", "check", "--config", gmMade.config);
    expect(gmOk.code, gmOk.out + gmOk.err).toBe(0);
    // --request needs the anchor, and does not mix with a CA.
    expect((await tongban("node", "init", "--request", "--node-id", "cn.330402.nanhu", "--dir", join(dir, "nanhu2"))).err).toMatch(/--anchor/);
    expect((await tongban("node", "init", "--request", "--new-federation", "--anchor", join(ca, "root.crt"), "--node-id", "cn.330402.nanhu", "--dir", join(dir, "nanhu3"))).code).not.toBe(0);
  });

  it("init refuses a malformed node id with a code", async () => {
    const r = await tongban("--json", "node", "init", "--node-id", "Qingpu!", "--dir", join(dir, "bad"), "--new-federation");
    expect(r.code).toBe(1);
    expect(r.out + r.err).toContain("IDENTIFIER_INVALID");
    expect(r.out + r.err).not.toContain("throwaway federation root");
  });
});

describe("tongban demo (three real nodes)", () => {
  it("runs the remote-receipt case end to end and reports the final states", async () => {
    const r = await tongban("--json", "demo");
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out) as { ok: boolean; final: Record<string, string>; timelines: Record<string, { type: string; state: string }[]>; fullOnline: { final: string }; joint: { overall: string; tasks: { state: string }[] } };
    expect(result.ok).toBe(true);
    expect(result.final).toEqual({ "cn.310118.qingpu": "RESULT_DELIVERED", "cn.320509.wujiang": "RESULT_DELIVERED" });
    expect(result.timelines["cn.320509.wujiang"]!.map((t) => t.type)).toEqual(["APPLICATION_SUBMISSION", "ACCEPTANCE", "DECISION", "RESULT", "DELIVERY_CONFIRMATION", "EVALUATION"]);
    expect(result.fullOnline.final).toBe("REFUSED");
    expect(result.joint).toMatchObject({ overall: "completed", sites: { "cn.320509.wujiang": "completed", "cn.330421.jiashan": "completed" } });
    expect(result.joint.tasks.map((t) => t.state)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED"]);
    expect(r.err).toContain("nodes stopped");
  }, 60_000);

  it("--pull: the same cases with 吴江 in pull mode (no inbound connections)", async () => {
    const r = await tongban("--json", "demo", "--pull");
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out) as { ok: boolean; final: Record<string, string>; joint: { overall: string } };
    expect(result.ok).toBe(true);
    expect(result.final).toEqual({ "cn.310118.qingpu": "RESULT_DELIVERED", "cn.320509.wujiang": "RESULT_DELIVERED" });
    expect(result.joint.overall).toBe("completed");
    expect(r.err).toContain("case pulled: materials fetched first (FetchMaterial");
  }, 60_000);
});
