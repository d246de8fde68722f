import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DeadlineClock, TongbanError, resolveItem, type Calendar, type MappingRegistry, type ServiceImpl } from "@tongban/sdk";
import {
  CaseState,
  CaseViewSchema,
  JointCaseViewSchema,
  DeadlineLevel,
  EnvelopeSchema,
  HandlingMode,
  MessageStatus,
  MessageType,
  PlatformService,
  type CaseView,
} from "@tongban/sdk/gen";
import type { CaseDesk } from "../handlers/case-desk.js";
import type { JointDesk, JointRecord } from "../handlers/joint.js";
import { regionOfNode } from "../handlers/case-desk.js";
import type { CaseRecord } from "../handlers/case-effects.js";
import type { EventLog, NodeEvent } from "../handlers/events.js";
import type { MaterialStore } from "../handlers/materials.js";
import type { Outbox, OutboxStatus } from "../outbox/outbox.js";

/** What the platform service is built from. */
export interface PlatformServiceDeps {
  readonly nodeId: string;
  readonly desk: CaseDesk;
  readonly joint?: JointDesk;
  readonly outbox: Outbox;
  readonly materials: MaterialStore;
  readonly events: EventLog;
  readonly registry: () => MappingRegistry | undefined;
  readonly calendar?: Calendar | undefined;
  readonly now?: () => Date;
}

const STATUS: Record<OutboxStatus, MessageStatus> = {
  QUEUED: MessageStatus.QUEUED,
  SENDING: MessageStatus.SENDING,
  ACKNOWLEDGED: MessageStatus.ACKNOWLEDGED,
  RETRY_WAIT: MessageStatus.RETRY_WAIT,
  FAILED: MessageStatus.FAILED,
  REJECTED: MessageStatus.REJECTED,
};
const LEVEL = { green: DeadlineLevel.GREEN, yellow: DeadlineLevel.YELLOW, red: DeadlineLevel.RED, stopped: DeadlineLevel.STOPPED } as const;

/** A stored case as the API shows it. */
export function caseView(r: CaseRecord, now: Date, calendar?: Calendar): CaseView {
  const stateOf = (name: string) => CaseState[name as keyof typeof CaseState] ?? CaseState.UNSPECIFIED;
  let deadline;
  if (r.deadline !== undefined && calendar !== undefined) {
    const clock = DeadlineClock.fromJSON(calendar, r.deadline);
    const s = clock.status(now);
    deadline = { dueAt: timestampFromDate(s.dueAt), level: LEVEL[s.level], workingDays: r.deadline.workingDays, clockStopped: clock.stopped };
  }
  return create(CaseViewSchema, {
    caseId: r.snapshot.caseId,
    caseNumber: r.caseNumber ?? "",
    mode: r.snapshot.mode,
    state: r.snapshot.state,
    role: r.role,
    partner: r.partner,
    item: { basicCode: r.basicCode, receivingCode: r.item?.receivingCode ?? "", handlingCode: r.item?.handlingCode ?? "", name: r.item?.name ?? "" },
    tables: (r.tables ?? []).map((t) => ({ publisher: t.publisher, kind: t.kind, version: t.version, digest: Buffer.from(t.digest, "hex") })),
    timeline: r.timeline.map((t) => ({
      at: timestampFromDate(new Date(t.at)),
      site: t.site,
      state: stateOf(t.state),
      messageType: MessageType[t.type as keyof typeof MessageType] ?? MessageType.UNSPECIFIED,
      messageId: t.messageId,
      note: t.note ?? "",
    })),
    ...(deadline === undefined ? {} : { deadline }),
    createdAt: timestampFromDate(new Date(r.createdAt ?? r.snapshot.updatedAt)),
    updatedAt: timestampFromDate(new Date(r.snapshot.updatedAt)),
  });
}

/** A joint case as the API shows it. */
export function jointCaseView(r: JointRecord) {
  return create(JointCaseViewSchema, {
    jointCaseId: r.jointCaseId,
    lead: r.lead,
    overall: r.overall,
    bundle: r.bundle,
    role: r.role,
    tasks: r.order.map((id) => {
      const t = r.tasks[id]!;
      return { taskId: id, site: t.site, item: t.item, state: t.snapshot.state, dependsOn: [...t.dependsOn], summary: t.summary ?? "" };
    }),
    timeline: r.timeline.map((t) => ({
      at: timestampFromDate(new Date(t.at)),
      site: t.site,
      state: CaseState.UNSPECIFIED,
      messageType: MessageType[t.type as keyof typeof MessageType] ?? MessageType.UNSPECIFIED,
      messageId: t.messageId,
      note: `${t.type}${t.state === "" ? "" : ` → ${t.state}`}${t.note === undefined ? "" : `: ${t.note}`}`,
    })),
  });
}

/**
 * PlatformService: the city's own platform talks to its node here
 * (docs/node.md "Platform API"). Submissions and actions go through the
 * case desk; reads come from the store; WatchEvents streams the durable
 * event log from a cursor and then follows it live.
 */
