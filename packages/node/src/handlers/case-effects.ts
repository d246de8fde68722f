import { toBinary } from "@bufbuild/protobuf";
import {
  DeadlineClock,
  TongbanError,
  caseActionForMessage,
  caseClockEffect,
  openCase,
  transition,
  type Calendar,
  type CaseAction,
  type CaseRole,
  type CaseSnapshot,
  type DeadlineClockJSON,
  type DeadlineLevel,
} from "@tongban/sdk";
import { ApplicationSubmissionSchema, CaseState, HandlingMode, MessageType } from "@tongban/sdk/gen";
import type { EffectHandler } from "../inbox/intake.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import type { EventLog, NodeEvent } from "./events.js";
import { verifyResultDocuments, type ResultVerification } from "./results.js";

/** One step of a case as this node saw it. */
export interface TimelineStep {
  readonly at: string;
  /** The node the step came from. */
  readonly site: string;
  readonly messageId: string;
  readonly type: string;
  readonly state: string;
  /** A short human note (refusal reason, waybill number, …). */
  readonly note?: string;
}

/** A table version the case was resolved against. */
export interface CaseTableRef {
  readonly publisher: string;
  readonly kind: string;
  readonly version: string;
  /** Hex SHA-256 of the canonical table. */
  readonly digest: string;
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
  /** 办件编号, when assigned. */
  readonly caseNumber?: string;
  /** The item in both sites' words. */
  readonly item?: { readonly basicCode: string; readonly receivingCode?: string; readonly handlingCode?: string; readonly name?: string };
  /** The mapping tables the receiving site resolved the item against. */
  readonly tables?: readonly CaseTableRef[];
  /** The application as submitted (ApplicationSubmission protobuf, base64). Personal data: stays on the nodes of the case. */
  readonly submission?: string;
  /** The next per-case sequence number this node uses for its own messages. */
  readonly nextSequence?: number;
  /** The promised working days (承诺时限) of the handling item, when known. */
  readonly workingDays?: number;
  /** The deadline clock, from 受理. */
  readonly deadline?: DeadlineClockJSON;
  /** The last deadline level an event was raised for. */
  readonly deadlineLevel?: DeadlineLevel;
  readonly createdAt?: string;
  /** Verification reports of sealed results received, keyed by document id. */
  readonly results?: Readonly<Record<string, unknown>>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Reads a case record, or undefined. */
export async function readCase(store: Store, caseId: string): Promise<CaseRecord | undefined> {
  const v = await store.get(storeKeys.case.key(caseId));
  return v === undefined ? undefined : (JSON.parse(dec.decode(v)) as CaseRecord);
}

/** States in which a handling site's deadline no longer runs out (decided, or the case ended). */
const DEADLINE_DONE: ReadonlySet<CaseState> = new Set([CaseState.DECIDED, CaseState.RESULT_SENT, CaseState.RESULT_DELIVERED, CaseState.ARCHIVED, CaseState.REFUSED, CaseState.WITHDRAWN]);

/** States in which a case has ended at this site (the console's overview counts the others as open). */
const CASE_ENDED: ReadonlySet<CaseState> = new Set([CaseState.RESULT_DELIVERED, CaseState.ARCHIVED, CaseState.REFUSED, CaseState.WITHDRAWN]);

/** Whether a case is still open at this site (not delivered, archived, refused or withdrawn). */
export function caseOpen(record: CaseRecord): boolean {
  return !CASE_ENDED.has(record.snapshot.state);
}

/** Whether the node watches this case's deadline: the handling site's, once its clock started, until the case is decided or ends. */
export function deadlineWatched(record: CaseRecord): boolean {
  return record.role === "handling" && record.deadline !== undefined && !DEADLINE_DONE.has(record.snapshot.state);
}

/**
 * The operations that write a case record, with its index entries in the
 * same batch: its case number (`case-number`), its partner (`case-partner`), whether it is open
 * (`case-open`) and, at the handling site, whether its deadline is watched
 * (`deadline-watch`).
 */
export function caseOps(record: CaseRecord): BatchOp[] {
  const caseId = record.snapshot.caseId;
  const ops: BatchOp[] = [{ type: "put", key: storeKeys.case.key(caseId), value: enc.encode(JSON.stringify(record)) }];
  if (record.caseNumber !== undefined && record.caseNumber !== "") ops.push({ type: "put", key: storeKeys.caseNumber.key(record.caseNumber, caseId), value: EMPTY });
  if (record.partner !== "") ops.push({ type: "put", key: storeKeys.casePartner.key(record.partner, caseId), value: EMPTY });
  ops.push(caseOpen(record) ? { type: "put", key: storeKeys.caseOpen.key(caseId), value: EMPTY } : { type: "del", key: storeKeys.caseOpen.key(caseId) });
  if (deadlineWatched(record)) ops.push({ type: "put", key: storeKeys.deadlineWatch.key(caseId), value: EMPTY });
  else if (record.role === "handling" && record.deadline !== undefined) ops.push({ type: "del", key: storeKeys.deadlineWatch.key(caseId) });
  return ops;
}

const EMPTY = new Uint8Array(0);
const CASE_INDEXES = storeKeys.meta.key("case-indexes");

/**
 * The case a case number (办件编号) names, or undefined. Two cases with one
 * number (two sites numbering alike) give the one with the lower case id.
 */
export async function caseByNumber(store: Store, caseNumber: string): Promise<CaseRecord | undefined> {
  if (caseNumber === "") return undefined;
  for await (const e of store.iterate({ ...storeKeys.caseNumber.range(caseNumber), limit: 1 })) {
    const [, caseId] = storeKeys.caseNumber.decode(e.key);
    return readCase(store, caseId);
  }
  return undefined;
}

/** The open cases ({@link caseOpen}), in case-id order. */
export async function* openCases(store: Store): AsyncGenerator<CaseRecord> {
  for await (const e of store.iterate(storeKeys.caseOpen.range())) {
    const r = await readCase(store, storeKeys.caseOpen.decode(e.key)[0]);
    if (r !== undefined) yield r;
  }
}

/** The ids of the cases whose deadline the node watches ({@link deadlineWatched}). */
export async function* watchedCases(store: Store): AsyncGenerator<string> {
  for await (const e of store.iterate(storeKeys.deadlineWatch.range())) yield storeKeys.deadlineWatch.decode(e.key)[0];
}

/**
 * Builds the case indexes (`case-number`, `case-partner`, `case-open`, `deadline-watch`,
 * `joint-open`) from the case and joint records, once, for a store written before they existed; a later start
 * finds them built and reads nothing. Returns how many records it read.
 */
export async function buildCaseIndexes(store: Store): Promise<number> {
  if ((await store.get(CASE_INDEXES)) !== undefined) return 0;
  let read = 0;
  let ops: BatchOp[] = [];
  for await (const e of store.iterate(storeKeys.case.range())) {
    const r = JSON.parse(dec.decode(e.value)) as CaseRecord;
    read++;
    // The index entries caseOps writes with the record (the record itself is already there).
    ops.push(...caseOps(r).slice(1).filter((op) => op.type === "put"));
    if (ops.length >= 1_000) {
      await store.batch(ops);
      ops = [];
    }
  }
  for await (const e of store.iterate(storeKeys.joint.range())) {
    const j = JSON.parse(dec.decode(e.value)) as { jointCaseId: string; overall: string };
    read++;
    if (j.overall === "open") ops.push({ type: "put", key: storeKeys.jointOpen.key(j.jointCaseId), value: EMPTY });
    if (ops.length >= 1_000) {
      await store.batch(ops);
      ops = [];
    }
  }
  await store.batch([...ops, { type: "put", key: CASE_INDEXES, value: enc.encode(new Date().toISOString()) }]);
  return read;
}

/** What {@link advanceCase} needs besides the record. */
export interface AdvanceContext {
  readonly calendar?: Calendar | undefined;
  readonly events?: EventLog | undefined;
  /** Collects the events written, to publish after the batch is durable. */
  readonly emitted?: NodeEvent[];
}

/** One step applied to a case: who did what, through which message. */
export interface CaseStep {
  readonly action: CaseAction;
  readonly role: CaseRole;
  readonly at: Date;
  readonly site: string;
  readonly messageId: string;
  readonly type: MessageType;
  readonly note?: string;
}

/**
 * Applies one step to a case record through the SDK state machine, moves its
 * deadline clock (started at 受理, stopped during correction and
 * suspension, finished at the decision or withdrawal) and appends the
 * timeline. Returns the new record and the store operations (record and
 * `case.state` event). Throws CASE_INVALID_TRANSITION for an invalid step.
 */
export function advanceCase(record: CaseRecord, step: CaseStep, ctx: AdvanceContext = {}): { record: CaseRecord; ops: BatchOp[] } {
  const before = record.snapshot;
  const snapshot = transition(before, { action: step.action, role: step.role, at: step.at });
  let deadline = record.deadline;
  const effect = caseClockEffect(before, snapshot);
  if (effect !== undefined && ctx.calendar !== undefined && record.workingDays !== undefined && record.workingDays > 0) {
    if (effect === "start") deadline = DeadlineClock.start(ctx.calendar, step.at, record.workingDays).toJSON();
    else if (deadline !== undefined) {
      const clock = DeadlineClock.fromJSON(ctx.calendar, deadline);
      if (effect === "stop-correction" && !clock.stopped) deadline = clock.stop(step.at, "correction").toJSON();
      else if (effect === "stop-suspension" && !clock.stopped) deadline = clock.stop(step.at, "suspension").toJSON();
      else if (effect === "resume" && clock.stopped) deadline = clock.resume(step.at).toJSON();
    }
  }
  const timelineStep: TimelineStep = {
    at: step.at.toISOString(),
    site: step.site,
    messageId: step.messageId,
    type: MessageType[step.type] ?? String(step.type),
    state: CaseState[snapshot.state] ?? String(snapshot.state),
    ...(step.note === undefined || step.note === "" ? {} : { note: step.note }),
  };
  const next: CaseRecord = { ...record, snapshot, timeline: [...record.timeline, timelineStep], ...(deadline === undefined ? {} : { deadline }) };
  const ops = caseOps(next);
  if (ctx.events !== undefined && before.state !== snapshot.state) {
    const { event, op } = ctx.events.ops({ type: "case.state", caseId: snapshot.caseId, messageId: step.messageId, partner: record.partner, state: timelineStep.state, detail: { from: CaseState[before.state], action: step.action } }, step.at);
    ops.push(op);
    ctx.emitted?.push(event);
  }
  return { record: next, ops };
}

/** A short note for the timeline from a message body (reason, waybill, …). */
export function noteOf(body: { kind: { case?: string | undefined; value?: unknown } }): string | undefined {
  const v = body.kind.value as Record<string, unknown> | undefined;
  if (v === undefined) return undefined;
  for (const k of ["reason", "explanation", "waybillNumber", "summary", "comment", "note"]) {
    const x = v[k];
    if (typeof x === "string" && x !== "") return x;
  }
  return undefined;
}

/** Options of {@link caseEffects}. */
export interface CaseEffectsOptions {
  readonly selfNodeId: string;
  readonly calendar?: Calendar | undefined;
  readonly events?: EventLog | undefined;
  /** The promised working days of this node's item for a 基本编码, from its mapping tables. */
  readonly workingDaysFor?: ((basicCode: string) => number | undefined) | undefined;
  /** Verifies sealed documents and e-license ids of a RESULT on intake; reports go into the case. */
  readonly results?: ResultVerification | undefined;
  readonly now?: () => Date;
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
 * - at the receiving site, the handling site's first answer implies the
 *   delivery of the forwarded case (FORWARDED → DELIVERED) if the receipt
 *   has not already recorded it;
 * - only the case's partner may act on it (AUTH_NOT_ALLOWED), and a message
 *   for an unknown case is CASE_NOT_FOUND;
 * - other messages (status updates, receipts) only join the timeline.
 */
export function caseEffects(options: CaseEffectsOptions): EffectHandler & { settle(messageKey: string): void } {
  const now = options.now ?? (() => new Date());
  // Events written by an effect, by `${sender} ${messageId}`, until the intake's batch settles.
  const unsettled = new Map<string, NodeEvent[]>();
  const handler: EffectHandler = async (m, store) => {
    const key = `${m.header.sender} ${m.header.messageId}`;
    const emitted: NodeEvent[] = [];
    try {
      const ops = await apply(m, store, emitted);
      if (emitted.length > 0) unsettled.set(key, emitted);
      return ops;
    } catch (err) {
      options.events?.settle(emitted);
      throw err;
    }
  };
  const apply = async (m: Parameters<EffectHandler>[0], store: Store, emitted: NodeEvent[]): Promise<BatchOp[]> => {
    const { header, body } = m;
    const at = now();
    if (header.caseId === "") return [];
    const existing = await readCase(store, header.caseId);
    const ctx: AdvanceContext = { calendar: options.calendar, events: options.events, emitted };
    const done = (ops: BatchOp[]): BatchOp[] => ops;

    if (body.kind.case === "applicationSubmission") {
      if (existing !== undefined) {
        throw new TongbanError("CASE_INVALID_TRANSITION", `case ${header.caseId} is already open here`, { details: { caseId: header.caseId, from: CaseState[existing.snapshot.state], action: "submit" } });
      }
      const sub = body.kind.value;
      if (sub.mode !== HandlingMode.REMOTE_RECEIPT && sub.mode !== HandlingMode.FULL_ONLINE) {
        throw new TongbanError("CASE_INVALID_TRANSITION", "only remote-receipt and full-online cases open by submission; joint cases open by task assignment", { details: { mode: HandlingMode[sub.mode] } });
      }
      const snapshot = openCase({ caseId: header.caseId, mode: sub.mode, at, state: CaseState.DELIVERED });
      const basicCode = sub.item?.basicCode ?? "";
      const workingDays = options.workingDaysFor?.(basicCode);
      const record: CaseRecord = {
        snapshot,
        role: "handling",
        partner: header.sender,
        basicCode,
        timeline: [{ at: at.toISOString(), site: header.sender, messageId: header.messageId, type: MessageType[header.type] ?? "", state: CaseState[snapshot.state] ?? "" }],
        ...(sub.caseNumber === "" ? {} : { caseNumber: sub.caseNumber }),
        item: { basicCode, receivingCode: sub.item?.receivingCode ?? "", handlingCode: sub.item?.handlingCode ?? "", name: sub.item?.name ?? "" },
        tables: sub.tables.map((t) => ({ publisher: t.publisher, kind: t.kind, version: t.version, digest: Buffer.from(t.digest).toString("hex") })),
        submission: Buffer.from(toBinary(ApplicationSubmissionSchema, sub)).toString("base64"),
        nextSequence: 1,
        ...(workingDays === undefined ? {} : { workingDays }),
        createdAt: at.toISOString(),
      };
      const ops = caseOps(record);
      if (options.events !== undefined) {
        const { event, op } = options.events.ops({ type: "case.opened", caseId: header.caseId, messageId: header.messageId, partner: header.sender, state: "DELIVERED", detail: { mode: HandlingMode[sub.mode], basicCode } }, at);
        ops.push(op);
        emitted.push(event);
      }
      return done(ops);
    }

    if (existing === undefined) throw new TongbanError("CASE_NOT_FOUND", `no case ${header.caseId} at ${options.selfNodeId}`, { details: { caseId: header.caseId } });
    if (existing.partner !== header.sender) {
      throw new TongbanError("AUTH_NOT_ALLOWED", `${header.sender} is not the partner of case ${header.caseId}`, { details: { caseId: header.caseId, sender: header.sender } });
    }
    const action = caseActionForMessage(header.type);
    const note = noteOf(body);
    if (action === undefined) {
      const step: TimelineStep = { at: at.toISOString(), site: header.sender, messageId: header.messageId, type: MessageType[header.type] ?? "", state: CaseState[existing.snapshot.state] ?? "", ...(note === undefined ? {} : { note }) };
      return done(caseOps({ ...existing, timeline: [...existing.timeline, step] }));
    }
    // The sender performed the action, in its role: the other one than ours.
    const actor: CaseRole = existing.role === "handling" ? "receiving" : "handling";
    let record = existing;
    const ops: BatchOp[] = [];
    const pending = record.snapshot.state === CaseState.FORWARDED || record.snapshot.state === CaseState.SUBMITTED;
    if (record.role === "receiving" && actor === "handling" && pending && action !== "deliver") {
      const delivered = advanceCase(record, { action: "deliver", role: "handling", at, site: header.sender, messageId: header.messageId, type: MessageType.TECHNICAL_RECEIPT }, ctx);
      record = delivered.record;
      ops.push(...delivered.ops); // its event; the record is written again below
    }
    const advanced = advanceCase(record, { action, role: actor, at, site: header.sender, messageId: header.messageId, type: header.type, ...(note === undefined ? {} : { note }) }, ctx);
    if (body.kind.case === "result" && options.results !== undefined && body.kind.value.documents.length > 0) {
      // Sealed results are verified on intake; the reports are recorded in the case, an invalid seal is an alert.
      const reports = await (options.results.verifier ?? verifyResultDocuments)(body.kind.value.documents, options.results);
      const results: Record<string, unknown> = { ...(advanced.record.results ?? {}) };
      for (const r of reports) results[r.documentId] = { ...r, messageId: header.messageId };
      const bad = reports.filter((r) => r.verdict === "invalid" || r.verdict === "malformed" || r.licenses.some((l) => !l.valid));
      ops.push(...advanced.ops, ...caseOps({ ...advanced.record, results }));
      if (options.events !== undefined) {
        const { event, op } = options.events.ops({ type: "result.verified", caseId: header.caseId, messageId: header.messageId, partner: header.sender, ...(bad.length > 0 ? { alert: true } : {}), detail: { documents: reports.map((r) => ({ documentId: r.documentId, verdict: r.verdict, licenses: r.licenses.map((l) => `${l.id}:${l.valid ? "ok" : "invalid"}`) })) } }, at);
        ops.push(op);
        emitted.push(event);
      }
      return done(ops);
    }
    ops.push(...advanced.ops);
    return done(ops);
  };
  return Object.assign(handler, {
    /** Call after the intake's batch for `${sender} ${messageId}` committed or failed. */
    settle(messageKey: string) {
      const events = unsettled.get(messageKey);
      if (events === undefined) return;
      unsettled.delete(messageKey);
      options.events?.settle(events);
    },
  });
}
