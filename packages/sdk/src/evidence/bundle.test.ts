import { createPrivateKey } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createEnvelope } from "../envelope/index.js";
import { CaseState } from "../gen/tongban/v1/common_pb.js";
import { TrustStore } from "../trust/index.js";
import { buildCaseBundle, parseCaseBundle, serializeCaseBundle, type CaseBundle } from "./bundle-format.js";
import { signCheckpoint } from "./checkpoint.js";
import { decodeEntry, encodeEntry } from "./entry.js";
import { JIASHAN, QINGPU, T0, WUJIANG, makeFederation, signerOf, type Federation } from "./fixtures.test-helper.js";
import { EvidenceAppender, type AppendedEntry } from "./log-appender.js";
import { verifyCaseBundle, type BundleReport } from "./verify-bundle.js";
import { Witness } from "./witness.js";

const CASE = "0195f0c1-2a3b-7c4d-8e5f-000000000042";
let fed: Federation;
let bundle: CaseBundle;
let caseEntries: AppendedEntry[];

const failures = (r: BundleReport) => r.steps.filter((s) => !s.ok).map((s) => `${s.step}:${s.reason}${s.index === undefined ? "" : `@${s.index}`}`);
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");

beforeAll(async () => {
  fed = await makeFederation();
  const log = new EvidenceAppender({ now: () => T0.getTime() });
  const all: AppendedEntry[] = [];
  const signer = { kid: fed.qingpu.signing.kid, privateKey: createPrivateKey(fed.qingpu.signing.privateKeyPem), algorithm: "ES256" as const };
  const partner = { kid: fed.jiashan.signing.kid, privateKey: createPrivateKey(fed.jiashan.signing.privateKeyPem), algorithm: "ES256" as const };
  for (let i = 0; i < 30; i++) {
    if (i % 4 === 1) {
      const out = i % 8 === 1;
      const body = { kind: { case: "statusUpdate" as const, value: { state: CaseState.ACCEPTED, note: `step ${i}` } } };
      const env = out
        ? await createEnvelope({ body, sender: QINGPU, recipient: WUJIANG, signer, now: T0, caseId: CASE })
        : await createEnvelope({ body, sender: JIASHAN, recipient: QINGPU, signer: partner, now: T0, caseId: CASE });
      all.push(log.append({ kind: out ? "envelope-out" : "envelope-in", caseId: CASE, messageId: env.messageId, label: "STATUS_UPDATE", payload: env.bytes }));
    } else if (i % 4 === 2) {
      all.push(log.append({ kind: "state-change", caseId: CASE, label: "SUBMITTED→ACCEPTED", payload: new TextEncoder().encode(JSON.stringify({ i })) }));
    } else {
      all.push(log.append({ kind: "envelope-in", caseId: `OTHER-${i}`, payload: new TextEncoder().encode(`other ${i}`) }));
    }
  }
  const checkpoint = await signCheckpoint({ origin: QINGPU, treeSize: 30, rootHash: log.root(), timestamp: new Date(T0.getTime() + 60_000) }, signerOf(fed.qingpu));
  const witness = new Witness({ id: WUJIANG, signer: signerOf(fed.wujiang), trust: new TrustStore({ anchor: fed.root.certificatePem }), now: () => new Date(T0.getTime() + 120_000) });
  const v = await witness.observe(checkpoint);
  if (v.kind !== "cosigned") throw new Error(v.kind);
  caseEntries = all.filter((a) => a.entry.caseId === CASE);
  bundle = await buildCaseBundle({
    caseId: CASE,
    checkpoint,
    cosignatures: [v.cosignature],
    entries: caseEntries.map((a) => ({ entry: a.bytes, payload: a.payload })),
    tree: (i) => all[i]!.hash,
    certificates: [fed.jiashan.signing.certificatePem],
  });
});

