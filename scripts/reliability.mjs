#!/usr/bin/env node
// Reliability harness (docs/benchmarks.md "Reliability"): two reference nodes
// run as real processes (`tongban node start`, LevelDB, mutual TLS); a driver
// pushes remote-receipt cases through both platform APIs while the harness
// kill -9s one node or the other at random moments and restarts it. Every
// platform call is retried with the same request id (the API is idempotent).
// At the end the invariants are checked:
//   - every case reached its final state at both nodes (RESULT_DELIVERED);
//   - no receipted message was lost: every message either node sent is
//     ACKNOWLEDGED with a receipt and appears on the partner's timeline;
//   - no effect happened twice: no message id appears twice on a timeline;
//   - the nodes' outboxes hold nothing FAILED or REJECTED;
//   - every index kept beside the records (case numbers, open cases, watched
//     deadlines, open joint cases, the outbox ledger) agrees with the records,
//     and no upload is left marked as under way (checkIndexes, nodes stopped).
//
//   node scripts/reliability.mjs [--cycles 20] [--cases 40] [--concurrency 6] [--seed N] [--pull] [--json] [--keep]
//   (--pull: 吴江 in pull mode — no inbound connections; it pulls from 青浦)
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { prng } from "./lib/prng.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => pathToFileURL(join(root, p)).href;
const { checkIndexes, freePorts, initNodeDirectory, openLevelStore } = await import(dist("packages/node/dist/index.js"));
const { createFederationRoot, createPlatformClient, isTongbanError } = await import(dist("packages/sdk/dist/index.js"));
const { CaseState, DecisionOutcome, DeliveryMethod, HandlingMode, IdentityDocumentType, MessageStatus, MessageType } = await import(dist("packages/sdk/dist/proto.js"));
const CLI = join(root, "packages/cli/dist/bin.js");
const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TRANSIENT = new Set(["TRANSPORT_UNAVAILABLE", "TRANSPORT_DEADLINE_EXCEEDED", "TRANSPORT_CANCELLED", "TRANSPORT_UNKNOWN_STATUS", "STORE_UNAVAILABLE", "OVERLOADED", "TRANSPORT_RESOURCE_EXHAUSTED"]);

