/**
 * Shared by the end-to-end tests of this folder: polling, material uploads,
 * a standard application and a remote-receipt case run to the end. Only
 * {@link until} is exported from the package (the cross-package tests poll too).
 */
import { createHash } from "node:crypto";
import { TrustStore, verifyEnvelope, type PlatformClient } from "@tongban/sdk";
import { CaseState, DecisionOutcome, DeliveryMethod, HandlingMode, MessageStatus, type CaseView } from "@tongban/sdk/gen";
import type { LocalFederation } from "./local-federation.js";

/** Polls `probe` until it returns a value (errors count as "not yet"), or fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads one small material per national code (content made unique by `salt`) and returns their references. */
export async function uploadMaterials(client: PlatformClient, salt: string, codes: readonly string[] = ["M001", "M002", "M003"]) {
  const materials = [];
  for (const code of codes) {
    const data = new TextEncoder().encode(`${code} ${salt}`);
    const digest = createHash("sha256").update(data).digest();
    await client.uploadMaterial((async function* () {
      yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: 0n, data };
    })());
    materials.push({ materialId: code, name: code, nationalCode: code, size: BigInt(data.length), digest, digestAlgorithm: "sha256" });
  }
  return materials;
}


/** Waits until the case is in `state` at the node `client` talks to. */
export const stateAt = (client: PlatformClient, caseId: string, state: CaseState): Promise<CaseView> =>
  until(`${CaseState[state]}`, async () => {
    const v = (await client.getCase({ caseId })).view;
    return v?.state === state ? v : undefined;
  });

/** Submits the standard test application (青浦's item 11310118310118012U000TB00000101) for `handlingNode`; returns the case id. */
export async function submitApplication(client: PlatformClient, handlingNode: string, requestId: string): Promise<string> {
  const materials = await uploadMaterials(client, requestId);
  const { view } = await client.submitApplication({
    requestId,
    handlingNode,
    application: {
      mode: HandlingMode.REMOTE_RECEIPT,
      item: { receivingCode: "11310118310118012U000TB00000101" },
      applicant: { name: "张三", idNumber: "11010519491231002X" },
      form: [{ name: "申请人姓名", value: "张三" }, { name: "出生日期", value: "19491231" }, { name: "性别", value: "男" }, { name: "联系地址", value: "江苏省|苏州市|吴江区" }],
      materials,
    },
  });
  return view!.caseId;
}

/**
 * A remote-receipt case from the receiving window (`receiving`) to the handling site (`handling`, node
 * `handlingNode`), handled to the end: accepted, approved, result posted and its delivery confirmed —
 * messages both ways. Returns the case id once both sites show RESULT_DELIVERED.
 */
export async function runRemoteReceiptCase(receiving: PlatformClient, handling: PlatformClient, handlingNode: string, requestId: string): Promise<string> {
  const caseId = await submitApplication(receiving, handlingNode, requestId);
  await stateAt(handling, caseId, CaseState.DELIVERED);
  type Action = NonNullable<Parameters<PlatformClient["actOnCase"]>[0]["action"]>;
  const act = (client: PlatformClient, action: Action) => client.actOnCase({ caseId, requestId: `${requestId}-${action.kind?.case}`, action });
  await act(handling, { kind: { case: "acceptance", value: {} } });
  await act(handling, { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED } } });
  await act(handling, { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.POST } } });
  await stateAt(receiving, caseId, CaseState.RESULT_SENT);
  await act(receiving, { kind: { case: "deliveryConfirmation", value: { method: DeliveryMethod.POST } } });
  await stateAt(handling, caseId, CaseState.RESULT_DELIVERED);
  await stateAt(receiving, caseId, CaseState.RESULT_DELIVERED);
  return caseId;
}

/** A page of a node's operator console, after signing in with an operator token (as a browser does). */
export async function consolePage(base: string, token: string, path: string): Promise<string> {
  const login = await fetch(`${base}/login`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${token}`, redirect: "manual" });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
  return (await fetch(`${base}${path}`, { headers: { cookie } })).text();
}

/**
 * Every message `node` sent for the case (its own timeline entries) is ACKNOWLEDGED with a technical receipt that
 * `partner` signed for exactly that message, verified under the federation root. Returns how many messages that is.
 */
export async function expectReceipts(fed: LocalFederation, node: string, partner: string, view: CaseView): Promise<number> {
  const trust = new TrustStore({ anchor: fed.root.certificatePem });
  for (const n of fed.nodes.values()) trust.addCertificate(n.certificates.signing.certificatePem);
  const client = fed.node(node).platform!;
  const ids = [...new Set(view.timeline.filter((t) => t.site === node && t.messageId !== "").map((t) => t.messageId))];
  for (const messageId of ids) {
    const s = await until(`receipt of ${messageId}`, async () => {
      const r = await client.getMessageStatus({ messageId });
      return r.status === MessageStatus.ACKNOWLEDGED ? r : undefined;
    });
    if (s.receipt === undefined) throw new Error(`${messageId} is ACKNOWLEDGED without a receipt`);
    const v = await verifyEnvelope(s.receipt, { self: node, resolver: trust });
    const body = v.body?.kind.case === "technicalReceipt" ? v.body.kind.value : undefined;
    if (v.signer.nodeId !== partner || body?.receivedMessageId !== messageId) {
      throw new Error(`the receipt of ${messageId} is ${v.signer.nodeId}'s for ${body?.receivedMessageId ?? "no message"}, not ${partner}'s for it`);
    }
  }
  return ids.length;
}
