/**
 * The operator console in a real browser (Debian's Chromium, headless,
 * driven by playwright-core) against a real node: LevelDB, its intake and
 * outbox, a case received from a partner, a deadline that turned red on the
 * node's clock, a delivery that failed and is retried from the UI.
 * Screenshots are kept in tests/artifacts/console/.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeNode, createNodeLogger, createNodeMetrics, initNodeDirectory, openLevelStore, platformTokenDigest, startConsole, verifyNodeConfig, type ComposedNode, type ConsoleHandle } from "@tongban/node";
import { TongbanError, createEnvelope, createFederationRoot, issueNodeCertificates, newMessageId } from "@tongban/sdk";
import { HandlingMode } from "@tongban/sdk/gen";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const shots = join(here, "artifacts", "console");
const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const OPERATOR = "tbc_operator-token";
const VIEWER = "tbc_viewer-token";

let dir: string;
let node: ComposedNode;
let store: Awaited<ReturnType<typeof openLevelStore>>;
let consoleHandle: ConsoleHandle;
let browser: Browser;
let caseId = "";
let failedId = "";
let now = new Date("2025-09-30T01:00:00Z");

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the console tests need Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`);
  mkdirSync(shots, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), "tongban-console-"));
  const notBefore = new Date("2025-09-01T00:00:00Z");
  const validityDays = Math.ceil((Date.now() - notBefore.getTime()) / 86_400_000) + 30;
  const root = await createFederationRoot({ name: "console test root", validityDays, notBefore });
  const qingpu = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays, notBefore });
  const init = await initNodeDirectory({
    dir: join(dir, "wujiang"),
    nodeId: WUJIANG,
    ca: root,
    tablesDir: join(here, "..", "examples", "mapping"),
    validityDays,
    notBefore,
    peers: [],
    adjust: (c) => ({ ...c, retry: { ...c.retry, policy: { ...c.retry.policy, baseDelayMs: 20, minDelayMs: 10, maxDelayMs: 50, deadlineMs: 200 } } }),
  });
  const { trust } = await verifyNodeConfig(init.config);
  trust.addCertificate(qingpu.signing.certificatePem);
  store = await openLevelStore(init.config.dataDir);
  // A partner that is down: every delivery fails until the operator retries later.
  const sender = async (): Promise<Uint8Array> => {
    throw new TongbanError("TRANSPORT_UNAVAILABLE", "partner down (console test)");
  };
  node = await composeNode({ config: init.config, store, trust, logger: createNodeLogger({ nodeId: WUJIANG, level: "silent" }), metrics: createNodeMetrics({ nodeId: WUJIANG, processMetrics: false }), clock: () => now }, { sender });
  for (const s of node.services ?? []) if (s.name === "outbox") await s.start?.();
  // 青浦 forwards a case; 吴江 accepts it on 30 September 2025.
  caseId = newMessageId();
  const m = await createEnvelope({
    body: { kind: { case: "applicationSubmission", value: { mode: HandlingMode.REMOTE_RECEIPT, item: { basicCode: "00TB00000101", name: "补发婚姻登记证" } } } },
    sender: QINGPU,
    recipient: WUJIANG,
    caseId,
    sequence: 1,
    signer: { kid: qingpu.signing.kid, privateKey: createPrivateKey(qingpu.signing.privateKeyPem), algorithm: "ES256" },
    encryptTo: new X509Certificate(init.certificates.tls.certificatePem).publicKey,
    now,
  });
  await node.intake.deliver(m.bytes, { nodeId: QINGPU });
  // The acceptance goes to 青浦, which is down: it will fail.
  const accepted = await node.desk.act(caseId, "accept", { kind: { case: "acceptance", value: {} } });
  failedId = accepted.timeline.at(-1)!.messageId;
  for (let i = 0; i < 100 && (await node.outbox.status(failedId))?.status !== "FAILED"; i++) await new Promise((r) => setTimeout(r, 50));
  // Ten days later: the one promised working day is long past.
  now = new Date("2025-10-10T02:00:00Z");
  await node.checkDeadlines();
  consoleHandle = await startConsole({
    nodeId: WUJIANG,
    host: "127.0.0.1",
    port: 0,
    users: [
      { name: "值班员", sha256: platformTokenDigest(OPERATOR), role: "operator" },
      { name: "访客", sha256: platformTokenDigest(VIEWER), role: "viewer" },
    ],
    node,
    store,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await consoleHandle?.close();
  for (const s of [...(node?.services ?? [])].reverse()) await s.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function login(page: Page, token: string): Promise<void> {
  await page.goto(`${consoleHandle.url}/login`);
  await page.fill('input[name="token"]', token);
  await page.click("form[action='/login'] button");
  await page.waitForURL(`${consoleHandle.url}/`);
}

describe("the operator console in Chromium", () => {
  it("shows nothing but the login page without a session, and refuses a wrong token", async () => {
    const page = await browser.newPage();
    const r = await page.goto(`${consoleHandle.url}/cases/${caseId}`);
    expect(page.url()).toBe(`${consoleHandle.url}/login`);
    expect(r?.status()).toBe(200);
    expect(await page.content()).not.toContain(caseId);
    await page.fill('input[name="token"]', "tbc_wrong");
    await page.click("form[action='/login'] button");
    expect(await page.textContent("[role=alert]")).toContain("401");
    const api = await fetch(`${consoleHandle.url}/outbox/${failedId}/retry`, { method: "POST", redirect: "manual" });
    expect(api.status).toBe(401);
    await page.close();
  });

  it("after login shows the overview in Chinese with the red deadline and the failed delivery, and English on request", async () => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await login(page, OPERATOR);
    expect(await page.getAttribute("html", "lang")).toBe("zh-CN");
    expect(await page.textContent("[data-testid=red-count]")).toBe("1");
    expect(await page.textContent("[data-testid=failed-count]")).toBe("1");
    expect(await page.textContent("h1")).toBe("概览");
    await page.screenshot({ path: join(shots, "overview-zh.png"), fullPage: true });
    await page.click("text=English");
    expect(await page.textContent("h1")).toBe("Overview");
    await page.close();
  });

  it("shows a case's timeline and its red deadline", async () => {
    const page = await browser.newPage();
    await login(page, OPERATOR);
    await page.goto(`${consoleHandle.url}/cases`);
    await page.click(`a[href="/cases/${caseId}"]`);
    expect(await page.textContent("[data-testid=case-state]")).toBe("ACCEPTED");
    expect(await page.textContent("[data-testid=deadline]")).toContain("red");
    expect(await page.$("[data-testid=materials]")).not.toBeNull();
    const rows = await page.$$eval("[data-testid=timeline] tr", (trs) => trs.map((tr) => tr.textContent ?? ""));
    expect(rows.some((r) => r.includes("APPLICATION_SUBMISSION"))).toBe(true);
    expect(rows.some((r) => r.includes("ACCEPTANCE"))).toBe(true);
    await page.screenshot({ path: join(shots, "case.png"), fullPage: true });
    await page.close();
  });

  it("a viewer cannot act; an operator retries the failed delivery from the UI", async () => {
    const viewer = await browser.newPage();
    await login(viewer, VIEWER);
    await viewer.goto(`${consoleHandle.url}/outbox`);
    expect(await viewer.$(`tr[data-message="${failedId}"] button`)).toBeNull();
    // Even posting the action by hand, with the viewer's own session and CSRF token, is refused.
    const csrf = await viewer.getAttribute("input[name=csrf]", "value");
    const status = await viewer.evaluate(
      async ([id, token]) => (await fetch(`/outbox/${id}/retry`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `csrf=${token}` })).status,
      [failedId, csrf ?? ""] as const,
    );
    expect(status).toBe(403);
    await viewer.close();

    const page = await browser.newPage();
    await login(page, OPERATOR);
    await page.goto(`${consoleHandle.url}/outbox`);
    expect(await page.textContent(`tr[data-message="${failedId}"] .status`)).toBe("FAILED");
    const before = (await node.outbox.status(failedId))!;
    await page.screenshot({ path: join(shots, "outbox-failed.png"), fullPage: true });
    await page.click(`tr[data-message="${failedId}"] form[action$="/retry"] button`);
    await page.waitForURL(`${consoleHandle.url}/outbox`);
    // Queued again and tried anew (the partner is still down here, so it may fail again: after a fresh first attempt).
    const after = (await node.outbox.status(failedId))!;
    expect(after.status !== "FAILED" || (after.firstAttemptAt ?? 0) > (before.firstAttemptAt ?? 0)).toBe(true);
    await page.screenshot({ path: join(shots, "outbox-retried.png"), fullPage: true });
    await page.close();
  });
});