/** Runs the harness; returns the figures and the invariants, and throws if one does not hold. */
export async function runReliability(options = {}) {
  const cycles = options.cycles ?? 20;
  const caseCount = options.cases ?? 40;
  const concurrency = options.concurrency ?? 6;
  // With `pull`, 吴江 takes no inbound connections: 青浦 parks what it sends it, 吴江 pulls (docs/protocol.md §9).
  const pull = options.pull === true;
  const seed = options.seed ?? Date.now() % 1_000_000;
  const log = options.log ?? ((s) => process.stderr.write(`[reliability] ${s}\n`));
  const random = prng(seed);
  const dir = mkdtempSync(join(tmpdir(), "tongban-reliability-"));
  const started = Date.now();
  const fed = await createFederationRoot({ name: "reliability harness root", validityDays: 2 });
  const ids = [QINGPU, WUJIANG];
  const free = await freePorts(ids.length * 2);
  const ports = Object.fromEntries(ids.map((id) => [id, { federation: free.pop(), platform: free.pop() }]));
  const nodes = {};
  for (const id of ids) {
    const other = ids.find((x) => x !== id);
    const init = await initNodeDirectory({
      dir: join(dir, id),
      nodeId: id,
      ca: fed,
      federationListen: `127.0.0.1:${ports[id].federation}`,
      platformListen: `127.0.0.1:${ports[id].platform}`,
      tablesDir: join(root, "examples", "mapping"),
      peers: [{ nodeId: other, ...(pull && other === WUJIANG ? { delivery: "pull" } : { address: `127.0.0.1:${ports[other].federation}` }), certificates: [join(dir, other, "pki/tls.crt"), join(dir, other, "pki/sign.crt")] }],
      adjust: (c) => ({ ...c, federation: { ...c.federation, ...(pull && id === WUJIANG ? { delivery: "pull", pullWaitMs: 2_000 } : {}) }, log: { level: "warn" }, retry: { ...c.retry, policy: { ...c.retry.policy, baseDelayMs: 100, minDelayMs: 50, maxDelayMs: 500 } }, shutdown: { graceMs: 1000, drainDelayMs: 0 } }),
    });
    nodes[id] = { id, config: init.configFile, dataDir: init.config.dataDir, token: init.platformToken, child: undefined, kills: 0, restarts: 0 };
  }

  async function start(node) {
    const child = spawn(process.execPath, [CLI, "node", "start", "--config", node.config], { stdio: ["ignore", "ignore", "pipe"] });
    node.child = child;
    node.exited = new Promise((r) => child.once("exit", r));
    await new Promise((resolve, reject) => {
      let err = "";
      const timer = setTimeout(() => reject(new Error(`${node.id} did not start: ${err}`)), 20_000);
      child.stderr.on("data", (d) => {
        err += d;
        if (err.includes("running")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${node.id} exited with ${code} while starting: ${err}`));
      });
    });
  }
  async function kill(node) {
    node.child.kill("SIGKILL");
    await node.exited;
    node.kills++;
  }

  for (const id of ids) await start(nodes[id]);
  const ca = fed.certificatePem;
  const client = Object.fromEntries(ids.map((id) => [id, createPlatformClient({ address: `127.0.0.1:${ports[id].platform}`, nodeId: id, ca, token: nodes[id].token, timeoutMs: 5_000 })]));

  /** Calls the platform API, retrying while the node is down (same request: idempotent). */
  async function call(what, fn) {
    const end = Date.now() + 120_000;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(isTongbanError(err) && TRANSIENT.has(err.code)) || Date.now() > end) throw new Error(`${what}: ${err.code ?? ""} ${err.message}`);
        await sleep(100);
      }
    }
  }
  async function waitState(id, caseId, state, extra = () => true) {
    const end = Date.now() + 180_000;
    for (;;) {
      try {
        const { view } = await client[id].getCase({ caseId });
        if (view?.state === state && extra(view)) return view;
      } catch (err) {
        if (!(isTongbanError(err) && (TRANSIENT.has(err.code) || err.code === "CASE_NOT_FOUND"))) throw err;
      }
      if (Date.now() > end) throw new Error(`case ${caseId} never reached ${CaseState[state]} at ${id}`);
      await sleep(50);
    }
  }

  async function oneCase(i) {
    const materials = [];
    for (const [code, name] of [["M001", "居民身份证"], ["M002", "户口本"], ["M003", "双人合影照片"]]) {
      const data = new TextEncoder().encode(`${name} case ${i} seed ${seed}`);
      const digest = createHash("sha256").update(data).digest();
      await call("upload", () => client[QINGPU].uploadMaterial((async function* () {
        yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: 0n, data };
      })()));
      materials.push({ materialId: code, name, nationalCode: code, size: BigInt(data.length), digest, digestAlgorithm: "sha256" });
    }
    const { view } = await call("submit", () => client[QINGPU].submitApplication({
      requestId: `rel-${seed}-${i}`,
      handlingNode: WUJIANG,
      application: {
        mode: HandlingMode.REMOTE_RECEIPT,
        item: { receivingCode: "11310118310118012U000TB00000101" },
        applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" },
        form: [{ name: "申请人姓名", value: "张三" }, { name: "出生日期", value: "19491231" }, { name: "性别", value: "男" }, { name: "联系地址", value: "江苏省|苏州市|吴江区" }],
        materials,
        delivery: { method: DeliveryMethod.POST, postalAddress: "上海市青浦区", recipientName: "张三", recipientPhone: "13800000000" },
      },
    }));
    const caseId = view.caseId;
    await waitState(WUJIANG, caseId, CaseState.DELIVERED);
    const act = (id, step, action) => call(`${step} ${caseId}`, () => client[id].actOnCase({ caseId, requestId: `rel-${seed}-${i}-${step}`, action }));
    await act(WUJIANG, "accept", { kind: { case: "acceptance", value: {} } });
    await act(WUJIANG, "decide", { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED } } });
    await act(WUJIANG, "result", { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.POST } } });
    await waitState(QINGPU, caseId, CaseState.RESULT_SENT);
    await act(QINGPU, "delivered", { kind: { case: "deliveryConfirmation", value: { method: DeliveryMethod.POST, waybillNumber: `EMS${i}` } } });
    return caseId;
  }

  /** A joint case (多地联办) led by 青浦 with a two-task DAG at 吴江, driven while nodes are killed. */
  async function oneJoint(i) {
    const data = new TextEncoder().encode(`居民身份证 joint ${i} seed ${seed}`);
    const digest = createHash("sha256").update(data).digest();
    await call("upload", () => client[QINGPU].uploadMaterial((async function* () {
      yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: 0n, data };
    })()));
    const { view } = await call("submit joint", () => client[QINGPU].submitJointCase({
      requestId: `rel-joint-${seed}-${i}`,
      plan: [
        { taskId: "out", site: WUJIANG, item: { basicCode: "00TB00000501" }, materials: [{ materialId: "M001" }] },
        { taskId: "in", site: WUJIANG, item: { basicCode: "00TB00000502" }, dependsOn: ["out"], materials: [{ materialId: "M001" }] },
      ],
      applicant: { name: "王五" },
      materials: [{ materialId: "M001", name: "居民身份证", nationalCode: "M001", digest }],
    }));
    const id = view.jointCaseId;
    for (const taskId of ["out", "in"]) {
      const end = Date.now() + 180_000;
      for (;;) {
        const v = await client[WUJIANG].getJointCase({ jointCaseId: id }).then((r) => r.view, () => undefined);
        if (v?.tasks.some((t) => t.taskId === taskId)) break;
        if (Date.now() > end) throw new Error(`joint task ${taskId} of ${id} never reached 吴江`);
        await sleep(50);
      }
      for (const [step, action] of [["accept", { kind: { case: "jointTaskResponse", value: { taskId, accepted: true } } }], ["done", { kind: { case: "jointTaskResult", value: { taskId, success: true, summary: `${taskId} done` } } }]]) {
        await call(`${step} ${taskId}`, () => client[WUJIANG].actOnCase({ caseId: id, requestId: `rel-joint-${seed}-${i}-${taskId}-${step}`, action }));
      }
    }
    jointIds.push(id);
  }
  const jointIds = [];

  // Chaos: kill -9 one node or the other at random moments, restart it after a random pause.
  let chaosDone = false;
  const chaos = (async () => {
    for (let c = 0; c < cycles; c++) {
      await sleep(150 + random() * 900);
      const victim = nodes[random() < 0.5 ? QINGPU : WUJIANG];
      await kill(victim);
      await sleep(50 + random() * 600);
      await start(victim);
      victim.restarts++;
      log(`cycle ${c + 1}/${cycles}: kill -9 ${victim.id}, restarted`);
    }
    chaosDone = true;
  })();

  const caseIds = [];
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    for (;;) {
      // Keep load going until the chaos ends, and at least `cases` cases.
      if (next >= caseCount && chaosDone) return;
      const i = next++;
      if (i % 4 === 3) {
        await oneJoint(i);
        continue;
      }
      caseIds.push(await oneCase(i));
      if (caseIds.length % 10 === 0) log(`${caseIds.length} cases done`);
    }
  });
  await Promise.all([chaos, ...workers]);

  // Invariants.
  const problems = [];
  let messages = 0;
  for (const caseId of caseIds) {
    const q = await waitState(QINGPU, caseId, CaseState.RESULT_DELIVERED);
    const w = await waitState(WUJIANG, caseId, CaseState.RESULT_DELIVERED, (v) => v.timeline.some((t) => t.site === QINGPU && t.messageType !== 0 && t.note?.startsWith("EMS")));
    for (const [id, view, partnerView] of [[QINGPU, q, w], [WUJIANG, w, q]]) {
      const seen = new Set();
      for (const t of view.timeline) {
        if (t.messageId === "" || t.site !== (id === QINGPU ? WUJIANG : QINGPU)) continue;
        // A receipt-implied delivery step shares the id of the message that implied it.
        if (t.messageType === MessageType.TECHNICAL_RECEIPT) continue;
        if (seen.has(t.messageId)) problems.push(`${id} applied ${t.messageId} twice in case ${caseId}`);
        seen.add(t.messageId);
      }
      const own = [...new Set(view.timeline.filter((t) => t.site === id && t.messageId !== "").map((t) => t.messageId))];
      for (const messageId of own) {
        messages++;
        const s = await call("status", () => client[id].getMessageStatus({ messageId }));
        if (s.status !== MessageStatus.ACKNOWLEDGED || s.receipt === undefined) problems.push(`${id} message ${messageId} is ${MessageStatus[s.status]}`);
        if (!partnerView.timeline.some((t) => t.messageId === messageId)) problems.push(`${messageId} from ${id} is missing at the partner (case ${caseId})`);
      }
    }
  }
  // Joint cases: completed at the lead and told to the site, every task completed once.
  for (const id of jointIds) {
    const end = Date.now() + 180_000;
    for (;;) {
      const [lead, site] = await Promise.all([QINGPU, WUJIANG].map((n) => client[n].getJointCase({ jointCaseId: id }).then((r) => r.view, () => undefined)));
      if (lead?.overall === "completed" && site?.overall === "completed") {
        const completions = lead.timeline.filter((t) => t.note.startsWith("complete →"));
        if (completions.length !== 2) problems.push(`joint case ${id}: ${completions.length} completions at the lead`);
        break;
      }
      if (Date.now() > end) {
        problems.push(`joint case ${id} never completed at both nodes (lead ${lead?.overall}, site ${site?.overall})`);
        break;
      }
      await sleep(50);
    }
  }
  for (const id of ids) client[id].close();
  for (const id of ids) {
    nodes[id].child.kill("SIGTERM");
    await nodes[id].exited;
  }
  // The indexes kept beside the records (case numbers, open cases, deadlines, the outbox ledger, uploads under way)
  // were written in the records' batches: after every kill they must still agree with the records.
  for (const id of ids) {
    const store = await openLevelStore(nodes[id].dataDir);
    try {
      for (const p of await checkIndexes(store)) problems.push(`${id} index: ${p}`);
    } finally {
      await store.close();
    }
  }
  if (!options.keep) rmSync(dir, { recursive: true, force: true });
  const result = {
    seed,
    cycles,
    mode: pull ? "pull" : "push",
    kills: Object.fromEntries(ids.map((id) => [id, nodes[id].kills])),
    cases: caseIds.length,
    jointCases: jointIds.length,
    messagesChecked: messages,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    invariants: {
      everyCaseFinalAtBothNodes: !problems.some((p) => p.includes("never completed")),
      noReceiptedMessageLost: !problems.some((p) => !p.includes(" index: ") && (p.includes("missing") || p.includes(" is "))),
      noEffectTwice: !problems.some((p) => p.includes("twice")),
      indexesMatchRecords: !problems.some((p) => p.includes(" index: ")),
    },
    problems,
    ...(options.keep ? { dir } : {}),
  };
  if (problems.length > 0) throw Object.assign(new Error(`reliability invariants broken (seed ${seed}): ${problems.slice(0, 5).join("; ")}`), { result });
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const argv = process.argv.slice(2);
  const arg = (n, d) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
  try {
    const r = await runReliability({ cycles: arg("--cycles", 20), cases: arg("--cases", 40), concurrency: arg("--concurrency", 6), seed: arg("--seed", undefined), keep: argv.includes("--keep"), pull: argv.includes("--pull") });
    if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      process.stdout.write(`Reliability: ${r.cycles} kill -9/restart cycles (${QINGPU}: ${r.kills[QINGPU]}, ${WUJIANG}: ${r.kills[WUJIANG]}), ${r.cases} remote-receipt and ${r.jointCases} joint cases, ${r.messagesChecked} messages checked, ${r.seconds} s, seed ${r.seed}\n`);
      for (const [k, v] of Object.entries(r.invariants)) process.stdout.write(`  ${v ? "held  " : "BROKEN"} ${k}\n`);
    }
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
