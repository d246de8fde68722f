import { rmSync } from "node:fs";
import { join } from "node:path";
import { openLevelStore } from "@tongban/node";
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
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true });

    const bundle = join(dir, "case.bundle.json");
    const ex = await tongban("audit", "export", "--data", qingpu, "--case", caseId, "--out", bundle, "--cert", join(dir, "cn.320509.wujiang", "pki", "sign.crt"));
    expect(ex.code, ex.err).toBe(0);
    const vb = await tongban("audit", "verify", bundle, "--trust", root);
    expect(vb.code, vb.out + vb.err).toBe(0);
    expect(vb.out).toContain("bundle verifies");

    const pr = await tongban("--json", "audit", "prune", "--data", qingpu, "--older-than", "0");
    expect(pr.code, pr.err).toBe(0);
    expect(JSON.parse(pr.out).deleted).toBeGreaterThan(0);
    expect((await tongban("audit", "verify", qingpu)).code).toBe(0);
    expect((await tongban("audit", "verify", bundle, "--trust", root)).code).toBe(0); // exported before pruning

    // Edit one entry in LevelDB: the audit fails and says where.
    const store = await openLevelStore(join(qingpu, "data"));
    const { storeKeys } = await import("@tongban/node");
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
