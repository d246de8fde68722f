import type { KeyObject } from "node:crypto";
import { clone, create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  TongbanError,
  caseActionForMessage,
  newMessageId,
  openCase,
  resolveItem,
  translateForm,
  validateCitizenId,
  type Calendar,
  type EnvelopeSigner,
  type MappingRegistry,
  type Resolved,
} from "@tongban/sdk";
import {
  ApplicationSubmissionSchema,
  BodySchema,
  FormFieldSchema,
  ItemRefSchema,
  TableVersionSchema,
  CaseState,
  HandlingMode,
  IdentityDocumentType,
  MessageType,
  type ApplicationSubmission,
  type Body,
} from "@tongban/sdk/gen";
import type { KeyedSerializer } from "../inbox/keyed-serializer.js";
import type { Outbox } from "../outbox/outbox.js";
import type { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import { advanceCase, caseByNumber, caseOpen, caseOps, noteOf, readCase, type CaseRecord, type CaseTableRef } from "./case-effects.js";
import type { EventLog, NodeEvent } from "./events.js";
import type { MaterialStore } from "./materials.js";
import { outboundMessage } from "./outbound.js";

/** What the case desk is built from. */
export interface CaseDeskDeps {
  readonly nodeId: string;
  readonly store: Store;
  readonly committer: GroupCommitter;
  readonly outbox: Outbox;
  readonly serializer: KeyedSerializer;
  readonly signer: EnvelopeSigner;
  /** The public key a partner's personal-data bodies are encrypted to (its TLS key). */
  readonly encryptionKeyOf: (nodeId: string) => KeyObject | undefined;
  /** The mapping tables in force; undefined when the node has none loaded. */
  readonly registry: () => MappingRegistry | undefined;
  readonly materials: MaterialStore;
  readonly events: EventLog;
  readonly calendar?: Calendar | undefined;
  readonly now?: () => Date;
}

/** A platform's application, as SubmitApplication carries it. */
export interface SubmitInput {
  /** The platform's idempotency key: the same key returns the same case. */
  readonly requestId: string;
  readonly handlingNode: string;
  /** GB/T 2260 code of the handling region; from the handling node id when empty. */
  readonly handlingRegion?: string;
  readonly application: MessageInitShape<typeof ApplicationSubmissionSchema> | ApplicationSubmission;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const requestKey = (id: string) => storeKeys.meta.key(`request\u0000${id}`);
const materialsKey = (messageId: string) => storeKeys.meta.key(`outbox-materials\u0000${messageId}`);
const MODE_NAMES = { [HandlingMode.REMOTE_RECEIPT]: "remote_receipt", [HandlingMode.FULL_ONLINE]: "full_online" } as const;

/** The region part of a node id (`cn.310118.qingpu` → `310118`). */
export function regionOfNode(nodeId: string): string {
  return nodeId.split(".")[1] ?? "";
}

/** The material digests to push to the destination before an outbound message (hex), if any. */
export async function materialsBefore(store: Store, messageId: string): Promise<string[]> {
  const v = await store.get(materialsKey(messageId));
  return v === undefined ? [] : (JSON.parse(dec.decode(v)) as string[]);
}

/**
 * The node's side of its own platform (PlatformService): opens cases at
 * this node and sends the steps this node takes. Every change is one batch
 * with its outbound message (outbox) and its events, serialised per case
 * with the intake, so a platform action and a partner's message on the same
 * case never interleave.
 */
export class CaseDesk {
  readonly #d: CaseDeskDeps;
  readonly #now: () => Date;

  constructor(deps: CaseDeskDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /**
   * Submits an application at this node (收件地, or the portal of a full
   * online case): resolves the item through the mapping tables, checks the
   * form (every field the handling site needs, translated to its names) and
   * the applicant's identity document, checks that every material is stored
   * here and the required ones are present, opens the case (RECEIVED →
   * CHECKED → FORWARDED, or SUBMITTED for full online), and forwards the
   * APPLICATION_SUBMISSION — encrypted to the handling node — through the
   * outbox, with the materials pushed ahead of it.
   *
   * @throws TongbanError GAP_* when the item cannot be handled there,
   *   CASE_FORM_INCOMPLETE, IDENTIFIER_INVALID, CASE_MATERIAL_MISSING.
   */
  async submit(input: SubmitInput): Promise<CaseRecord> {
    const d = this.#d;
    if (input.requestId === "") throw new TongbanError("ENVELOPE_MALFORMED", "request_id is required (it makes the submission idempotent)");
    const prior = await this.#byRequest(input.requestId);
    if (prior !== undefined) return prior;
    const app = create(ApplicationSubmissionSchema, input.application as MessageInitShape<typeof ApplicationSubmissionSchema>);
    const mode = app.mode === HandlingMode.UNSPECIFIED ? HandlingMode.REMOTE_RECEIPT : app.mode;
    if (mode !== HandlingMode.REMOTE_RECEIPT && mode !== HandlingMode.FULL_ONLINE) {
      throw new TongbanError("CASE_INVALID_TRANSITION", "SubmitApplication opens remote-receipt and full-online cases; joint cases have their own API", { details: { mode: HandlingMode[mode] } });
    }
    if (input.handlingNode === d.nodeId) throw new TongbanError("AUTH_NOT_ALLOWED", "the handling node is this node: nothing to forward");
    const encryptTo = d.encryptionKeyOf(input.handlingNode);
    if (encryptTo === undefined) throw new TongbanError("TRUST_UNKNOWN_SIGNER", `no certificate known for partner ${input.handlingNode}`, { details: { partner: input.handlingNode } });
    const registry = d.registry();
    if (registry === undefined) throw new TongbanError("MAPPING_TABLE_INVALID", "this node has no mapping tables loaded (config mapping.tablesDir)");
    const receivingRegion = regionOfNode(d.nodeId);
    const handlingRegion = input.handlingRegion !== undefined && input.handlingRegion !== "" ? input.handlingRegion : regionOfNode(input.handlingNode);
    const itemCode = app.item?.receivingCode || app.item?.basicCode || app.item?.handlingCode || "";
    const now = this.#now();
    const resolution = resolveItem(registry, { receivingRegion, handlingRegion, item: itemCode, mode: MODE_NAMES[mode], date: now.toISOString().slice(0, 10) });
    if (!resolution.ok) {
      throw new TongbanError(resolution.code, resolution.message, {
        details: { item: itemCode, receivingRegion, handlingRegion, candidates: resolution.candidates.slice(0, 3).map((c) => `${c.region}:${c.implementationCode} ${c.name}`) },
      });
    }
    this.#checkIdentity(app);
    const form = this.#checkForm(app, resolution);
    await this.#checkMaterials(app, resolution);

    const caseId = newMessageId();
    const tables: CaseTableRef[] = resolution.tables.map((t) => ({ publisher: t.publisher, kind: t.kind, version: String(t.version), digest: t.digest }));
    const submission = clone(ApplicationSubmissionSchema, app);
    submission.mode = mode;
    submission.item = create(ItemRefSchema, {
      basicCode: resolution.basicCode,
      receivingCode: resolution.receiving.item?.implementationCode ?? "",
      handlingCode: resolution.handling.item.implementationCode,
      name: resolution.handling.item.name,
    });
    submission.form = Object.entries(form).map(([name, value]) => create(FormFieldSchema, { name, value }));
    submission.tables = tables.map((t) => create(TableVersionSchema, { publisher: t.publisher, kind: t.kind, version: t.version, digest: Buffer.from(t.digest, "hex") }));
    submission.formChecked = true;
    submission.identityVerified = mode === HandlingMode.REMOTE_RECEIPT;
    submission.submittedAt = timestampFromDate(now);

    return d.serializer.run(`case\u0000${caseId}`, async () => {
      const emitted: NodeEvent[] = [];
      const snapshot = openCase({ caseId, mode, at: now });
      let record: CaseRecord = {
        snapshot,
        role: "receiving",
        partner: input.handlingNode,
        basicCode: resolution.basicCode,
        timeline: [{ at: now.toISOString(), site: d.nodeId, messageId: "", type: "APPLICATION_SUBMISSION", state: CaseState[snapshot.state] ?? "" }],
        ...(app.caseNumber === "" ? {} : { caseNumber: app.caseNumber }),
        item: { basicCode: resolution.basicCode, receivingCode: resolution.receiving.item?.implementationCode ?? "", handlingCode: resolution.handling.item.implementationCode, name: resolution.handling.item.name },
        tables,
        submission: Buffer.from(toBinary(ApplicationSubmissionSchema, submission)).toString("base64"),
        nextSequence: 1,
        workingDays: resolution.promisedWorkingDays,
        createdAt: now.toISOString(),
      };
      const ops: BatchOp[] = [];
      const ctx = { calendar: d.calendar, events: d.events, emitted };
      const body = create(BodySchema, { kind: { case: "applicationSubmission", value: submission } });
      const sent = await this.#outbound(record, body, now);
      const opened = d.events.ops({ type: "case.opened", caseId, partner: input.handlingNode, state: CaseState[snapshot.state] ?? "", detail: { mode: HandlingMode[mode], basicCode: resolution.basicCode, tables: tables.map((t) => `${t.publisher}/${t.kind}@${t.version}`) } }, now);
      emitted.push(opened.event);
      ops.push(opened.op);
      if (mode === HandlingMode.REMOTE_RECEIPT) {
        for (const action of ["check", "forward"] as const) {
          const step = advanceCase(record, { action, role: "receiving", at: now, site: d.nodeId, messageId: sent.messageId, type: MessageType.APPLICATION_SUBMISSION }, ctx);
          record = step.record;
          ops.push(...step.ops); // the events; the record itself is written once more below
        }
      }
      record = { ...record, nextSequence: sent.sequence + 1 };
      const digests = submission.materials.map((m) => Buffer.from(m.digest).toString("hex"));
      ops.push(...caseOps(record), ...sent.ops, { type: "put", key: requestKey(input.requestId), value: enc.encode(caseId) });
      if (digests.length > 0) ops.push({ type: "put", key: materialsKey(sent.messageId), value: enc.encode(JSON.stringify(digests)) });
      await this.#commit(ops, emitted);
      d.outbox.poke();
      return record;
    });
  }

  /**
   * Takes a step on a case at this node (ActOnCase): the body's message type
   * names the action (docs/lifecycle.md), performed in this node's role; the
   * step and the message to the partner are one batch.
   *
   * @throws TongbanError CASE_NOT_FOUND, CASE_INVALID_TRANSITION (with the
   *   state and the action), ENVELOPE_MALFORMED for an empty body.
   */
  async act(caseId: string, requestId: string, action: Body | MessageInitShape<typeof BodySchema>): Promise<CaseRecord> {
    const d = this.#d;
    const body = create(BodySchema, action as MessageInitShape<typeof BodySchema>);
    if (body.kind.case === undefined) throw new TongbanError("ENVELOPE_MALFORMED", "ActOnCase needs an action body");
    if (body.kind.case === "applicationSubmission") throw new TongbanError("CASE_INVALID_TRANSITION", "submissions go through SubmitApplication");
    if (requestId !== "") {
      const prior = await this.#byRequest(requestId);
      if (prior !== undefined) return prior;
    }
    return d.serializer.run(`case\u0000${caseId}`, async () => {
      const existing = await readCase(d.store, caseId);
      if (existing === undefined) throw new TongbanError("CASE_NOT_FOUND", `no case ${caseId} at ${d.nodeId}`, { details: { caseId } });
      const now = this.#now();
      if (body.kind.case === "correctionResponse") {
        for (const m of body.kind.value.materials) {
          if (!(await d.materials.has(m.digest))) {
            throw new TongbanError("CASE_MATERIAL_MISSING", `material ${m.name || m.materialId} was not uploaded (UploadMaterial) before the correction`, { details: { digest: Buffer.from(m.digest).toString("hex") } });
          }
        }
      }
      const emitted: NodeEvent[] = [];
      const sent = await this.#outbound(existing, body, now);
      const caseAction = caseActionForMessage(sent.type);
      let record = existing;
      const eventOps: BatchOp[] = [];
      if (caseAction !== undefined) {
        const note = noteOf(body);
        // An invalid step throws before any event is written (advanceCase allocates after the transition).
        const step = advanceCase(record, { action: caseAction, role: record.role, at: now, site: d.nodeId, messageId: sent.messageId, type: sent.type, ...(note === undefined ? {} : { note }) }, { calendar: d.calendar, events: d.events, emitted });
        record = step.record;
        eventOps.push(...step.ops); // its events; the record is written once more below
      } else {
        record = { ...record, timeline: [...record.timeline, { at: now.toISOString(), site: d.nodeId, messageId: sent.messageId, type: MessageType[sent.type] ?? "", state: CaseState[record.snapshot.state] ?? "" }] };
      }
      record = { ...record, nextSequence: sent.sequence + 1 };
      const ops: BatchOp[] = [...eventOps, ...caseOps(record), ...sent.ops];
      if (requestId !== "") ops.push({ type: "put", key: requestKey(requestId), value: enc.encode(caseId) });
      // A correction may bring new materials: they must be stored here, and go ahead of the message.
      if (body.kind.case === "correctionResponse" && body.kind.value.materials.length > 0) {
        ops.push({ type: "put", key: materialsKey(sent.messageId), value: enc.encode(JSON.stringify(body.kind.value.materials.map((m) => Buffer.from(m.digest).toString("hex")))) });
      }
      await this.#commit(ops, emitted);
      d.outbox.poke();
      return record;
    });
  }

  /**
   * Records that the partner's node received the case (its technical
   * receipt for the submission): FORWARDED/SUBMITTED → DELIVERED. Called by
   * the outbox when a submission is acknowledged; a no-op otherwise.
   */
  async delivered(caseId: string, messageId: string): Promise<void> {
    const d = this.#d;
    await d.serializer.run(`case\u0000${caseId}`, async () => {
      const record = await readCase(d.store, caseId);
      if (record === undefined || record.role !== "receiving") return;
      if (record.snapshot.state !== CaseState.FORWARDED && record.snapshot.state !== CaseState.SUBMITTED) return;
      const emitted: NodeEvent[] = [];
      const { ops } = advanceCase(record, { action: "deliver", role: "handling", at: this.#now(), site: record.partner, messageId, type: MessageType.TECHNICAL_RECEIPT }, { calendar: d.calendar, events: d.events, emitted });
      await this.#commit(ops, emitted);
    });
  }

  /** A case by id, or undefined. */
  get(caseId: string): Promise<CaseRecord | undefined> {
    return readCase(this.#d.store, caseId);
  }

  /** Cases in key order, optionally filtered; `after` is the last case id of the previous page. */
  async list(filter: { state?: CaseState; mode?: HandlingMode; partner?: string; after?: string; limit?: number } = {}): Promise<CaseRecord[]> {
    const out: CaseRecord[] = [];
    const limit = filter.limit ?? 100;
    const after = filter.after === undefined || filter.after === "" ? undefined : filter.after;
    for await (const r of this.#candidates(filter.state, filter.partner, after)) {
      if (filter.state !== undefined && filter.state !== CaseState.UNSPECIFIED && r.snapshot.state !== filter.state) continue;
      if (filter.mode !== undefined && filter.mode !== HandlingMode.UNSPECIFIED && r.snapshot.mode !== filter.mode) continue;
      if (filter.partner !== undefined && filter.partner !== "" && r.partner !== filter.partner) continue;
      out.push(r);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The case a case number (办件编号) names, or undefined (the case-number index). */
  async byNumber(caseNumber: string): Promise<CaseRecord | undefined> {
    return caseByNumber(this.#d.store, caseNumber);
  }

  /**
   * The cases a listing walks, in case-id order after `after`, from the narrowest index that holds them all: one
   * partner's cases (case-partner), or for a state in which a case is still open only the open cases (case-open) —
   * both kept in case-id order, so page tokens mean the same — otherwise every case.
   */
  async *#candidates(state: CaseState | undefined, partner: string | undefined, after: string | undefined): AsyncGenerator<CaseRecord> {
    const store = this.#d.store;
    if (partner !== undefined && partner !== "") {
      const range = storeKeys.casePartner.range(partner);
      const from = after === undefined ? { gte: range.gte } : { gt: storeKeys.casePartner.key(partner, after) };
      for await (const e of store.iterate({ ...from, lt: range.lt })) {
        const r = await readCase(store, storeKeys.casePartner.decode(e.key)[1]);
        if (r !== undefined) yield r;
      }
      return;
    }
    if (state !== undefined && state !== CaseState.UNSPECIFIED && caseOpen({ snapshot: { state } } as CaseRecord)) {
      const range = storeKeys.caseOpen.range();
      const from = after === undefined ? { gte: range.gte } : { gt: storeKeys.caseOpen.key(after) };
      for await (const e of store.iterate({ ...from, lt: range.lt })) {
        const r = await readCase(store, storeKeys.caseOpen.decode(e.key)[0]);
        if (r !== undefined) yield r;
      }
      return;
    }
    const range = storeKeys.case.range();
    const from = after === undefined ? { gte: range.gte } : { gt: storeKeys.case.key(after) };
    for await (const e of store.iterate({ ...from, lt: range.lt })) yield JSON.parse(dec.decode(e.value)) as CaseRecord;
  }

  async #byRequest(requestId: string): Promise<CaseRecord | undefined> {
    const v = await this.#d.store.get(requestKey(requestId));
    return v === undefined ? undefined : readCase(this.#d.store, dec.decode(v));
  }

  async #commit(ops: BatchOp[], emitted: NodeEvent[]): Promise<void> {
    try {
      await this.#d.committer.commit(ops);
    } finally {
      this.#d.events.settle(emitted);
    }
  }

  /** Signs (and, for personal data, encrypts) a message to the case's partner and returns its outbox operations. */
  async #outbound(record: CaseRecord, body: Body, now: Date): Promise<{ messageId: string; sequence: number; type: MessageType; ops: BatchOp[] }> {
    const sequence = record.nextSequence ?? 1;
    const sent = await outboundMessage(this.#d, { destination: record.partner, body, now, caseId: record.snapshot.caseId, sequence });
    return { ...sent, sequence };
  }

  #checkIdentity(app: ApplicationSubmission): void {
    const a = app.applicant;
    if (a === undefined || a.name === "") throw new TongbanError("CASE_FORM_INCOMPLETE", "the application names no applicant");
    if (a.idType === IdentityDocumentType.RESIDENT_ID || (a.idType === IdentityDocumentType.UNSPECIFIED && !a.organisation)) {
      const v = validateCitizenId(a.idNumber);
      if (!v.ok) throw new TongbanError("IDENTIFIER_INVALID", `the applicant's 居民身份证号码 is not valid: ${v.issues.map((i) => i.message).join("; ")}`, { details: { field: "applicant.idNumber" } });
    }
  }

  /** Translates the form to the handling site's field names; every field it maps must get a value. */
  #checkForm(app: ApplicationSubmission, r: Resolved): Record<string, string> {
    const given: Record<string, string> = {};
    for (const f of app.form) given[f.name] = f.value;
    const source = r.fields.receiving.length > 0 ? r.fields.receiving : r.fields.handling;
    let translated;
    try {
      translated = translateForm(given, source, r.fields.handling);
    } catch (err) {
      throw new TongbanError("CASE_FORM_INCOMPLETE", `the form cannot be translated for ${r.handling.region}: ${(err as Error).message}`, { cause: err });
    }
    if (translated.missingTarget.length > 0) {
      throw new TongbanError("CASE_FORM_INCOMPLETE", `the handling site needs ${translated.missingTarget.join(", ")}`, { details: { missing: translated.missingTarget.join(",") } });
    }
    return { ...translated.form };
  }

  async #checkMaterials(app: ApplicationSubmission, r: Resolved): Promise<void> {
    for (const m of app.materials) {
      const info = await this.#d.materials.info(m.digest);
      if (info?.complete !== true) {
        throw new TongbanError("CASE_MATERIAL_MISSING", `material ${m.name || m.materialId} was not uploaded (UploadMaterial) before the submission`, { details: { material: m.name || m.materialId, digest: Buffer.from(m.digest).toString("hex") } });
      }
    }
    const given = new Set(app.materials.map((m) => m.nationalCode).filter((c) => c !== ""));
    const missing = r.materials.filter((m) => m.required && !given.has(m.nationalCode));
    if (missing.length > 0) {
      throw new TongbanError("CASE_MATERIAL_MISSING", `required materials missing: ${missing.map((m) => `${m.receivingName ?? m.handlingName} (${m.nationalCode})`).join(", ")}`, { details: { missing: missing.map((m) => m.nationalCode).join(",") } });
    }
  }
}
