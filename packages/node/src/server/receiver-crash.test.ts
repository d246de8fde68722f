import { spawn, type ChildProcess } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { TrustStore, createEnvelope, createFederationRoot, issueNodeCertificates, newMessageId, verifyEnvelope, type NodeCertificates } from "@tongban/sdk";
import { CaseState } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcSender } from "../outbox/grpc-sender.js";
import { Outbox } from "../outbox/outbox.js";
import { RetrySchedule } from "../outbox/retry-schedule.js";
import { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import { openLevelStore } from "../store/level-store.js";

// Issue 4 acceptance: kill -9 of the receiving node during a burst; after
// restart every receipted message is there, no effect happened twice, and the
// sender's outbox finishes. Real processes, LevelDB on disk, mTLS on loopback.

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const CASES = 12;
const PER_CASE = 10;
const KILLS = 3;

let code = "";
let dir = "";
let nodes: Record<string, NodeCertificates>;
let root: Awaited<ReturnType<typeof createFederationRoot>>;
const pkgDir = fileURLToPath(new URL("../..", import.meta.url));

beforeAll(async () => {
  const out = await build({
    entryPoints: [fileURLToPath(new URL("./receiver-process.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    external: ["level", "@tongban/sdk", "@bufbuild/protobuf"],
    logLevel: "silent",
  });
  code = out.outputFiles[0]!.text;
  dir = mkdtempSync(join(tmpdir(), "tongban-receiver-crash-"));
  root = await createFederationRoot({ name: "crash test root", validityDays: 30 });
  nodes = {};
  for (const id of [QINGPU, WUJIANG]) nodes[id] = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: "ES256", validityDays: 30 });
  writeFileSync(
    join(dir, "pki.json"),
    JSON.stringify({
      root: root.certificatePem,
      nodeId: WUJIANG,
      tlsCert: nodes[WUJIANG]!.tls.certificatePem,
      tlsKey: nodes[WUJIANG]!.tls.privateKeyPem,
      signingKey: nodes[WUJIANG]!.signing.privateKeyPem,
      signingKid: nodes[WUJIANG]!.signing.kid,
      partnerSigningCerts: [nodes[QINGPU]!.signing.certificatePem],
    }),
  );
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts 吴江's receiver and resolves with the child and its port once it listens. */
function startReceiver(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", code, join(dir, "data"), join(dir, "pki.json")], { cwd: pkgDir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.stderr!.on("data", (d: Buffer) => void (err += d.toString()));
    child.on("exit", (c) => reject(new Error(`receiver exited (${c}) before listening: ${err}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on("exit", () => r())));

describe("kill -9 of the receiving node during a burst", () => {
  it("loses no receipted message, applies none twice, and the sender's outbox finishes", async () => {
    const trust = new TrustStore({ anchor: root.certificatePem });
    trust.addCertificate(nodes[WUJIANG]!.signing.certificatePem);
    trust.addCertificate(nodes[QINGPU]!.signing.certificatePem);
    let receiver = await startReceiver();
    let port = receiver.port;

    const senderStore = await openLevelStore(join(dir, "sender"));
    const committer = new GroupCommitter(senderStore);
    const sender = grpcSender({ ca: root.certificatePem, cert: nodes[QINGPU]!.tls.certificatePem, key: nodes[QINGPU]!.tls.privateKeyPem, addresses: () => `127.0.0.1:${port}`, timeoutMs: 2_000 });
    const outbox = new Outbox({
      store: senderStore,
      committer,
      send: sender,
      verifyReceipt: (r) => verifyEnvelope(r, { self: QINGPU, resolver: trust }),
      schedule: new RetrySchedule({ baseDelayMs: 20, factor: 2, minDelayMs: 10, maxDelayMs: 200, deadlineMs: 120_000, maxAttempts: 0 }),
    });
    const signer = { kid: nodes[QINGPU]!.signing.kid, privateKey: createPrivateKey(nodes[QINGPU]!.signing.privateKeyPem), algorithm: "ES256" as const };
    const ids: string[] = [];
    const caseOf = new Map<string, string>();
    // Interleave cases so every kill lands mid-case for some of them.
    const caseIds = Array.from({ length: CASES }, () => newMessageId());
    for (let seq = 1; seq <= PER_CASE; seq++) {
      for (const caseId of caseIds) {
        const m = await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: `step ${seq}` } } }, sender: QINGPU, recipient: WUJIANG, caseId, sequence: seq, signer });
        await outbox.enqueue({ messageId: m.messageId, destination: WUJIANG, caseId, envelope: m.bytes, receiptDigest: m.receiptDigest });
        ids.push(m.messageId);
        caseOf.set(m.messageId, caseId);
      }
    }
    const acknowledged = async () => {
      let n = 0;
      for (const id of ids) if ((await outbox.status(id))?.status === "ACKNOWLEDGED") n++;
      return n;
    };

    outbox.start(10);
    try {
      for (let k = 0; k < KILLS; k++) {
        const target = Math.floor(((k + 1) * ids.length) / (KILLS + 2));
        const deadline = Date.now() + 30_000;
        while ((await acknowledged()) < target) {
          if (Date.now() > deadline) throw new Error(`stalled before kill ${k + 1}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        receiver.child.kill("SIGKILL");
        await exited(receiver.child);
        await new Promise((r) => setTimeout(r, 50));
        receiver = await startReceiver();
        port = receiver.port;
      }
      const deadline = Date.now() + 60_000;
      while ((await acknowledged()) < ids.length) {
        if (Date.now() > deadline) throw new Error(`outbox did not finish: ${await acknowledged()} of ${ids.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await outbox.stop();
      sender.close();
      receiver.child.kill("SIGTERM");
      await exited(receiver.child);
      await committer.close();
      await senderStore.close();
    }

    // Read what took effect at 吴江, from its LevelDB.
    const store = await openLevelStore(join(dir, "data"));
    const applied: string[] = [];
    try {
      for await (const e of store.iterate(storeKeys.event.range())) applied.push(new TextDecoder().decode(e.value));
      const held = [];
      for await (const e of store.iterate(storeKeys.caseHeld.range())) held.push(e.key);
      expect(held).toEqual([]);
    } finally {
      await store.close();
    }
    expect(new Set(applied).size).toBe(applied.length); // no effect twice
    expect([...applied].sort()).toEqual([...ids].sort()); // every receipted message took effect
    // Per-case order held through the kills.
    for (const caseId of caseIds) {
      const inCase = applied.filter((id) => caseOf.get(id) === caseId);
      expect(inCase).toEqual(ids.filter((id) => caseOf.get(id) === caseId));
    }
  });
});
