import { TongbanError, caseActionForMessage, openCase, transition, type CaseRole, type CaseSnapshot } from "@tongban/sdk";
import { CaseState, HandlingMode, MessageType } from "@tongban/sdk/gen";
import type { EffectHandler } from "../inbox/intake.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";

/** One step of a case as this node saw it. */
export interface TimelineStep {
  readonly at: string;
  /** The node the step came from. */
  readonly site: string;
  readonly messageId: string;
  readonly type: string;
  readonly state: string;
}

/** A case as the node stores it: the state machine's snapshot plus who and what. */
export interface CaseRecord {
  readonly snapshot: CaseSnapshot;
  /** This node's role in the case. */
  readonly role: CaseRole;
  /** The node on the other side. */
  readonly partner: string;
  readonly basicCode: string;
  readonly timeline: readonly TimelineStep[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Reads a case record, or undefined. */
export async function readCase(store: Store, caseId: string): Promise<CaseRecord | undefined> {
  const v = await store.get(storeKeys.case.key(caseId));
  return v === undefined ? undefined : (JSON.parse(dec.decode(v)) as CaseRecord);
}

/** The operation that writes a case record. */
export function caseOps(record: CaseRecord): BatchOp[] {
  return [{ type: "put", key: storeKeys.case.key(record.snapshot.caseId), value: enc.encode(JSON.stringify(record)) }];
}

/**
 * Applies what partners send to the cases of this node, through the SDK's
 * case state machine (docs/lifecycle.md):
 *
 * - an APPLICATION_SUBMISSION opens the handling site's copy of the case at
 *   DELIVERED (remote receipt and full online alike); a second submission
 *   for the same case id is CASE_INVALID_TRANSITION;
 * - a message that maps to a case action (acceptance, refusal, correction,
 *   suspension, decision, result, delivery, withdrawal, evaluation) moves the
 *   case, performed by the sender's role; an invalid step is
 *   CASE_INVALID_TRANSITION and nothing is applied;
 * - only the case's partner may act on it (AUTH_NOT_ALLOWED), and a message
 *   for an unknown case is CASE_NOT_FOUND;
 * - other messages (status updates, receipts) only join the timeline.
 */
export function caseEffects(options: { readonly selfNodeId: string }): EffectHandler {
  return async (m, store) => {
    const { header, body } = m;
    const at = new Date();
    const step = (state: CaseState): TimelineStep => ({ at: at.toISOString(), site: header.sender, messageId: header.messageId, type: MessageType[header.type] ?? String(header.type), state: CaseState[state] ?? String(state) });
    if (header.caseId === "") return [];
    const existing = await readCase(store, header.caseId);

    if (body.kind.case === "applicationSubmission") {
      if (existing !== undefined) {
        throw new TongbanError("CASE_INVALID_TRANSITION", `case ${header.caseId} is already open here`, { details: { caseId: header.caseId, from: CaseState[existing.snapshot.state], action: "submit" } });
      }
      const sub = body.kind.value;
      if (sub.mode !== HandlingMode.REMOTE_RECEIPT && sub.mode !== HandlingMode.FULL_ONLINE) {
        throw new TongbanError("CASE_INVALID_TRANSITION", "only remote-receipt and full-online cases open by submission; joint cases open by task assignment", { details: { mode: HandlingMode[sub.mode] } });
      }
      const snapshot = openCase({ caseId: header.caseId, mode: sub.mode, at, state: CaseState.DELIVERED });
      return caseOps({ snapshot, role: "handling", partner: header.sender, basicCode: sub.item?.basicCode ?? "", timeline: [step(snapshot.state)] });
    }

    if (existing === undefined) throw new TongbanError("CASE_NOT_FOUND", `no case ${header.caseId} at ${options.selfNodeId}`, { details: { caseId: header.caseId } });
    if (existing.partner !== header.sender) {
      throw new TongbanError("AUTH_NOT_ALLOWED", `${header.sender} is not the partner of case ${header.caseId}`, { details: { caseId: header.caseId, sender: header.sender } });
    }
    const action = caseActionForMessage(header.type);
    if (action === undefined) return caseOps({ ...existing, timeline: [...existing.timeline, step(existing.snapshot.state)] });
    // The sender performed the action, in its role: the other one than ours.
    const actor: CaseRole = existing.role === "handling" ? "receiving" : "handling";
    const snapshot = transition(existing.snapshot, { action, role: actor, at });
    return caseOps({ ...existing, snapshot, timeline: [...existing.timeline, step(snapshot.state)] });
  };
}
