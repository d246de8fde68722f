/**
 * Builds the protocol services of a node on its real components (see
 * `openNode`'s `compose`): the intake behind FederationService, the outbox
 * dispatcher, the case desk behind PlatformService, the event log and the
 * deadline watch. docs/node.md describes what each does.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  Calendar,
  TongbanError,
  DeadlineClock,
  certificateDer,
  decodeEnvelope,
  decodeHeader,
  isSm2KeyObject,
  keyIdOf,
  loadChinaCalendar,
  nodeIdOf,
  verifyEnvelope,
  type EnvelopeSigner,
  type MappingRegistry,
  startSignatureWorker,
} from "@tongban/sdk";
import { startConsole, type ConsoleHandle } from "./console/console-server.js";
import { DirectoryState } from "./directory/directory-state.js";
import { Checkpoints } from "./evidence/checkpoints.js";
import { EvidenceLog } from "./evidence/evidence-log.js";
import { CaseDesk, materialsBefore, type CaseDeskDeps } from "./handlers/case-desk.js";
import { buildCaseIndexes, caseEffects, caseOps, deadlineWatched, watchedCases } from "./handlers/case-effects.js";
import { EventLog, type NodeEvent } from "./handlers/events.js";
import { JointDesk, isJointBody } from "./handlers/joint.js";
import { MATERIAL_CHUNK_BYTES, MaterialStore } from "./handlers/materials.js";
import type { ResultVerifier } from "./handlers/results.js";
import { agreementAuthorizer } from "./inbox/agreement-authorizer.js";
import { Intake } from "./inbox/intake.js";
import { KeyedSerializer } from "./inbox/keyed-serializer.js";
import { receiptSignerFor, verifierFor, type NodeIdentity } from "./inbox/sdk-adapters.js";
import type { NodeComponents, NodeService, OpenedNodeParts } from "./node.js";
import { grpcSender } from "./outbox/grpc-sender.js";
import { PullQueue } from "./outbox/pull-queue.js";
import { Puller } from "./inbox/puller.js";
import { Outbox, type Sender } from "./outbox/outbox.js";
import { RetrySchedule } from "./outbox/retry-schedule.js";
import { federationService } from "./server/federation-service.js";
import { PartnerLimiter } from "./server/partner-limiter.js";
import { platformService } from "./server/platform-service.js";
import { storeKeys } from "./store/keys.js";
import { GroupCommitter, combineHooks } from "./store/group-committer.js";
import { prunePayloads } from "./evidence/audit.js";
import { OutboxLedger } from "./outbox/outbox-ledger.js";
import { keyBelongsTo, readNodeCredentials, spkiOf } from "./config/verify-node-config.js";
import { TableKeeper } from "./mapping/table-keeper.js";

/** Options of {@link composeNode}. */
export interface ComposeOptions {
  /** How often the outbox looks for due messages, in ms (default 250; enqueues also wake it). */
  readonly outboxIntervalMs?: number;
  /** How often deadlines are checked for yellow and red, in ms (default 60 000). */
  readonly deadlineIntervalMs?: number;
  /** How often the evidence log is checkpointed and witnesses asked to cosign, in ms (default 60 000). */
  readonly checkpointIntervalMs?: number;
  /** Replaces the gRPC sender (tests). */
  readonly sender?: Sender;
  /** Pull mode: how long an envelope parked for a connected pull partner waits to be pulled and answered, in ms (default 30 000). */
  readonly pullAnswerWithinMs?: number;
  /**
   * Replaces the seal verification of received results (default: the
   * GB/T 38540 / JOSE step report against `trust.sealCa`, docs/seals.md),
   * e.g. to ask a provincial seal verification service.
   */
  readonly resultVerifier?: ResultVerifier;
}

/** What {@link composeNode} built, for tests and tools. */
export interface ComposedNode extends Pick<NodeComponents, "federation" | "platform" | "services"> {
  readonly intake: Intake;
  readonly outbox: Outbox;
  /** The outbox by status, kept by the group committer (see OutboxLedger). */
  readonly outboxLedger: OutboxLedger;
  readonly desk: CaseDesk;
  readonly joint: JointDesk;
  readonly events: EventLog;
  /** PutMaterial streams sent, per destination (a material goes to a site once). */
  readonly materialTransfers: ReadonlyMap<string, number>;
  /** Envelopes parked for pull partners (docs/protocol.md "Pull mode"). */
  readonly pulls: PullQueue;
  /** On a pull node (`federation.delivery: pull`): the loops pulling from each push partner. */
  readonly puller: Puller | undefined;
  readonly materials: MaterialStore;
  /** The registry of the mapping tables in force (changes when the directory lists new versions). */
  readonly registry: MappingRegistry | undefined;
  /** The mapping tables held, in force and missing; see TableKeeper. */
  readonly tables: TableKeeper;
  readonly directory: DirectoryState;
  readonly evidence: { readonly log: EvidenceLog; readonly checkpoints: Checkpoints };
  /** Runs one deadline check now; returns the events it raised. */
  checkDeadlines(): Promise<NodeEvent[]>;
  /**
   * Runs evidence retention now: deletes the payloads of entries older than
   * `retention.evidencePayloadDays` (none when it is 0). Returns how many.
   */
  pruneEvidence(): Promise<number>;
  /**
   * Switches envelope signing to a new certificate and key while the node
   * runs (docs/directory.md "Rotation"): the certificate must chain to the
   * anchor and name this node; publish it in the directory (beside the old
   * one) before switching, so partners know it. Write it to `signing.cert`
   * / `signing.key` too, so a restart keeps it.
   */
  rotateSigningKey(certPem: string, keyPem: string): void;
}

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
/** How many replaced decryption keys a running node keeps (bodies partners encrypted to a key before they learnt the new one). */
export const RETIRED_KEYS_KEPT = 2;
/** Own certificates expiring within this many days raise `certificate.expiring`. */
export const CERTIFICATE_WARNING_DAYS = 30;

