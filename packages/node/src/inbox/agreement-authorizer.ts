import { TongbanError, resolveItem, type HandlingModeName, type MappingRegistry } from "@tongban/sdk";
import { HandlingMode } from "@tongban/sdk/gen";
import type { Authorizer } from "./intake.js";

const MODE_NAMES: Partial<Record<HandlingMode, HandlingModeName>> = {
  [HandlingMode.FULL_ONLINE]: "full_online",
  [HandlingMode.REMOTE_RECEIPT]: "remote_receipt",
  [HandlingMode.JOINT]: "joint",
};

/** The GB/T 2260 region a node id names (`cn.<region>.<label>`). */
function regionOf(nodeId: string): string {
  return nodeId.split(".")[1] ?? "";
}

/**
 * Authorises application submissions by the partner agreements in force:
 * the sender's region (receiving site) may submit an item to this node's
 * region (handling site) only if the mapping tables resolve it — the item is
 * offered here, an agreement covering both regions, the item and the mode
 * is in force today, the mode is supported. Otherwise AUTH_NOT_ALLOWED, with
 * the gap code that explains why.
 *
 * Messages inside an existing case (status, decisions, …) are the case
 * handlers' to check against the case's partner; this authoriser lets them pass.
 */
export function agreementAuthorizer(options: { readonly registry: () => MappingRegistry | undefined; readonly selfNodeId: string; readonly today?: () => string }): Authorizer {
  return (m) => {
    // No tables (none configured, none fetched yet): nothing to check against; the node warned at start.
    const registry = options.registry();
    if (registry === undefined) return;
    if (m.body.kind.case === "jointTaskAssignment") {
      // A sub-task of a joint case: the lead (the sender) and this node must have an agreement for the item in joint mode.
      const task = m.body.kind.value.task;
      const item = task?.item?.handlingCode || task?.item?.basicCode || "";
      const r = resolveItem(registry, { receivingRegion: regionOf(m.header.sender), handlingRegion: regionOf(options.selfNodeId), item, mode: "joint", ...(options.today ? { date: options.today() } : {}) });
      if (!r.ok && r.code !== "GAP_MATERIAL_UNMAPPED") {
        throw new TongbanError("AUTH_NOT_ALLOWED", `${m.header.sender} may not assign this joint sub-task here: ${r.message}`, { details: { sender: m.header.sender, item, gap: r.code } });
      }
      return;
    }
    if (m.body.kind.case !== "applicationSubmission") return;
    const sub = m.body.kind.value;
    const item = sub.item?.handlingCode || sub.item?.basicCode || sub.item?.receivingCode || "";
    const mode = MODE_NAMES[sub.mode];
    const deny = (reason: string, gap?: string): never => {
      throw new TongbanError("AUTH_NOT_ALLOWED", `${m.header.sender} may not submit this application here: ${reason}`, {
        details: { sender: m.header.sender, item, ...(gap === undefined ? {} : { gap }) },
      });
    };
    if (item === "") deny("the submission names no item");
    if (mode === undefined) deny("the submission names no handling mode");
    const r = resolveItem(registry, {
      receivingRegion: regionOf(m.header.sender),
      handlingRegion: regionOf(options.selfNodeId),
      item,
      mode: mode as HandlingModeName,
      ...(options.today ? { date: options.today() } : {}),
    });
    // Material counterparts are the receiving window's concern, not an authorisation question.
    if (!r.ok && r.code !== "GAP_MATERIAL_UNMAPPED") deny(r.message, r.code);
  };
}
