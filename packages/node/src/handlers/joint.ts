import type { KeyObject } from "node:crypto";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  TongbanError,
  assertJointCase,
  DeadlineClock,
  isJointTaskFinal,
  jointOverall,
  newMessageId,
  openJointTask,
  releasedTasks,
  strandedTasks,
  transitionJointTask,
  type Calendar,
  type EnvelopeSigner,
  type JointTaskAction,
  type JointTaskRole,
  type JointTaskSnapshot,
  type MappingRegistry,
} from "@tongban/sdk";
import {
  BodySchema,
  JointTaskAssignmentSchema,
  JointTaskSchema,
  JointTaskState,
  PartySchema,
  type Body,
  type FormField,
  type MaterialRef,
  type Party,
} from "@tongban/sdk/gen";
import type { AcceptedMessage, EffectHandler } from "../inbox/intake.js";
import type { KeyedSerializer } from "../inbox/keyed-serializer.js";
import type { Outbox } from "../outbox/outbox.js";
import type { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import type { TimelineStep } from "./case-effects.js";
import type { EventLog, NodeEvent } from "./events.js";
import type { MaterialStore } from "./materials.js";
import type { CaseDeskDeps } from "./case-desk.js";
import { outboundMessage } from "./outbound.js";

/** A shared material of a joint case. */
export interface JointMaterial {
  readonly materialId: string;
  readonly name: string;
  readonly nationalCode: string;
  readonly mediaType: string;
  readonly size: number;
  /** Hex SHA-256. */
  readonly digest: string;
}

/** One sub-task as a node keeps it. */
export interface JointTaskRecord {
  readonly taskId: string;
  readonly site: string;
  readonly item: { readonly basicCode: string; readonly receivingCode: string; readonly handlingCode: string; readonly name: string };
  readonly dependsOn: readonly string[];
  /** Material ids this task needs. */
  readonly materials: readonly string[];
  readonly snapshot: JointTaskSnapshot;
  readonly summary?: string;
  /** The promised working days of the item at its site (from the mapping tables). */
  readonly workingDays?: number;
  /** When the task is due (ISO), set when it is assigned: working days from the assignment. */
  readonly dueAt?: string;
  /** Set once the overdue alert was raised. */
  readonly overdue?: boolean;
}

/** A joint case (多地联办) as the lead or a participant keeps it. */
export interface JointRecord {
  readonly jointCaseId: string;
  readonly lead: string;
  readonly role: JointTaskRole;
  readonly bundle: string;
  readonly overall: "open" | "completed" | "failed" | "withdrawn";
  /** Task ids, dependencies first (at a participant: the tasks assigned here). */
  readonly order: readonly string[];
  readonly tasks: Readonly<Record<string, JointTaskRecord>>;
  readonly materials: readonly JointMaterial[];
  /** The applicant and form (Party and FormField protobufs, base64), sent with each assignment. */
  readonly applicant: string;
  readonly form: readonly { readonly name: string; readonly value: string }[];
  /** Per destination: the next per-case sequence number of this node's messages to it. */
  readonly nextSequence: Readonly<Record<string, number>>;
  readonly timeline: readonly TimelineStep[];
  readonly createdAt: string;
}

/** What the joint desk is built from: the case desk's parts. */
export type JointDeskDeps = CaseDeskDeps;

/** A lead's request to open a joint case. */
export interface SubmitJointInput {
  readonly requestId: string;
  readonly bundle?: string;
  readonly plan: readonly { readonly taskId: string; readonly site: string; readonly item: string; readonly dependsOn?: readonly string[]; readonly materials?: readonly string[] }[];
  readonly applicant?: Party | MessageInitShape<typeof PartySchema>;
  readonly form?: readonly { readonly name: string; readonly value: string }[];
  readonly materials?: readonly (MaterialRef | { readonly materialId: string; readonly name?: string; readonly nationalCode?: string; readonly mediaType?: string; readonly size?: bigint | number; readonly digest: Uint8Array })[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const requestKey = (id: string) => storeKeys.meta.key(`joint-request\u0000${id}`);
const actRequestKey = (id: string) => storeKeys.meta.key(`joint-act-request\u0000${id}`);
const materialsKey = (messageId: string) => storeKeys.meta.key(`outbox-materials\u0000${messageId}`);
const JOINT_BODIES = new Set(["jointTaskAssignment", "jointTaskResponse", "jointTaskProgress", "jointTaskResult", "jointTaskCancellation", "jointCaseStatus"]);
const S = JointTaskState;

/** True for the bodies of joint handling. */
export function isJointBody(body: Body): boolean {
  return body.kind.case !== undefined && JOINT_BODIES.has(body.kind.case);
}

/** Reads a joint case, or undefined. */
export async function readJoint(store: Store, jointCaseId: string): Promise<JointRecord | undefined> {
  const v = await store.get(storeKeys.joint.key(jointCaseId));
  return v === undefined ? undefined : (JSON.parse(dec.decode(v)) as JointRecord);
}

/** The operations that write a joint record, with its `joint-open` index entry (put while open, deleted after). */
export function jointOps(r: JointRecord): BatchOp[] {
  const open = storeKeys.jointOpen.key(r.jointCaseId);
  return [{ type: "put", key: storeKeys.joint.key(r.jointCaseId), value: enc.encode(JSON.stringify(r)) }, r.overall === "open" ? { type: "put", key: open, value: new Uint8Array(0) } : { type: "del", key: open }];
}

/** A change being built: the record, the store operations and the events. */
interface Change {
  record: JointRecord;
  readonly ops: BatchOp[];
  readonly emitted: NodeEvent[];
}

/**
 * Joint handling (多地联办, docs/joint-handling.md) at one node: as the lead
 * it opens the case, assigns the sub-tasks whose dependencies completed,
 * cancels the ones a refusal or failure strands, composes the overall
 * outcome and tells every site; as a participant it takes assignments and
 * reports its progress and result. Every change is one batch with its
 * outbound messages, so the same intake/outbox guarantees hold and a crash
 * anywhere resumes from the store.
 */
export class JointDesk {
  readonly #d: JointDeskDeps;
  readonly #now: () => Date;
  readonly #unsettled = new Map<string, NodeEvent[]>();

  constructor(deps: JointDeskDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  get(jointCaseId: string): Promise<JointRecord | undefined> {
    return readJoint(this.#d.store, jointCaseId);
  }

  /**
   * Opens a joint case with this node as the lead: the plan is checked as a
   * whole (DAG, every task resolved in joint mode under the agreements,
   * materials uploaded) before anything is sent; then the tasks without
   * dependencies are assigned.
   *
   * @throws TongbanError JOINT_PLAN_INVALID (details.problems: every problem), CASE_MATERIAL_MISSING.
   */
  async submit(input: SubmitJointInput): Promise<JointRecord> {
    const d = this.#d;
    if (input.requestId === "") throw new TongbanError("ENVELOPE_MALFORMED", "request_id is required (it makes the submission idempotent)");
    const prior = await d.store.get(requestKey(input.requestId));
    if (prior !== undefined) return (await this.get(dec.decode(prior)))!;
    const registry = d.registry();
    if (registry === undefined) throw new TongbanError("MAPPING_TABLE_INVALID", "this node has no mapping tables loaded (config mapping.tablesDir)");
    const materials: JointMaterial[] = [];
    for (const m of input.materials ?? []) {
      const info = await d.materials.info(m.digest);
      if (info?.complete !== true) throw new TongbanError("CASE_MATERIAL_MISSING", `material ${m.name ?? m.materialId} was not uploaded (UploadMaterial)`, { details: { digest: Buffer.from(m.digest).toString("hex") } });
      materials.push({ materialId: m.materialId, name: m.name ?? "", nationalCode: m.nationalCode ?? "", mediaType: m.mediaType ?? "", size: info.size, digest: info.digest });
    }
    const now = this.#now();
    const built = assertJointCase({ lead: d.nodeId, registry, tasks: input.plan, materials: materials.map((m) => m.materialId), date: now.toISOString().slice(0, 10) });
    for (const t of built.tasks) if (d.encryptionKeyOf(t.site) === undefined) throw new TongbanError("TRUST_UNKNOWN_SIGNER", `no certificate known for site ${t.site} (task ${t.taskId})`, { details: { site: t.site } });
    const jointCaseId = newMessageId();
    const tasks: Record<string, JointTaskRecord> = {};
    for (const t of built.tasks) tasks[t.taskId] = { taskId: t.taskId, site: t.site, item: t.item, dependsOn: t.dependsOn, materials: t.materials, snapshot: openJointTask(t, now), workingDays: t.promisedWorkingDays };
    const applicant = create(PartySchema, (input.applicant ?? {}) as MessageInitShape<typeof PartySchema>);
    const record: JointRecord = {
      jointCaseId,
      lead: d.nodeId,
      role: "lead",
      bundle: input.bundle ?? "",
      overall: "open",
      order: built.order,
      tasks,
      materials,
      applicant: Buffer.from(toBinary(PartySchema, applicant)).toString("base64"),
      form: (input.form ?? []).map((f) => ({ name: f.name, value: f.value })),
      nextSequence: {},
      timeline: [{ at: now.toISOString(), site: d.nodeId, messageId: "", type: "JOINT_CASE_OPENED", state: "open", note: `${built.tasks.length} sub-tasks${input.bundle ? ` (${input.bundle})` : ""}` }],
      createdAt: now.toISOString(),
    };
    return d.serializer.run(`case\u0000${jointCaseId}`, async () => {
      const c: Change = { record, ops: [], emitted: [] };
      try {
        this.#event(c, { type: "joint.opened", detail: { tasks: built.order, bundle: record.bundle } }, now);
        for (const id of built.order) if (c.record.tasks[id]!.snapshot.state === S.ASSIGNED) await this.#assign(c, id, now);
      } catch (err) {
        d.events.settle(c.emitted);
        throw err;
      }
      c.ops.push(...jointOps(c.record), { type: "put", key: requestKey(input.requestId), value: enc.encode(jointCaseId) });
      await this.#commit(c);
      return c.record;
    });
  }

  /**
   * A step this node takes on a joint case (ActOnCase): a participant
   * answers (JOINT_TASK_RESPONSE), reports progress (JOINT_TASK_PROGRESS) or
   * its result (JOINT_TASK_RESULT); the lead holds or cancels a task
   * (JOINT_TASK_CANCELLATION) or withdraws the whole case for the applicant
   * (WITHDRAWAL).
   */
  async act(jointCaseId: string, action: Body, requestId = ""): Promise<JointRecord> {
    const d = this.#d;
    return d.serializer.run(`case\u0000${jointCaseId}`, async () => {
      const record = await readJoint(d.store, jointCaseId);
      if (record === undefined) throw new TongbanError("CASE_NOT_FOUND", `no joint case ${jointCaseId} at ${d.nodeId}`, { details: { caseId: jointCaseId } });
      // The same request id again (a retry after a lost answer) is the step already taken.
      if (requestId !== "" && (await d.store.get(actRequestKey(requestId))) !== undefined) return record;
      const now = this.#now();
      const c: Change = { record, ops: [], emitted: [] };
      if (requestId !== "") c.ops.push({ type: "put", key: actRequestKey(requestId), value: enc.encode(jointCaseId) });
      try {
        await this.#apply(c, action, now);
      } catch (err) {
        d.events.settle(c.emitted);
        throw err;
      }
      c.ops.push(...jointOps(c.record));
      await this.#commit(c);
      return c.record;
    });
  }

  async #apply(c: Change, action: Body, now: Date): Promise<void> {
    const d = this.#d;
    const record = c.record;
    const jointCaseId = record.jointCaseId;
    {
      const k = action.kind;
      if (record.role === "participant") {
        let taskId: string;
        let step: JointTaskAction;
        let note = "";
        if (k.case === "jointTaskResponse") [taskId, step, note] = [k.value.taskId, k.value.accepted ? "accept" : "refuse", k.value.explanation];
        else if (k.case === "jointTaskProgress") [taskId, step, note] = [k.value.taskId, "start", k.value.note];
        else if (k.case === "jointTaskResult") [taskId, step, note] = [k.value.taskId, k.value.success ? "complete" : "fail", k.value.summary];
        else throw new TongbanError("CASE_INVALID_TRANSITION", `a participant answers with a task response, progress or result, not ${k.case ?? "nothing"}`, { details: { caseId: jointCaseId } });
        (k.value as { jointCaseId: string }).jointCaseId = jointCaseId;
        this.#step(c, taskId, step, "participant", now, d.nodeId, note);
        await this.#send(c, record.lead, create(BodySchema, action), now);
      } else if (k.case === "jointTaskCancellation") {
        const taskId = k.value.taskId;
        const task = record.tasks[taskId];
        if (task === undefined) throw new TongbanError("CASE_NOT_FOUND", `no sub-task ${taskId} in joint case ${jointCaseId}`, { details: { caseId: jointCaseId, taskId } });
        const wasAssigned = task.snapshot.state !== S.BLOCKED;
        this.#step(c, taskId, k.value.hold ? "hold" : "cancel", "lead", now, d.nodeId, k.value.explanation);
        k.value.jointCaseId = jointCaseId;
        if (wasAssigned) await this.#send(c, task.site, create(BodySchema, action), now);
        if (!k.value.hold) await this.#afterFinal(c, now);
      } else if (k.case === "withdrawal") {
        // 撤回: every task not final is cancelled; completed ones stay completed.
        for (const id of record.order) {
          const t = c.record.tasks[id]!;
          if (isJointTaskFinal(t.snapshot.state)) continue;
          const wasAssigned = t.snapshot.state !== S.BLOCKED;
          this.#step(c, id, "cancel", "lead", now, d.nodeId, k.value.reason);
          if (wasAssigned) await this.#send(c, t.site, create(BodySchema, { kind: { case: "jointTaskCancellation", value: { jointCaseId, taskId: id, reasonCode: "WITHDRAWN", explanation: k.value.reason } } }), now);
        }
        c.record = { ...c.record, overall: "withdrawn" };
        await this.#broadcast(c, now);
      } else {
        throw new TongbanError("CASE_INVALID_TRANSITION", `the lead acts on a joint case by cancellation, hold or withdrawal, not ${k.case ?? "nothing"}`, { details: { caseId: jointCaseId } });
      }
    }
  }

  /**
   * Raises `joint.task.overdue` (an alert) once for every sub-task past its
   * due time that is not final; the lead then holds or cancels it
   * (docs/joint-handling.md "Timeouts"). Called by the node's deadline watch.
   */
  async checkOverdue(): Promise<NodeEvent[]> {
    const d = this.#d;
    const now = this.#now();
    const raised: NodeEvent[] = [];
    const ids: string[] = [];
    // Only the joint cases still open (the joint-open index), not every one this node ever led.
    for await (const e of d.store.iterate(storeKeys.jointOpen.range())) ids.push(storeKeys.jointOpen.decode(e.key)[0]);
    for (const id of ids) {
      await d.serializer.run(`case\u0000${id}`, async () => {
        const record = await readJoint(d.store, id);
        if (record === undefined || record.overall !== "open") return;
        const c: Change = { record, ops: [], emitted: [] };
        for (const t of Object.values(record.tasks)) {
          if (t.dueAt === undefined || t.overdue === true || isJointTaskFinal(t.snapshot.state) || new Date(t.dueAt) > now) continue;
          c.record = { ...c.record, tasks: { ...c.record.tasks, [t.taskId]: { ...t, overdue: true } } };
          this.#event(c, { type: "joint.task.overdue", alert: true, detail: { taskId: t.taskId, site: t.site, dueAt: t.dueAt } }, now);
        }
        if (c.emitted.length === 0) return;
        c.ops.push(...jointOps(c.record));
        await this.#commit(c);
        raised.push(...c.emitted);
      });
    }
    return raised;
  }

  /** The intake's effect handler for joint bodies (the lead's and the participants' side). */
  readonly effects: EffectHandler = async (m, store) => {
    const c = await this.#receive(m, store);
    const key = `${m.header.sender} ${m.header.messageId}`;
    if (c.emitted.length > 0) this.#unsettled.set(key, c.emitted);
    return c.ops;
  };

  /** Call after the intake's batch for `${sender} ${messageId}` committed or failed. */
  settle(messageKey: string): void {
    const events = this.#unsettled.get(messageKey);
    if (events === undefined) return;
    this.#unsettled.delete(messageKey);
    this.#d.events.settle(events);
    this.#d.outbox.poke();
  }

  async #receive(m: AcceptedMessage, store: Store): Promise<Change> {
    const { header, body } = m;
    const k = body.kind;
    const now = this.#now();
    const existing = await readJoint(store, header.caseId);
    const c: Change = { record: existing as JointRecord, ops: [], emitted: [] };
    try {
      if (k.case === "jointTaskAssignment") {
        const a = k.value;
        const task = a.task;
        if (task === undefined || task.taskId === "") throw new TongbanError("ENVELOPE_MALFORMED", "a joint task assignment names no task");
        if (task.site !== this.#d.nodeId) throw new TongbanError("AUTH_NOT_ALLOWED", `task ${task.taskId} is for ${task.site}, not ${this.#d.nodeId}`, { details: { taskId: task.taskId } });
        if (existing !== undefined && existing.lead !== header.sender) throw new TongbanError("AUTH_NOT_ALLOWED", `${header.sender} is not the lead of joint case ${header.caseId}`);
        const known = existing?.tasks[task.taskId];
        if (known !== undefined) {
          // Re-sending the assignment lifts a hold; anything else is a step out of place.
          this.#step(c, task.taskId, "resume", "lead", now, header.sender, "resumed", header.messageId);
        } else {
          let snapshot = openJointTask({ taskId: task.taskId, dependsOn: task.dependsOn }, now);
          if (snapshot.state === S.BLOCKED) snapshot = transitionJointTask(snapshot, { action: "release", role: "lead", at: now });
          const t: JointTaskRecord = {
            taskId: task.taskId,
            site: task.site,
            item: { basicCode: task.item?.basicCode ?? "", receivingCode: task.item?.receivingCode ?? "", handlingCode: task.item?.handlingCode ?? "", name: task.item?.name ?? "" },
            dependsOn: [...task.dependsOn],
            materials: task.materials.map((x) => x.materialId),
            snapshot,
            ...(task.dueAt === undefined ? {} : { dueAt: timestampDate(task.dueAt).toISOString() }),
          };
          const base: JointRecord = existing ?? {
            jointCaseId: header.caseId,
            lead: header.sender,
            role: "participant",
            bundle: a.bundle,
            overall: "open",
            order: [],
            tasks: {},
            materials: [],
            applicant: Buffer.from(toBinary(PartySchema, a.applicant ?? create(PartySchema))).toString("base64"),
            form: a.form.map((f: FormField) => ({ name: f.name, value: f.value })),
            nextSequence: {},
            timeline: [],
            createdAt: now.toISOString(),
          };
          const materials = [...base.materials];
          for (const x of task.materials) {
            if (materials.some((y) => y.materialId === x.materialId)) continue;
            materials.push({ materialId: x.materialId, name: x.name, nationalCode: x.nationalCode, mediaType: x.mediaType, size: Number(x.size), digest: Buffer.from(x.digest).toString("hex") });
          }
          c.record = { ...base, order: [...base.order, t.taskId], tasks: { ...base.tasks, [t.taskId]: t }, materials };
          this.#timeline(c, now, header.sender, header.messageId, "JOINT_TASK_ASSIGNMENT", JointTaskState[snapshot.state] ?? "", `${t.taskId}: ${t.item.name}`);
          this.#event(c, { type: existing === undefined ? "joint.opened" : "joint.task", detail: { taskId: t.taskId, state: JointTaskState[snapshot.state] } }, now);
        }
      } else {
        if (existing === undefined) throw new TongbanError("CASE_NOT_FOUND", `no joint case ${header.caseId} at ${this.#d.nodeId}`, { details: { caseId: header.caseId } });
        if (existing.role === "lead") {
          let taskId = "";
          let step: JointTaskAction | undefined;
          let note = "";
          if (k.case === "jointTaskResponse") [taskId, step, note] = [k.value.taskId, k.value.accepted ? "accept" : "refuse", k.value.explanation];
          else if (k.case === "jointTaskProgress") [taskId, step, note] = [k.value.taskId, "start", k.value.note];
          else if (k.case === "jointTaskResult") [taskId, step, note] = [k.value.taskId, k.value.success ? "complete" : "fail", k.value.summary];
          if (step === undefined) throw new TongbanError("CASE_INVALID_TRANSITION", `the lead takes responses, progress and results, not ${k.case ?? "nothing"}`);
          const task = existing.tasks[taskId];
          if (task === undefined) throw new TongbanError("CASE_NOT_FOUND", `no sub-task ${taskId} in joint case ${header.caseId}`, { details: { taskId } });
          if (task.site !== header.sender) throw new TongbanError("AUTH_NOT_ALLOWED", `task ${taskId} is assigned to ${task.site}, not ${header.sender}`, { details: { taskId } });
          this.#step(c, taskId, step, "participant", now, header.sender, note, header.messageId);
          if (k.case === "jointTaskResult") c.record = { ...c.record, tasks: { ...c.record.tasks, [taskId]: { ...c.record.tasks[taskId]!, summary: k.value.summary } } };
          await this.#afterFinal(c, now);
        } else {
          if (existing.lead !== header.sender) throw new TongbanError("AUTH_NOT_ALLOWED", `${header.sender} is not the lead of joint case ${header.caseId}`);
          if (k.case === "jointTaskCancellation") {
            this.#step(c, k.value.taskId, k.value.hold ? "hold" : "cancel", "lead", now, header.sender, k.value.explanation || k.value.reasonCode, header.messageId);
          } else if (k.case === "jointCaseStatus") {
            const overall = k.value.overall as JointRecord["overall"];
            c.record = { ...c.record, overall };
            this.#timeline(c, now, header.sender, header.messageId, "JOINT_CASE_STATUS", overall, k.value.tasks.map((t) => `${t.taskId}=${JointTaskState[t.state]}`).join(", "));
            this.#event(c, { type: "joint.overall", detail: { overall } }, now);
          } else throw new TongbanError("CASE_INVALID_TRANSITION", `a participant takes assignments, cancellations and status, not ${k.case ?? "nothing"}`);
        }
      }
    } catch (err) {
      this.#d.events.settle(c.emitted);
      throw err;
    }
    c.ops.push(...jointOps(c.record));
    return c;
  }

  /** After a task became final at the lead: release dependants, cancel stranded ones, compose the outcome. */
  async #afterFinal(c: Change, now: Date): Promise<void> {
    const states = Object.fromEntries(Object.values(c.record.tasks).map((t) => [t.taskId, t.snapshot.state]));
    const plan = c.record.order.map((id) => ({ taskId: id, dependsOn: c.record.tasks[id]!.dependsOn }));
    for (const id of releasedTasks(plan, states)) {
      this.#step(c, id, "release", "lead", now, this.#d.nodeId, "dependencies completed");
      await this.#assign(c, id, now);
    }
    for (const id of strandedTasks(plan, states)) {
      const t = c.record.tasks[id]!;
      const wasAssigned = t.snapshot.state !== S.BLOCKED;
      this.#step(c, id, "cancel", "lead", now, this.#d.nodeId, "a task it depends on did not complete");
      if (wasAssigned) await this.#send(c, t.site, create(BodySchema, { kind: { case: "jointTaskCancellation", value: { jointCaseId: c.record.jointCaseId, taskId: id, reasonCode: "DEPENDENCY_FAILED" } } }), now);
    }
    const overall = jointOverall(Object.values(c.record.tasks).map((t) => JointTaskState[t.snapshot.state] ?? ""));
    if (overall !== c.record.overall && c.record.overall === "open") {
      c.record = { ...c.record, overall };
      this.#timeline(c, now, this.#d.nodeId, "", "JOINT_CASE_STATUS", overall, "the lead composed the outcome");
      await this.#broadcast(c, now);
    }
  }

  /** Tells every site that was assigned a task the overall status. */
  async #broadcast(c: Change, now: Date): Promise<void> {
    // The sites that were sent anything: those that know the case.
    const sites = new Set(Object.keys(c.record.nextSequence));
    const tasks = c.record.order.map((id) => ({ taskId: id, site: c.record.tasks[id]!.site, state: c.record.tasks[id]!.snapshot.state }));
    for (const site of sites) await this.#send(c, site, create(BodySchema, { kind: { case: "jointCaseStatus", value: { jointCaseId: c.record.jointCaseId, overall: c.record.overall, tasks } } }), now);
    this.#event(c, { type: "joint.overall", alert: c.record.overall === "failed", detail: { overall: c.record.overall } }, now);
  }

  /** Sends a task's assignment to its site, with the materials it needs pushed ahead. */
  async #assign(c: Change, taskId: string, now: Date): Promise<void> {
    let t = c.record.tasks[taskId]!;
    if (this.#d.calendar !== undefined && t.workingDays !== undefined && t.workingDays > 0) {
      // Each sub-task is due its item's promised working days after its assignment.
      t = { ...t, dueAt: DeadlineClock.start(this.#d.calendar, now, t.workingDays).dueAt().toISOString() };
      c.record = { ...c.record, tasks: { ...c.record.tasks, [taskId]: t } };
    }
    const r = c.record;
    const mats = r.materials.filter((m) => t.materials.includes(m.materialId));
    const materialRefs = mats.map((m) => ({ materialId: m.materialId, name: m.name, nationalCode: m.nationalCode, mediaType: m.mediaType, size: BigInt(m.size), digest: Buffer.from(m.digest, "hex"), digestAlgorithm: "sha256" }));
    const plan = r.order.map((id) => create(JointTaskSchema, { taskId: id, site: r.tasks[id]!.site, item: r.tasks[id]!.item, dependsOn: [...r.tasks[id]!.dependsOn] }));
    const assignment = create(JointTaskAssignmentSchema, {
      jointCaseId: r.jointCaseId,
      lead: r.lead,
      task: { taskId, site: t.site, item: t.item, dependsOn: [...t.dependsOn], materials: materialRefs, ...(t.dueAt === undefined ? {} : { dueAt: timestampFromDate(new Date(t.dueAt)) }) },
      plan,
      applicant: fromBinary(PartySchema, Buffer.from(r.applicant, "base64")),
      form: r.form.map((f) => ({ name: f.name, value: f.value })),
      bundle: r.bundle,
    });
    const messageId = await this.#send(c, t.site, create(BodySchema, { kind: { case: "jointTaskAssignment", value: assignment } }), now);
    if (mats.length > 0) c.ops.push({ type: "put", key: materialsKey(messageId), value: enc.encode(JSON.stringify(mats.map((m) => m.digest))) });
  }

  /** Signs a message of the joint case to a site and adds it to the outbox (same batch). */
  async #send(c: Change, destination: string, body: Body, now: Date): Promise<string> {
    const d = this.#d;
    const sequence = c.record.nextSequence[destination] ?? 1;
    const made = await outboundMessage(d, { destination, body, now, caseId: c.record.jointCaseId, sequence });
    c.ops.push(...made.ops);
    c.record = { ...c.record, nextSequence: { ...c.record.nextSequence, [destination]: sequence + 1 } };
    // Other messages record the step that caused them; an assignment is a step of its own.
    if (body.kind.case === "jointTaskAssignment") this.#timeline(c, now, d.nodeId, made.messageId, "JOINT_TASK_ASSIGNMENT", "ASSIGNED", `${(body.kind.value as { task?: { taskId: string } }).task?.taskId ?? ""} to ${destination}`);
    return made.messageId;
  }

  #step(c: Change, taskId: string, action: JointTaskAction, role: JointTaskRole, now: Date, site: string, note = "", messageId = ""): void {
    const t = c.record.tasks[taskId];
    if (t === undefined) throw new TongbanError("CASE_NOT_FOUND", `no sub-task ${taskId} in joint case ${c.record.jointCaseId}`, { details: { taskId } });
    const snapshot = transitionJointTask(t.snapshot, { action, role, at: now });
    c.record = { ...c.record, tasks: { ...c.record.tasks, [taskId]: { ...t, snapshot } } };
    if (messageId !== "" || site === this.#d.nodeId) this.#timeline(c, now, site, messageId, action, JointTaskState[snapshot.state] ?? "", `${taskId}${note ? `: ${note}` : ""}`);
    this.#event(c, { type: "joint.task", detail: { taskId, action, state: JointTaskState[snapshot.state] } }, now);
  }

  #timeline(c: Change, now: Date, site: string, messageId: string, type: string, state: string, note: string): void {
    c.record = { ...c.record, timeline: [...c.record.timeline, { at: now.toISOString(), site, messageId, type, state, ...(note === "" ? {} : { note }) }] };
  }

  #event(c: Change, init: { type: string; alert?: boolean; detail: Record<string, unknown> }, now: Date): void {
    const { event, op } = this.#d.events.ops({ type: init.type, caseId: c.record.jointCaseId, ...(init.alert ? { alert: true } : {}), detail: init.detail }, now);
    c.ops.push(op);
    c.emitted.push(event);
  }

  async #commit(c: Change): Promise<void> {
    try {
      await this.#d.committer.commit(c.ops);
    } finally {
      this.#d.events.settle(c.emitted);
    }
    this.#d.outbox.poke();
  }
}