/** Builds intake, outbox, case desk, event log and the two services of a node. */
export async function composeNode(parts: OpenedNodeParts, options: ComposeOptions = {}): Promise<ComposedNode> {
  const { config, store, trust, logger, metrics, clock } = parts;
  // The texts openNode checked (verifyNodeConfig), else read here (tests composing on their own parts).
  const pem = parts.pem ?? (await readNodeCredentials(config));
  const { anchor } = pem;
  // The certificates and keys in use (PEM): a rotation or a reload replaces them.
  const held = { tlsCert: pem.tlsCert, tlsKey: pem.tlsKey, signingCert: pem.signingCert, signingKey: pem.signingKey };
  // Mutable so a rotation swaps the key in place for everything that signs (case desk, joint desk, receipts).
  const signer: { -readonly [K in keyof EnvelopeSigner]: EnvelopeSigner[K] } = { kid: keyIdOf(held.signingCert), privateKey: createPrivateKey(held.signingKey), algorithm: config.signing.algorithm, certificates: [certificateDer(held.signingCert)] };
  // gm-v1 (SM2SM3): bodies addressed to this node are SM2-wrapped to its signing key; JOSE partners still use the TLS key.
  // Decryption keys, tried in order: the current one, those replaced while running (RETIRED_KEYS_KEPT), then the
  // config's retiredKeys — bodies partners encrypted before they learnt the new certificate still open.
  const retiredTls = { replaced: [] as KeyObject[], configured: pem.retiredTlsKeys.map((k) => createPrivateKey(k)) };
  const retiredSigning = { replaced: [] as KeyObject[], configured: pem.retiredSigningKeys.map((k) => createPrivateKey(k)) };
  const decryptionKeys = (current: KeyObject, retired: { replaced: KeyObject[]; configured: KeyObject[] }): KeyObject[] => {
    const keys = new Map<string, KeyObject>(); // by public key: the same key configured twice is tried once
    for (const k of [current, ...retired.replaced, ...retired.configured]) {
      const id = spkiOf(k).toString("base64");
      if (!keys.has(id)) keys.set(id, k);
    }
    return [...keys.values()];
  };
  let tlsPrivateKey = createPrivateKey(held.tlsKey);
  const identity: { -readonly [K in keyof NodeIdentity]: NodeIdentity[K] } = {
    nodeId: config.nodeId,
    signer,
    decryptionKey: decryptionKeys(tlsPrivateKey, retiredTls),
    ...(config.signing.algorithm === "SM2SM3" ? { sm2DecryptionKey: decryptionKeys(signer.privateKey, retiredSigning) } : {}),
  };
  /** After a rotation: the key replaced joins the retired ones (newest first, at most RETIRED_KEYS_KEPT). */
  const retire = (retired: { replaced: KeyObject[] }, key: KeyObject): void => {
    retired.replaced = [key, ...retired.replaced].slice(0, RETIRED_KEYS_KEPT);
  };

  // Partners' TLS keys: their personal-data bodies are encrypted to them.
  const encryptionKeys = new Map<string, KeyObject>();
  const gmPartners = new Map<string, KeyObject>();
  let peerCertificate = 0; // pem.peerCertificates holds every peer's certificates, in config order
  for (const peer of config.peers) {
    for (let i = 0; i < peer.certificates.length; i++) {
      const cert = new X509Certificate(pem.peerCertificates[peerCertificate++]!);
      if (nodeIdOf(cert) !== peer.nodeId) continue;
      // A gm-v1 partner (SM2 signing certificate) gets SM2/SM4 bodies to that key; a jose-v1 partner JWE to its TLS key.
      if (isSm2KeyObject(cert.publicKey)) gmPartners.set(peer.nodeId, cert.publicKey);
      else if (Array.isArray(cert.keyUsage) && cert.keyUsage.includes(SERVER_AUTH)) encryptionKeys.set(peer.nodeId, cert.publicKey);
    }
  }

  for (const [id, key] of gmPartners) encryptionKeys.set(id, key);
  // The federation's seal CAs: seals on sealed results must chain to one (none configured: every seal fails its chain step).
  const sealMakers = config.trust.sealCa === undefined ? [] : [...(await readFile(config.trust.sealCa, "utf8")).matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => certificateDer(m[0]));
  const calendar = config.calendar === undefined ? loadChinaCalendar() : Calendar.load(await readFile(config.calendar, "utf8"));

  /** Switches envelope signing to a new certificate and key (ComposedNode.rotateSigningKey). */
  const rotateSigningKey = (certPem: string, keyPem: string): void => {
    const kid = trust.addCertificate(certPem);
    const resolved = trust.resolveSigner(kid, clock());
    if (resolved.nodeId !== config.nodeId) throw new TongbanError("TRUST_SIGNER_MISMATCH", `the new signing certificate names ${resolved.nodeId}, not ${config.nodeId}`);
    if (resolved.algorithm !== config.signing.algorithm) throw new TongbanError("TRUST_SIGNER_MISMATCH", `the new signing certificate's key is ${resolved.algorithm}, the node signs with ${config.signing.algorithm}`);
    const privateKey = createPrivateKey(keyPem);
    if (!keyBelongsTo(certPem, privateKey)) throw new TongbanError("TRUST_SIGNER_MISMATCH", "the new signing key does not belong to the new signing certificate");
    if (identity.sm2DecryptionKey !== undefined) {
      retire(retiredSigning, signer.privateKey);
      identity.sm2DecryptionKey = decryptionKeys(privateKey, retiredSigning);
    }
    Object.assign(signer, { kid, privateKey, certificates: [certificateDer(certPem)] });
    held.signingCert = certPem;
    held.signingKey = keyPem;
    logger.info({ kid }, "signing key rotated");
  };
  const warnedCertificates = new Set<string>();
  // The evidence log rides on every group batch (docs/evidence.md "In the node").
  const evidenceLog = new EvidenceLog(store, () => clock().getTime());
  await evidenceLog.open();
  // The outbox by status, read once now and then kept by the committer's batches (the gauge and restarts need no scan).
  const outboxLedger = new OutboxLedger();
  await outboxLedger.load(store);
  const committer = new GroupCommitter(store, { hook: combineHooks(evidenceLog, outboxLedger) });
  const events = new EventLog(store);
  await events.open();
  // A store written before the case indexes existed gets them once (docs/node-store.md).
  const indexed = await buildCaseIndexes(store);
  if (indexed > 0) logger.info({ records: indexed }, "case indexes (case numbers, open cases, deadlines watched, open joint cases) built from the records");
  const materials = new MaterialStore(store);
  // Before any server listens: what uploads cut short by a crash left behind goes (docs/node.md "Materials").
  const swept = await materials.recover();
  if (swept.chunks > 0) logger.info(swept, "materials: removed the chunks of uploads cut short by the last stop");
  const serializer = new KeyedSerializer();
  const emit = async (init: Parameters<EventLog["ops"]>[0]): Promise<NodeEvent> => {
    const { event, op } = events.ops(init, clock());
    try {
      await committer.commit([op]);
    } finally {
      events.settle([event]);
    }
    return event;
  };

  const transfers = new Map<string, number>();
  // The federation directory (docs/directory.md): partners, their addresses and keys, degradation when it expires.
  const directory = new DirectoryState({
    nodeId: config.nodeId,
    trust,
    graceMs: config.trust.directoryGraceMs,
    lastGoodFile: join(dirname(config.dataDir), "directory", "last-good.jws"),
    configPeers: config.peers.map((p) => ({ nodeId: p.nodeId, address: p.address, delivery: p.delivery ?? "push", encryptionKey: encryptionKeys.get(p.nodeId), source: "config" as const })),
    now: clock,
    onChange: (c) => {
      const alert = c.status === "expired-within-grace" || c.status === "stale";
      if (alert) {
        metrics.alertsTotal.inc({ kind: `directory.${c.status}` });
        logger.error({ status: c.status, version: c.version, reason: c.reason }, c.status === "stale" ? "the federation directory is past its grace period: only partners already known are served" : "the federation directory has expired: serving on the last good one within the grace period");
      } else logger.info({ status: c.status, version: c.version, previous: c.previous, reason: c.reason }, "federation directory");
      void emit({ type: c.status === "current" ? "directory.updated" : `directory.${c.status}`, ...(alert ? { alert: true } : {}), detail: { ...c } }).catch(() => undefined);
    },
  });
  await directory.restore();
  const refreshDirectory = async (): Promise<void> => {
    if (config.trust.directory === undefined) return;
    const text = await readFile(config.trust.directory, "utf8").catch(() => undefined);
    if (text === undefined) return;
    try {
      await directory.offer(text, config.trust.directory);
    } catch (err) {
      logger.error({ err, file: config.trust.directory }, "the directory file was refused; keeping the one held");
    }
  };
  await refreshDirectory();
  /**
   * Asks up to three peers, in random order, for a directory newer than the one held (GetDirectory); the first newer
   * one is offered like the file's (verified under the anchor, never older). The directory travels from node to node
   * even where the authority's file reaches only some of them.
   */
  const directoryFromPeers = async (): Promise<void> => {
    // Only a node that follows a directory (configured, or held from an earlier run) takes one from peers.
    const held = directory.version;
    if (grpc === undefined || (held === undefined && config.trust.directory === undefined)) return;
    // Pull peers take no connections: they get the directory from the nodes they pull from.
    const peers = directory.peers.filter((p) => p.address !== undefined).map((p) => p.nodeId).sort(() => Math.random() - 0.5).slice(0, 3);
    for (const peer of peers) {
      try {
        const res = await grpc.client(peer).getDirectory({ ifNewerThan: held === undefined ? "" : String(held) }, { timeoutMs: 5_000 });
        if (res.document.length === 0) continue;
        if (await directory.offer(new TextDecoder().decode(res.document), `peer ${peer}`)) {
          logger.info({ peer, version: directory.version }, "federation directory taken from a peer");
          return;
        }
      } catch (err) {
        logger.debug({ err, peer }, "could not ask a peer for a newer directory");
      }
    }
  };

  // Mapping tables (docs/mapping.md "In the node"): the operator's files and the signed tables fetched from peers;
  // with a directory, exactly the versions it lists.
  const tables = new TableKeeper({
    tablesDir: config.mapping.tablesDir,
    fetchedDir: join(dirname(config.dataDir), "fetched-tables"),
    resolveKey: (kid) => trust.resolveSigner(kid, clock()),
    fetch: async (peer, ref) => {
      if (grpc === undefined) return undefined;
      const res = await grpc.client(peer).getMappingTable({ publisher: ref.publisher, kind: ref.kind, version: String(ref.version) }, { timeoutMs: 10_000 });
      return res.document.length === 0 ? undefined : new TextDecoder().decode(res.document);
    },
  });
  tables.load(directory.verified?.directory.mappingTables);
  /** Fetches the tables the directory lists and does not have in force; one run at a time (a tick during a run joins it). */
  let following: Promise<void> | undefined;
  const followTables = (): Promise<void> =>
    (following ??= (async () => {
      const held = directory.verified?.directory;
      if (held === undefined) return;
      const others = held.nodes.filter((n) => n.nodeId !== config.nodeId && n.delivery !== "pull");
      // The node serving the publisher's region first (it published the table), then every other node.
      const peersFor = (publisher: string) => [...others.filter((n) => n.regions.includes(publisher)), ...others.filter((n) => !n.regions.includes(publisher))].map((n) => n.nodeId);
      const r = await tables.follow(held.mappingTables, peersFor);
      metrics.mappingTablesMissing.set(r.missing.length);
      for (const t of r.fetched) logger.info({ publisher: t.publisher, kind: t.kind, version: t.version }, "mapping table fetched");
      if (r.changed) {
        logger.info({ tables: tables.inForce.map((t) => `${t.table.kind}/${t.table.publisher}/v${t.table.version}`) }, "mapping tables in force changed");
        await emit({ type: "mapping.tables-updated", detail: { directoryVersion: held.version, fetched: r.fetched.map((t) => ({ ...t })) } }).catch(() => undefined);
      }
      if (r.refused !== undefined) {
        metrics.alertsTotal.inc({ kind: "mapping.tables-refused" });
        logger.error({ err: r.refused }, "the mapping tables the directory lists do not load together; the tables in force stay");
        await emit({ type: "mapping.tables-refused", alert: true, detail: { directoryVersion: held.version, code: r.refused.code, message: r.refused.message } }).catch(() => undefined);
      }
      if (r.missing.length > 0) logger.warn({ missing: r.missing.map((t) => ({ ...t })) }, "mapping tables listed by the directory are not in force yet");
    })()
      .catch((err: unknown) => logger.error({ err }, "following the directory's mapping tables failed"))
      .finally(() => {
        following = undefined;
      }));
  if (tables.registry === undefined) logger.warn("no mapping tables (mapping.tablesDir, or listed by the directory): submissions cannot be resolved and partner messages are not checked against agreements");

  const grpc =
    options.sender === undefined
      ? grpcSender({
          ca: anchor,
          cert: held.tlsCert,
          key: held.tlsKey,
          addresses: (id) => directory.peer(id)?.address,
          timeoutMs: 30_000,
          // A partner's server certificate is checked like a client's at our server: valid now and not revoked. This
          // matters most for a pull node, which takes envelopes from the servers it calls.
          checkServer: (der) => {
            try {
              trust.verifyPeerCertificate(der, clock());
              return undefined;
            } catch (err) {
              return err instanceof Error ? err : new Error(String(err));
            }
          },
          async prepare(client, destination, envelope) {
            const header = decodeHeader(envelope.header);
            for (const hex of await materialsBefore(store, header.messageId)) {
              const digest = Buffer.from(hex, "hex");
              const info = await materials.info(digest);
              if (info === undefined) continue;
              // A material goes to a site once: later messages that name it only reference it.
              const pushedKey = storeKeys.meta.key(`material-pushed\u0000${destination}\u0000${hex}`);
              if ((await store.get(pushedKey)) !== undefined) continue;
              async function* chunks() {
                let sent = false;
                for await (const c of materials.read(digest)) {
                  for (let at = 0; at < c.data.length; at += MATERIAL_CHUNK_BYTES) {
                    sent = true;
                    yield { caseId: header.caseId, digest, digestAlgorithm: "sha256", totalSize: BigInt(info!.size), offset: BigInt(c.offset + at), data: c.data.subarray(at, at + MATERIAL_CHUNK_BYTES) };
                  }
                }
                if (!sent) yield { caseId: header.caseId, digest, digestAlgorithm: "sha256", totalSize: 0n, offset: 0n, data: new Uint8Array() };
              }
              await client.putMaterial(chunks());
              transfers.set(destination, (transfers.get(destination) ?? 0) + 1);
              await store.batch([{ type: "put", key: pushedKey, value: new Uint8Array() }]);
            }
          },
        })
      : undefined;
  // Pull mode (docs/protocol.md "Pull mode"): envelopes for a partner that takes no connections wait here until it
  // pulls them; the materials they name are offered to it for FetchMaterial instead of pushed with PutMaterial.
  const pulls = new PullQueue({
    answerWithinMs: options.pullAnswerWithinMs ?? 30_000,
    materialsFor: async (_destination, envelope) => {
      const header = decodeHeader(decodeEnvelope(envelope).header);
      const out: Uint8Array[] = [];
      for (const hex of await materialsBefore(store, header.messageId)) if (await materials.has(hex)) out.push(Buffer.from(hex, "hex"));
      return out;
    },
    onConnect: (destination) => {
      void outbox
        .resume(destination)
        .then((was) => {
          logger.info({ destination }, "pull partner connected: what waits for it is queued for pulling");
          if (was) metrics.partnerUnreachable.set({ destination }, 0);
        })
        .catch((err: unknown) => logger.error({ err, destination }, "resuming a pull partner's messages failed"));
    },
  });
  const pushOrPark = options.sender ?? grpc!;
  const send: Sender = (destination, envelope) => (directory.peer(destination)?.delivery === "pull" ? pulls.send(destination, envelope) : pushOrPark(destination, envelope));

  let desk: CaseDesk | undefined;
  const outbox = new Outbox({
    store,
    committer,
    send,
    verifyReceipt: (bytes) => verifyEnvelope(bytes, { self: config.nodeId, resolver: trust, now: clock() }),
    ledger: outboxLedger,
    schedule: new RetrySchedule(config.retry.policy, config.retry.perDestination as Record<string, Partial<typeof config.retry.policy>>),
    onEvent: (e) => {
      if (e.type === "outbox.unreachable" || e.type === "outbox.reachable") {
        metrics.partnerUnreachable.set({ destination: e.destination }, e.type === "outbox.unreachable" ? 1 : 0);
        if (e.type === "outbox.unreachable") logger.warn({ destination: e.destination, messageId: e.messageId, error: e.error }, "partner unreachable: its messages wait, one is tried at a time on the backoff");
        else logger.info({ destination: e.destination, messageId: e.messageId }, "partner reachable again: sending what waited");
        return;
      }
      metrics.deliveryAttemptsTotal.inc({ destination: e.destination, result: e.type.slice("outbox.".length) });
      if (e.type === "outbox.acknowledged") {
        void directory.contacted(e.destination).catch(() => undefined);
        void outbox.status(e.messageId).then((r) => (r === undefined || r.caseId === "" ? undefined : desk?.delivered(r.caseId, e.messageId))).catch((err: unknown) => logger.error({ err, messageId: e.messageId }, "recording delivery failed"));
        return;
      }
      if (e.type === "outbox.failed" || e.type === "outbox.rejected") {
        metrics.alertsTotal.inc({ kind: e.type });
        logger.error({ messageId: e.messageId, destination: e.destination, attempts: e.attempts, error: e.error }, e.type === "outbox.failed" ? "delivery failed for good: the partner did not take the message before the final deadline" : "the partner rejected the message");
        void outbox
          .status(e.messageId)
          .then((r) => emit({ type: e.type, alert: true, messageId: e.messageId, partner: e.destination, ...(r?.caseId ? { caseId: r.caseId } : {}), detail: { attempts: e.attempts, ...(e.error === undefined ? {} : { error: e.error }) } }))
          .catch((err: unknown) => logger.error({ err }, "writing an alert event failed"));
      } else if (e.type === "outbox.retry") {
        logger.warn({ messageId: e.messageId, destination: e.destination, attempts: e.attempts, error: e.error }, "delivery will be retried");
      }
    },
  });

  const effects = caseEffects({
    selfNodeId: config.nodeId,
    calendar,
    events,
    now: clock,
    results: { sealMakers, materials, now: clock, ...(options.resultVerifier === undefined ? {} : { verifier: options.resultVerifier }) },
    workingDaysFor: (basicCode) => tables.registry?.itemIn(config.nodeId.split(".")[1] ?? "", basicCode)?.promisedWorkingDays,
  });
  const checkpoints = new Checkpoints({
    nodeId: config.nodeId,
    store,
    committer,
    log: evidenceLog,
    outbox,
    trust,
    signer,
    // Checkpoints are ES256/EdDSA statements; a GM node keeps its log and bundles but signs no checkpoints yet.
    evidenceSigner: () => (config.signing.algorithm === "SM2SM3" ? undefined : { privateKey: signer.privateKey, certificateChain: [held.signingCert] }),
    witnesses: () => directory.peers.map((p) => p.nodeId),
    events,
    now: clock,
  });
  await checkpoints.open();
  let joint: JointDesk | undefined;
  // Envelope signatures in and receipt signatures out are checked and made on a worker thread, in batches (docs/benchmarks.md).
  const signatures = startSignatureWorker();
  const intake = new Intake(
    {
      store,
      committer,
      verify: verifierFor(identity, trust, { clockSkewMs: config.limits.timestampWindowMs, offload: signatures }, clock),
      signReceipt: receiptSignerFor(identity, { offload: signatures }),
      // Joint handling bodies go to the joint desk, everything else to the case effects.
      apply: (m, s) => (isJointBody(m.body) ? joint!.effects(m, s) : m.body.kind.case === "checkpointCosignature" ? checkpoints.effects(m, s) : effects(m, s)),
      authorize: agreementAuthorizer({ registry: () => tables.registry, selfNodeId: config.nodeId }),
      serializer,
      now: clock,
      settled: (m) => {
        effects.settle(`${m.header.sender} ${m.header.messageId}`);
        joint?.settle(`${m.header.sender} ${m.header.messageId}`);
        checkpoints.settle(`${m.header.sender} ${m.header.messageId}`);
      },
    },
    { maxInFlight: config.limits.maxInFlight },
  );
  const deskParts: CaseDeskDeps = { nodeId: config.nodeId, store, committer, outbox, serializer, signer, encryptionKeyOf: (id) => directory.peer(id)?.encryptionKey, registry: () => tables.registry, materials, events, calendar, now: clock };
  joint = new JointDesk(deskParts);
  desk = new CaseDesk(deskParts);

  /** Raises `deadline.yellow` / `deadline.red` once per level change for open cases with a running clock. */
  const checkDeadlines = async (): Promise<NodeEvent[]> => {
    const raised: NodeEvent[] = [];
    const now = clock();
    // Only the cases whose deadline runs (the deadline-watch index), not every case the node ever handled.
    for await (const caseId of watchedCases(store)) {
      await serializer.run(`case\u0000${caseId}`, async () => {
        const fresh = await desk!.get(caseId);
        if (fresh === undefined || !deadlineWatched(fresh) || fresh.deadline === undefined) return;
        const status = DeadlineClock.fromJSON(calendar, fresh.deadline).status(now);
        const level = status.level;
        if (level === fresh.deadlineLevel || level === "stopped" || level === "green") return;
        const { event, op } = events.ops({ type: `deadline.${level}`, caseId, partner: fresh.partner, alert: level === "red", detail: { dueAt: status.dueAt.toISOString(), remainingWorkingDays: status.remainingWorkingDays } }, now);
        try {
          await committer.commit([op, ...caseOps({ ...fresh, deadlineLevel: level })]);
        } finally {
          events.settle([event]);
        }
        metrics.deadlineWarningsTotal.inc({ level });
        if (level === "red") metrics.alertsTotal.inc({ kind: "deadline.red" });
        raised.push(event);
      });
    }
    for (const e of await joint!.checkOverdue()) {
      raised.push(e);
      metrics.alertsTotal.inc({ kind: "joint.task.overdue" });
    }
    directory.check();
    // Own certificates nearing expiry: warned weeks ahead (once per certificate per run), as an alert.
    for (const [what, pem] of [["tls", held.tlsCert], ["signing", held.signingCert]] as const) {
      const notAfter = new Date(new X509Certificate(pem).validTo);
      const days = (notAfter.getTime() - now.getTime()) / 86_400_000;
      const key = `${what} ${notAfter.toISOString()}`;
      if (days > CERTIFICATE_WARNING_DAYS || warnedCertificates.has(key)) continue;
      warnedCertificates.add(key);
      metrics.alertsTotal.inc({ kind: "certificate.expiring" });
      logger.error({ certificate: what, notAfter: notAfter.toISOString(), days: Math.floor(days) }, "a certificate of this node expires soon: renew it and publish the new one in the directory");
      raised.push(await emit({ type: "certificate.expiring", alert: true, detail: { certificate: what, notAfter: notAfter.toISOString(), days: Math.floor(days) } }));
    }
    // The outbox gauge, by status (tongban_outbox_messages), from the ledger the committer keeps.
    for (const [status, n] of Object.entries(outboxLedger.counts())) metrics.outboxMessages.set({ status }, n);
    return raised;
  };

  /** Evidence retention (retention.evidencePayloadDays): the payloads of older entries go, the entries and hashes stay. */
  const pruneEvidence = async (): Promise<number> => {
    const days = config.retention.evidencePayloadDays;
    if (days === 0) return 0;
    const deleted = await prunePayloads(store, new Date(clock().getTime() - days * 86_400_000));
    if (deleted > 0) {
      metrics.evidencePayloadsPrunedTotal.inc(deleted);
      logger.info({ deleted, olderThanDays: days }, "evidence retention: payloads deleted (entries and hashes kept)");
    }
    return deleted;
  };
  let retentionTimer: NodeJS.Timeout | undefined;
  let retentionStopped = false;
  let retentionRun: Promise<unknown> = Promise.resolve();
  let deadlineTimer: NodeJS.Timeout | undefined;
  let directoryTimer: NodeJS.Timeout | undefined;
  let evidenceTimer: NodeJS.Timeout | undefined;
  const services: NodeService[] = [
    { name: "signature-worker", stop: () => signatures.close() },
    { name: "group-committer", stop: () => committer.close() },
    { name: "sender", stop: () => grpc?.close() },
    {
      name: "intake",
      async start() {
        const released = await intake.recover();
        if (released > 0) logger.info({ released }, "released held messages after restart");
      },
      stop() {},
    },
    {
      name: "outbox",
      async start() {
        const reset = await outbox.recover();
        if (reset > 0) logger.info({ reset }, "outbox: messages in flight at the last stop will be sent again");
        outbox.start(options.outboxIntervalMs ?? 250);
      },
      stop: () => outbox.stop(),
    },
    {
      name: "evidence",
      start() {
        const tick = () => {
          void checkpoints
            .checkpoint()
            .then(() => checkpoints.requestWitnesses())
            .catch((err: unknown) => logger.error({ err }, "evidence checkpoint failed"))
            .finally(() => {
              evidenceTimer = setTimeout(tick, options.checkpointIntervalMs ?? 60_000);
              evidenceTimer.unref();
            });
        };
        evidenceTimer = setTimeout(tick, options.checkpointIntervalMs ?? 60_000);
        evidenceTimer.unref();
      },
      async stop() {
        if (evidenceTimer !== undefined) clearTimeout(evidenceTimer);
        // A last checkpoint over everything written, so an export after a stop covers it.
        await checkpoints.checkpoint({ force: true }).catch((err: unknown) => logger.error({ err }, "final evidence checkpoint failed"));
      },
    },
    {
      name: "retention",
      start() {
        if (config.retention.evidencePayloadDays === 0) return;
        // At start, then every 6 hours.
        const tick = () => {
          retentionRun = pruneEvidence()
            .catch((err: unknown) => logger.error({ err }, "evidence retention failed"))
            .finally(() => {
              if (retentionStopped) return;
              retentionTimer = setTimeout(tick, 6 * 3_600_000);
              retentionTimer.unref();
            });
        };
        tick();
      },
      async stop() {
        retentionStopped = true;
        if (retentionTimer !== undefined) clearTimeout(retentionTimer);
        await retentionRun; // a run in progress ends before the store closes
      },
    },
    {
      name: "directory",
      start() {
        void followTables();
        const tick = () => {
          void refreshDirectory()
            .then(directoryFromPeers)
            .finally(() => {
              directory.check();
              void followTables();
              directoryTimer = setTimeout(tick, config.trust.directoryRefreshMs);
              directoryTimer.unref();
            });
        };
        directoryTimer = setTimeout(tick, config.trust.directoryRefreshMs);
        directoryTimer.unref();
      },
      stop() {
        if (directoryTimer !== undefined) clearTimeout(directoryTimer);
      },
    },
    {
      name: "deadlines",
      start() {
        const tick = () => {
          void checkDeadlines()
            .catch((err: unknown) => logger.error({ err }, "deadline check failed"))
            .finally(() => {
              deadlineTimer = setTimeout(tick, options.deadlineIntervalMs ?? 60_000);
              deadlineTimer.unref();
            });
        };
        tick();
      },
      stop() {
        if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
      },
    },
  ];

  const federation = federationService({ nodeId: config.nodeId, intake, trust, materials, store, pulls, now: clock, directoryVersion: () => directory.version, suites: [config.signing.algorithm === "SM2SM3" ? "gm-v1" : "jose-v1"] });
  const deliver = federation.deliver!;
  const limiter = new PartnerLimiter({ rate: config.limits.perPartnerRate, burst: config.limits.perPartnerBurst, inFlight: config.limits.perPartnerInFlight });
  // Every delivery is counted by result and code, and timed (tongban_intake_total, tongban_intake_seconds).
  /**
   * One delivery, pushed to this node (Deliver) or pulled by it: the peer admitted by the directory, counted and timed
   * (tongban_intake_total, tongban_intake_seconds), a refusal logged with its code.
   */
  const countedDelivery = async <T>(peer: string | undefined, how: "delivery" | "pulled delivery", run: () => Promise<T>): Promise<T> => {
    const end = metrics.intakeSeconds.startTimer();
    try {
      if (peer !== undefined) directory.admit(peer);
      const res = await run();
      if (peer !== undefined) void directory.contacted(peer).catch(() => undefined);
      metrics.intakeTotal.inc({ result: "accepted", code: "" });
      return res;
    } catch (err) {
      const code = err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : "INTERNAL";
      metrics.intakeTotal.inc({ result: "refused", code });
      logger.warn({ code, message: err instanceof Error ? err.message : String(err), peer }, `${how} refused`);
      throw err;
    } finally {
      end();
    }
  };
  federation.deliver = (req, ctx) =>
    countedDelivery(ctx.peer.nodeId, "delivery", async () => {
      // Per-partner rate and concurrency: one partner's flood does not starve the others.
      const release = limiter.admit(ctx.peer.nodeId ?? ctx.peer.address);
      try {
        return await deliver(req, ctx);
      } finally {
        release();
      }
    });

  // GetDirectory: the held directory, to any authenticated peer (it is self-verifying).
  federation.getDirectory = async (req) => {
    const held = directory.version;
    if (held === undefined || directory.document === undefined) throw new TongbanError("DIRECTORY_NOT_HELD", "this node holds no federation directory");
    const newerThan = req.ifNewerThan === "" ? -1 : Number(req.ifNewerThan);
    return { version: String(held), document: held > newerThan ? new TextEncoder().encode(directory.document) : new Uint8Array() };
  };

  // GetMappingTable: a signed table this node holds, to any authenticated peer (it is self-verifying).
  federation.getMappingTable = async (req) => {
    const version = req.version === "" ? undefined : Number(req.version);
    if (version !== undefined && !(Number.isInteger(version) && version >= 1)) {
      throw new TongbanError("MAPPING_TABLE_INVALID", `version must be empty or an integer ≥ 1, got ${JSON.stringify(req.version)}`, { details: { field: "version" } });
    }
    const hit = tables.document(req.publisher, req.kind, version);
    if (hit === undefined) {
      throw new TongbanError("MAPPING_TABLE_NOT_FOUND", `this node holds no signed ${req.kind} table of ${req.publisher}${version === undefined ? "" : ` version ${version}`}`, {
        details: { publisher: req.publisher, kind: req.kind, ...(version === undefined ? {} : { version }) },
      });
    }
    return { version: String(hit.version), document: new TextEncoder().encode(hit.document) };
  };

  // A pull node (federation.delivery: pull) takes no connections: it pulls from every push partner instead, and each
  // pulled envelope goes through the same intake as a Deliver call, counted in the same metrics.
  const puller =
    config.federation.delivery === "pull" && grpc !== undefined
      ? new Puller({
          peers: () => directory.peers.filter((p) => p.delivery !== "pull" && p.address !== undefined).map((p) => p.nodeId),
          client: (id) => grpc.client(id),
          materials,
          waitMs: config.federation.pullWaitMs,
          take: (peer, envelope) => countedDelivery(peer, "pulled delivery", async () => (await intake.deliver(envelope, { nodeId: peer })).receipt),
          onEvent: (e) => {
            if (e.type === "pull.connected" || e.type === "pull.disconnected") {
              metrics.pullConnected.set({ partner: e.peer }, e.type === "pull.connected" ? 1 : 0);
              if (e.type === "pull.connected") logger.info({ partner: e.peer }, "pulling from partner");
              else logger.warn({ partner: e.peer, error: e.error }, "cannot pull from partner: retrying with backoff");
            } else metrics.pulledTotal.inc({ partner: e.peer, result: e.type === "pull.taken" ? "taken" : "refused" });
          },
        })
      : undefined;
  // Stopped before the outbox (services stop in reverse): parked attempts end at once rather than at their wait.
  services.push({ name: "pull-queue", stop: () => pulls.close() });
  if (puller !== undefined) services.push({ name: "puller", start: () => puller.start(), stop: () => puller.stop() });

  const composed: ComposedNode = {
    federation,
    platform: platformService({ nodeId: config.nodeId, desk, joint, outbox, materials, events, registry: () => tables.registry, calendar, now: clock }),
    services,
    intake,
    outbox,
    desk,
    joint,
    events,
    materials,
    outboxLedger,
    materialTransfers: transfers,
    pulls,
    puller,
    directory,
    evidence: { log: evidenceLog, checkpoints },
    get registry() {
      return tables.registry;
    },
    tables,
    checkDeadlines,
    pruneEvidence,
    rotateSigningKey,
  };
  // SIGHUP also re-reads the mapping tables (a new version in mapping.tablesDir); a set that does not load is
  // reported and changes nothing — it never fails the credential reload.
  services.push({
    name: "mapping-tables",
    stop: () => undefined,
    reloadCredentials: async () => {
      try {
        if (tables.reload(directory.verified?.directory.mappingTables)) {
          logger.info({ tables: tables.inForce.map((t) => `${t.table.kind}/${t.table.publisher}/v${t.table.version}`) }, "mapping tables reloaded");
          await emit({ type: "mapping.tables-updated", detail: { reloaded: true } }).catch(() => undefined);
        }
      } catch (err) {
        metrics.alertsTotal.inc({ kind: "mapping.tables-refused" });
        logger.error({ err }, "the mapping tables were not reloaded; the tables in force stay");
        await emit({ type: "mapping.tables-refused", alert: true, detail: { code: err instanceof TongbanError ? err.code : "INTERNAL", message: err instanceof Error ? err.message : String(err) } }).catch(() => undefined);
      }
    },
  });
  // The credentials changed on disk and checked by TongbanNode.reloadCredentials (SIGHUP).
  services.push({
    name: "credentials",
    stop: () => undefined,
    async reloadCredentials(next) {
      // Every key is read before anything is swapped.
      const tlsKeyChanged = next.tlsKey !== held.tlsKey;
      const newTlsKey = tlsKeyChanged ? createPrivateKey(next.tlsKey) : undefined;
      const configuredTls = next.retiredTlsKeys.map((k) => createPrivateKey(k));
      const configuredSigning = next.retiredSigningKeys.map((k) => createPrivateKey(k));
      if (next.signingCert !== held.signingCert || next.signingKey !== held.signingKey) rotateSigningKey(next.signingCert, next.signingKey);
      retiredTls.configured = configuredTls;
      retiredSigning.configured = configuredSigning;
      if (newTlsKey !== undefined) {
        retire(retiredTls, tlsPrivateKey);
        tlsPrivateKey = newTlsKey;
      }
      identity.decryptionKey = decryptionKeys(tlsPrivateKey, retiredTls);
      if (identity.sm2DecryptionKey !== undefined) identity.sm2DecryptionKey = decryptionKeys(signer.privateKey, retiredSigning);
      if (next.tlsCert !== held.tlsCert || tlsKeyChanged) {
        held.tlsCert = next.tlsCert;
        held.tlsKey = next.tlsKey;
        grpc?.setIdentity({ cert: next.tlsCert, key: next.tlsKey });
        logger.info({ kid: keyIdOf(next.tlsCert) }, "TLS certificate replaced: new connections and deliveries use it");
      }
      await refreshDirectory();
    },
  });
  // The operator console, when configured: its own port, login required (docs/console.md).
  const consoleListen = config.console.listen;
  if (consoleListen !== undefined) {
    let handle: ConsoleHandle | undefined;
    services.push({
      name: "console",
      async start() {
        handle = await startConsole({ nodeId: config.nodeId, host: consoleListen.host, port: consoleListen.port, users: config.console.users, node: composed, store });
        logger.info({ url: handle.url }, "console listening");
      },
      stop: () => handle?.close(),
    });
  }
  return composed;
}
