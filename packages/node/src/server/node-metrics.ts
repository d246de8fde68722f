import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The node's Prometheus metrics: one registry per node (two nodes in one
 * process never mix their numbers), every series labelled `node_id`.
 * The intake, outbox, deadline and alert code record into these typed
 * handles; `/metrics` serves {@link NodeMetrics.registry}.
 */
export interface NodeMetrics {
  readonly registry: Registry;
  /** Deliveries handled by the intake. `result`: accepted | duplicate | held | rejected; `code`: the error code or "". */
  readonly intakeTotal: Counter<"result" | "code">;
  /** Time from receiving an envelope to returning its receipt (or error). */
  readonly intakeSeconds: Histogram<never>;
  /** Outbox messages by status (QUEUED, SENDING, RETRY_WAIT, ACKNOWLEDGED, FAILED, REJECTED). */
  readonly outboxMessages: Gauge<"status">;
  /** Send attempts by destination node and result (acknowledged | retry | failed | rejected). */
  readonly deliveryAttemptsTotal: Counter<"destination" | "result">;
  /** Deadline warnings raised, by level (yellow | red). */
  readonly deadlineWarningsTotal: Counter<"level">;
  /** Alerts raised, by kind (e.g. outbox.failed, outbox.rejected). */
  readonly alertsTotal: Counter<"kind">;
  readonly backupsTotal: Counter<"result">;
  /** Evidence payloads deleted by retention (`retention.evidencePayloadDays`). */
  readonly evidencePayloadsPrunedTotal: Counter<never>;
  readonly backupLastSuccess: Gauge<never>;
  /** 1 while the outbox holds a partner as unreachable (not answering at the transport level), else 0. */
  readonly partnerUnreachable: Gauge<"destination">;
  /** Credential reloads (SIGHUP, `reloadCredentials()`), by result (ok, refused). */
  readonly credentialReloadsTotal: Counter<"result">;
  /** Mapping tables the directory lists that this node does not have in force. */
  readonly mappingTablesMissing: Gauge<never>;
  /** Pull mode: 1 while this node's PullEvents stream to a partner answers, else 0 (only on a pull node). */
  readonly pullConnected: Gauge<"partner">;
  /** Envelopes pulled from partners (pull node), by partner and result (taken | refused). */
  readonly pulledTotal: Counter<"partner" | "result">;
}

/** Options of {@link createNodeMetrics}. */
export interface NodeMetricsOptions {
  readonly nodeId: string;
  /** Also collect Node.js process metrics (CPU, memory, event loop). Default true. */
  readonly processMetrics?: boolean;
}

/**
 * Creates a node's registry and metrics.
 *
 * @example
 * ```ts
 * const metrics = createNodeMetrics({ nodeId: "cn.310118.qingpu" });
 * const end = metrics.intakeSeconds.startTimer();
 * metrics.intakeTotal.inc({ result: "accepted", code: "" });
 * end();
 * ```
 */
export function createNodeMetrics(options: NodeMetricsOptions): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node_id: options.nodeId });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    intakeTotal: new Counter({
      name: "tongban_intake_total",
      help: "Envelopes delivered to the intake, by result and error code",
      labelNames: ["result", "code"] as const,
      registers,
    }),
    intakeSeconds: new Histogram({
      name: "tongban_intake_seconds",
      help: "Seconds from receiving an envelope to answering it (receipt or error)",
      // The target is p99 < 50 ms; buckets resolve that region finely.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    outboxMessages: new Gauge({
      name: "tongban_outbox_messages",
      help: "Outbox messages by status",
      labelNames: ["status"] as const,
      registers,
    }),
    deliveryAttemptsTotal: new Counter({
      name: "tongban_delivery_attempts_total",
      help: "Outbound delivery attempts by destination node and result",
      labelNames: ["destination", "result"] as const,
      registers,
    }),
    deadlineWarningsTotal: new Counter({
      name: "tongban_deadline_warnings_total",
      help: "Case deadline warnings raised, by level (yellow, red)",
      labelNames: ["level"] as const,
      registers,
    }),
    alertsTotal: new Counter({
      name: "tongban_alerts_total",
      help: "Operator alerts raised, by kind",
      labelNames: ["kind"] as const,
      registers,
    }),
    evidencePayloadsPrunedTotal: new Counter({
      name: "tongban_evidence_payloads_pruned_total",
      help: "Evidence payloads deleted by retention (the entries and their hashes stay)",
      registers,
    }),
    backupsTotal: new Counter({
      name: "tongban_backups_total",
      help: "Store backups written, by result (ok, failed)",
      labelNames: ["result"] as const,
      registers,
    }),
    backupLastSuccess: new Gauge({
      name: "tongban_backup_last_success_timestamp_seconds",
      help: "When the last store backup was completed (Unix time); 0 before the first",
      registers,
    }),
    partnerUnreachable: new Gauge({
      name: "tongban_partner_unreachable",
      help: "1 while the outbox holds a partner as unreachable (its messages wait; one probe per backoff), else 0",
      labelNames: ["destination"] as const,
      registers,
    }),
    pullConnected: new Gauge({
      name: "tongban_pull_connected",
      help: "Pull mode: 1 while this node's PullEvents stream to the partner answers, else 0",
      labelNames: ["partner"] as const,
      registers,
    }),
    pulledTotal: new Counter({
      name: "tongban_pulled_total",
      help: "Envelopes this pull node collected from partners with PullEvents, by partner and result (taken: receipted; refused: answered with a code)",
      labelNames: ["partner", "result"] as const,
      registers,
    }),
    mappingTablesMissing: new Gauge({
      name: "tongban_mapping_tables_missing",
      help: "Mapping tables the federation directory lists that this node does not have in force (fetched from peers with GetMappingTable)",
      registers,
    }),
    credentialReloadsTotal: new Counter({
      name: "tongban_credential_reloads_total",
      help: "Reloads of the node's certificates, keys and CRL while running, by result (ok, refused)",
      labelNames: ["result"] as const,
      registers,
    }),
  };
}
