import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalFederation, submitApplication, until, type LocalFederation } from "@tongban/node";
import { CaseState, MessageStatus } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTHON, QINGPU, WUJIANG } from "./fixture.js";

// Pull mode (docs/protocol.md §9) from an independent client: Debian's grpcio, protobuf by hand
// (tests/interop/grpc_client.py `pull`), plays 吴江 — a pull node — against 青浦, a real reference node.
const CLIENT = fileURLToPath(new URL("./grpc_client.py", import.meta.url));
const VERIFY_ENVELOPE = fileURLToPath(new URL("./verify_envelope.py", import.meta.url));
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "mapping");
let dir: string;
let fed: LocalFederation;

beforeAll(async () => {
  const probe = spawnSync(PYTHON, ["-c", "import grpc, jwcrypto"]);
  if (probe.status !== 0) throw new Error("the interop test needs Debian's python3-grpcio and python3-jwcrypto (.ci/run installs them)");
  dir = mkdtempSync(join(tmpdir(), "tongban-interop-pull-"));
  fed = await startLocalFederation({
    dir,
    tablesDir: EXAMPLES,
    nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG, delivery: "pull", pullWaitMs: 2_000 }],
    retry: { baseDelayMs: 100, minDelayMs: 50, maxDelayMs: 400, deadlineMs: 120_000 },
    compose: { outboxIntervalMs: 50 },
  });
  writeFileSync(join(dir, "root.pem"), fed.root.certificatePem);
  const w = fed.node(WUJIANG).certificates;
  writeFileSync(join(dir, "wujiang.tls.crt"), w.tls.certificatePem);
  writeFileSync(join(dir, "wujiang.tls.key"), w.tls.privateKeyPem);
  writeFileSync(join(dir, "qingpu.sign.crt"), fed.node(QINGPU).certificates.signing.certificatePem);
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a Python pull client (grpcio) as a pull node of a reference node", () => {
  it("pulls what 青浦 queued for 吴江, fetches its materials by digest, answers with a refusal 青浦 acts on; the real node then takes it", async () => {
    // 吴江's own node is down: only the Python client pulls for 吴江.
    await fed.stopNode(WUJIANG);
    const qingpu = fed.node(QINGPU).platform!;
    // The standard test application, with its three materials uploaded at 青浦.
    const caseId = await submitApplication(qingpu, WUJIANG, `pull-interop-${Math.random()}`);
    const { view } = await qingpu.getCase({ caseId });
    const messageId = view!.timeline.find((t) => t.messageId !== "")!.messageId;

    const child = spawn(PYTHON, [CLIENT, fed.node(QINGPU).node!.addresses!.federation, "--ca", join(dir, "root.pem"), "--cert", join(dir, "wujiang.tls.crt"), "--key", join(dir, "wujiang.tls.key"),
      "pull", "--wait-ms", "10000", "--envelope-out", join(dir, "pulled.tbe"), "--refuse", "OVERLOADED", "--retry-after", "300"]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => void (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => void (stderr += d.toString("utf8")));
    const status = await new Promise<number>((done) => child.on("close", (code) => done(code ?? -1)));
    expect(status, stderr).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ ok: true, pulled: 1, message_id: messageId, materials: 3, materials_match_digests: true, accepted: 1, unknown: [], answered_twice_unknown: true });

    // The pulled envelope is 青浦's, as signed: the independent verifier checks it.
    const v = spawnSync(PYTHON, [VERIFY_ENVELOPE, join(dir, "pulled.tbe"), "--cert", join(dir, "qingpu.sign.crt"), "--anchor", join(dir, "root.pem"), "--self", WUJIANG], { encoding: "utf8" });
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, sender: QINGPU });

    // 青浦 took the refusal as Deliver's answer: retried later, with the code and the partner's advice.
    const s = await until("the refusal recorded", async () => {
      const r = await qingpu.getMessageStatus({ messageId });
      return r.lastError.includes("OVERLOADED") ? r : undefined;
    }, 20_000);
    expect(s.status === MessageStatus.RETRY_WAIT || s.status === MessageStatus.SENDING).toBe(true);
    expect(s.lastError).toContain("refused by the Python pull client");

    // 吴江's real node comes back and pulls: the same message is delivered and receipted.
    await fed.startNode(WUJIANG);
    await until("DELIVERED at 吴江", async () => ((await fed.node(WUJIANG).platform!.getCase({ caseId })).view?.state === CaseState.DELIVERED ? true : undefined), 30_000);
    await until("ACKNOWLEDGED at 青浦", async () => ((await qingpu.getMessageStatus({ messageId })).status === MessageStatus.ACKNOWLEDGED ? true : undefined), 30_000);
  }, 90_000);
});