describe("case bundles", () => {
  it("verify offline from the anchor alone and say what they prove", async () => {
    const text = serializeCaseBundle(bundle);
    const r = await verifyCaseBundle(text, { trust: fed.root.certificatePem });
    expect(failures(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.witnesses).toEqual([WUJIANG]);
    expect(r.checkpoint?.treeSize).toBe(30);
    expect(r.entries.map((e) => e.index)).toEqual(caseEntries.map((a) => a.entry.index));
    expect(r.steps.filter((s) => s.step === "envelope" && s.reason === "ok")).toHaveLength(8);
    expect(r.steps.filter((s) => s.step === "chain-link")).toHaveLength(7);
    expect(parseCaseBundle(text)).toEqual(bundle);
  });

  it("still verify after retention deleted payloads", async () => {
    const pruned = { ...bundle, entries: bundle.entries.map(({ payload: _p, ...rest }) => rest) };
    const r = await verifyCaseBundle(pruned, { trust: fed.root.certificatePem });
    expect(r.ok).toBe(true);
    expect(r.steps.filter((s) => s.reason === "deleted-by-retention")).toHaveLength(bundle.entries.length);
  });

  it("fail with the reason when tampered", async () => {
    const trust = fed.root.certificatePem;
    const e = bundle.entries;
    const edited = (i: number, f: (x: ReturnType<typeof decodeEntry>) => ReturnType<typeof decodeEntry>) =>
      e.map((x, j) => (j === i ? { ...x, entry: b64(encodeEntry(f(decodeEntry(Buffer.from(x.entry, "base64url"))))) } : x));
    const cases: [string, CaseBundle, string[]][] = [
      ["edited label", { ...bundle, entries: edited(2, (x) => ({ ...x, label: "REJECTED" })) }, ["inclusion:inclusion-failed@5", "chain-link:chain-link-broken@6"]],
      ["edited payload", { ...bundle, entries: e.map((x, j) => (j === 0 ? { ...x, payload: b64(new TextEncoder().encode("forged")) } : x)) }, ["payload:payload-length-mismatch@1"]],
      ["deleted entry", { ...bundle, entries: e.filter((_, j) => j !== 3) }, []],
      ["reordered", { ...bundle, entries: [e[1]!, e[0]!, ...e.slice(2)] }, ["order:entry-order@1"]],
      ["other case", { ...bundle, caseId: "OTHER" }, e.map((_, j) => `case:case-mismatch@${caseEntries[j]!.entry.index}`)],
      ["bad cosignature", { ...bundle, cosignatures: [bundle.checkpoint] }, ["cosignature:cosignature-invalid"]],
      // Not the last character: its low bits are base64url padding and may not change the signature.
      ["bad checkpoint", { ...bundle, checkpoint: `${bundle.checkpoint.slice(0, -10)}${bundle.checkpoint.at(-10) === "A" ? "B" : "A"}${bundle.checkpoint.slice(-9)}` }, ["checkpoint:checkpoint-invalid"]],
      ["wrong origin", { ...bundle, origin: WUJIANG }, ["checkpoint:origin-mismatch"]],
    ];
    for (const [name, tampered, want] of cases) {
      const r = await verifyCaseBundle(JSON.stringify(tampered), { trust });
      expect(failures(r), name).toEqual(expect.arrayContaining(want));
      if (want.length > 0) expect(r.ok, name).toBe(false);
    }
    // A deleted case entry cannot be proven absent by a bundle (docs/evidence.md "What a bundle does not prove"),
    // but the gap shows: no chain-link step for the pair around it.
    const gap = await verifyCaseBundle({ ...bundle, entries: e.filter((_, j) => j !== 3) }, { trust });
    expect(gap.steps.filter((s) => s.step === "chain-link")).toHaveLength(6);
    const garbage = await verifyCaseBundle("{\"format\":\"x\"}", { trust });
    expect(failures(garbage)).toEqual(["format:malformed"]);
  });

  it("reports an envelope whose signer is unknown as unchecked, not failed", async () => {
    const r = await verifyCaseBundle({ ...bundle, certificates: [] }, { trust: fed.root.certificatePem });
    expect(r.ok).toBe(true);
    expect(r.steps.filter((s) => s.reason === "envelope-signer-unknown").map((s) => s.index)).toEqual([5, 13, 21, 29]);
  });
});