export function platformService(deps: PlatformServiceDeps): ServiceImpl<typeof PlatformService> {
  const now = deps.now ?? (() => new Date());
  const view = (r: CaseRecord) => caseView(r, now(), deps.calendar);
  return {
    async submitApplication(req) {
      if (req.application === undefined) throw new TongbanError("ENVELOPE_MALFORMED", "SubmitApplicationRequest has no application");
      const r = await deps.desk.submit({ requestId: req.requestId, handlingNode: req.handlingNode, handlingRegion: req.handlingRegion, application: req.application });
      return { view: view(r) };
    },
    async uploadMaterial(requests) {
      const info = await deps.materials.put(requests);
      return { digest: Buffer.from(info.digest, "hex"), size: BigInt(info.size) };
    },
    async actOnCase(req) {
      if (req.action === undefined) throw new TongbanError("ENVELOPE_MALFORMED", "ActOnCaseRequest has no action");
      if (deps.joint !== undefined && (await deps.joint.get(req.caseId)) !== undefined) {
        // A joint case: the answer carries no CaseView; GetJointCase shows it.
        await deps.joint.act(req.caseId, req.action, req.requestId);
        return {};
      }
      const r = await deps.desk.act(req.caseId, req.requestId, req.action);
      return { view: view(r) };
    },
    async getCase(req) {
      let r = req.caseId === "" ? undefined : await deps.desk.get(req.caseId);
      if (r === undefined && req.caseNumber !== "") r = await deps.desk.byNumber(req.caseNumber);
      if (r === undefined) throw new TongbanError("CASE_NOT_FOUND", `no case ${req.caseId || req.caseNumber} at ${deps.nodeId}`);
      return { view: view(r) };
    },
    async listCases(req) {
      const limit = Math.min(req.pageSize === 0 ? 50 : req.pageSize, 500);
      const page = await deps.desk.list({ state: req.state, mode: req.mode, partner: req.partner, after: req.pageToken, limit: limit + 1 });
      const more = page.length > limit;
      const cases = page.slice(0, limit);
      return { cases: cases.map(view), nextPageToken: more ? (cases.at(-1)?.snapshot.caseId ?? "") : "" };
    },
    async getMessageStatus(req) {
      const r = await deps.outbox.status(req.messageId);
      if (r === undefined) throw new TongbanError("CASE_NOT_FOUND", `no outbound message ${req.messageId} at ${deps.nodeId}`);
      return {
        messageId: r.messageId,
        status: STATUS[r.status],
        attempts: r.attempts,
        lastError: r.lastError === undefined ? "" : `${r.lastError.code}: ${r.lastError.message}`,
        ...(r.nextAttemptAt === undefined || (r.status !== "RETRY_WAIT" && r.status !== "QUEUED") ? {} : { nextAttemptAt: timestampFromDate(new Date(r.nextAttemptAt)) }),
        ...(r.receipt === undefined ? {} : { receipt: fromBinary(EnvelopeSchema, Buffer.from(r.receipt, "base64")) }),
      };
    },
    async resolveItem(req) {
      const registry = deps.registry();
      if (registry === undefined) throw new TongbanError("MAPPING_TABLE_INVALID", "this node has no mapping tables loaded (config mapping.tablesDir)");
      const mode = req.mode === HandlingMode.FULL_ONLINE ? "full_online" : req.mode === HandlingMode.JOINT ? "joint" : "remote_receipt";
      const r = resolveItem(registry, { receivingRegion: req.receivingRegion || regionOfNode(deps.nodeId), handlingRegion: req.handlingRegion, item: req.item, mode });
      return { resolved: r.ok, gapCode: r.ok ? "" : r.code, resultJson: JSON.stringify(r) };
    },
    async submitJointCase(req) {
      if (deps.joint === undefined) throw new TongbanError("UNIMPLEMENTED", "this node does not lead joint cases");
      const r = await deps.joint.submit({
        requestId: req.requestId,
        bundle: req.bundle,
        plan: req.plan.map((t) => ({ taskId: t.taskId, site: t.site, item: t.item?.receivingCode || t.item?.basicCode || t.item?.handlingCode || "", dependsOn: t.dependsOn, materials: t.materials.map((m) => m.materialId) })),
        ...(req.applicant === undefined ? {} : { applicant: req.applicant }),
        form: req.form,
        materials: req.materials,
      });
      return { view: jointCaseView(r) };
    },
    async getJointCase(req) {
      const r = await deps.joint?.get(req.jointCaseId);
      if (r === undefined) throw new TongbanError("CASE_NOT_FOUND", `no joint case ${req.jointCaseId} at ${deps.nodeId}`);
      return { view: jointCaseView(r) };
    },
    async *watchEvents(req, ctx) {
      let cursor = req.after === "" ? -1 : Number(req.after);
      if (!Number.isSafeInteger(cursor)) throw new TongbanError("ENVELOPE_MALFORMED", `cursor ${req.after} is not one this node gave out`);
      let wake: (() => void) | undefined;
      const unsubscribe = deps.events.subscribe(() => wake?.());
      try {
        while (!ctx.signal.aborted) {
          let sent = 0;
          for await (const e of deps.events.read(cursor)) {
            cursor = e.seq;
            sent++;
            yield toResponse(e);
          }
          if (sent > 0) continue;
          // Wait for new events (or a second, or the caller leaving).
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 1_000);
            const done = () => {
              clearTimeout(t);
              resolve();
            };
            wake = done;
            ctx.signal.addEventListener("abort", done, { once: true });
          });
          wake = undefined;
        }
      } finally {
        unsubscribe();
      }
    },
  };
}

function toResponse(e: NodeEvent) {
  const { seq, at, type, caseId, ...rest } = e;
  return { cursor: String(seq), type, caseId: caseId ?? "", at: timestampFromDate(new Date(at)), dataJson: JSON.stringify(rest) };
}
