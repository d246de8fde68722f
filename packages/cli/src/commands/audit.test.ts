import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLevelStore, storeKeys } from "@tongban/node";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../program.js";

async function tongban(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}
let demoDir = "";
afterAll(() => {
  if (demoDir !== "") rmSync(demoDir, { recursive: true, force: true });
});

describe("tongban audit", () => {
  it("verifies a node's log after the demo, exports a case bundle that verifies offline, catches tampering, prunes", async () => {
    const demo = await tongban("--json", "demo", "--keep");
    expect(demo.code, demo.err).toBe(0);
    const { dir, caseId } = JSON.parse(demo.out) as { dir: string; caseId: string };
    demoDir = dir;
    const qingpu = join(dir, "cn.310118.qingpu");
    const root = join(qingpu, "pki", "root.crt");

    const ok = await tongban("--json", "audit", "verify", qingpu);
    expect(ok.code, ok.out + ok.err).toBe(0);
    // A node directory: checkpoint signatures checked against the anchor its node.yaml names.
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, signaturesChecked: true });
    const text = await tongban("audit", "verify", join(qingpu, "data"), "--trust", root);
    expect(text.out).toMatch(/evidence log verifies: \d+ entries .* checkpoint\(s\) up to size \d+ match, signed by the node/);

    // Delete, reorder, truncate — each on a copy of the data directory, each reported with where and why.
    const tamper = async (name: string, change: (s: Awaited<ReturnType<typeof openLevelStore>>) => Promise<unknown>) => {
      const copy = join(dir, `data-${name}`);
      cpSync(join(qingpu, "data"), copy, { recursive: true });
      const s = await openLevelStore(copy);
      await change(s);
      await s.close();
      const r = await tongban("--json", "audit", "verify", copy, "--trust", root);
      expect(r.code, name).toBe(1);
      return (JSON.parse(r.out) as { problem: { index?: number; reason: string } }).problem;
    };
    expect(await tamper("delete", (s) => s.batch([{ type: "del", key: storeKeys.evidence.key(4) }]))).toMatchObject({ index: 4, reason: "index-mismatch" });
    expect(
      await tamper("reorder", async (s) => {
        const [a, b] = await s.getMany([storeKeys.evidence.key(5), storeKeys.evidence.key(6)]);
        await s.batch([{ type: "put", key: storeKeys.evidence.key(5), value: b! }, { type: "put", key: storeKeys.evidence.key(6), value: a! }]);
      }),
    ).toMatchObject({ index: 5, reason: "index-mismatch" });
    const last = JSON.parse(ok.out).entries - 1;
    expect((await tamper("truncate", (s) => s.batch([{ type: "del", key: storeKeys.evidence.key(last) }]))).reason).toMatch(/state-mismatch|log-truncated/);

    const bundle = join(dir, "case.bundle.json");
    const ex = await tongban("audit", "export", "--data", qingpu, "--case", caseId, "--out", bundle, "--cert", join(dir, "cn.320509.wujiang", "pki", "sign.crt"));
    expect(ex.code, ex.err).toBe(0);
    const vb = await tongban("audit", "verify", bundle, "--trust", root);
    expect(vb.code, vb.out + vb.err).toBe(0);
    expect(vb.out).toContain("bundle verifies");
    // A tampered bundle fails, and the report says which step and why.
    const forged = JSON.parse(readFileSync(bundle, "utf8")) as { entries: { payload?: string }[] };
    const withPayload = forged.entries.findIndex((e) => e.payload !== undefined);
    forged.entries[withPayload]!.payload = Buffer.from("forged").toString("base64url");
    const badBundle = join(dir, "tampered.bundle.json");
    writeFileSync(badBundle, JSON.stringify(forged));
    const vt = await tongban("--json", "audit", "verify", badBundle, "--trust", root);
    expect(vt.code).toBe(1);
    const failed = (JSON.parse(vt.out) as { ok: boolean; steps: { step: string; ok: boolean; reason: string }[] }).steps.filter((st) => !st.ok);
    expect(failed.map((st) => st.step)).toContain("payload");

    const pr = await tongban("--json", "audit", "prune", "--data", qingpu, "--older-than", "0");
    expect(pr.code, pr.err).toBe(0);
    expect(JSON.parse(pr.out).deleted).toBeGreaterThan(0);
    expect((await tongban("audit", "verify", qingpu)).code).toBe(0);
    expect((await tongban("audit", "verify", bundle, "--trust", root)).code).toBe(0); // exported before pruning

    // Edit one entry in LevelDB: the audit fails and says where.
    const store = await openLevelStore(join(qingpu, "data"));
    const key = storeKeys.evidence.key(2);
    const v = (await store.get(key))!;
    const edited = new Uint8Array(v);
    edited[edited.length - 1] = (edited[edited.length - 1] ?? 0) ^ 1;
    await store.batch([{ type: "put", key, value: edited }]);
    await store.close();
    const bad = await tongban("--json", "audit", "verify", qingpu);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out)).toMatchObject({ ok: false, problem: { code: "AUDIT_CHAIN_BROKEN" } });
  }, 60_000);
});
