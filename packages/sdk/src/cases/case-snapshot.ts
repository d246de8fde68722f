import { CaseState, HandlingMode } from "../gen/tongban/v1/common_pb.js";
import { CASE_ENTRY_STATES, isCaseMode, type CaseMode } from "./case-transitions.js";

/**
 * The state of one case as a plain, JSON-serializable value. Snapshots are
 * immutable: `transition` returns a new one.
 */
export interface CaseSnapshot {
  /** Federation-wide case id (UUIDv7). */
  readonly caseId: string;
  readonly mode: CaseMode;
  readonly state: CaseState;
  /** True once 受理 happened; selects the post-acceptance correction rows. */
  readonly accepted: boolean;
  /** True once the applicant's 好差评 was recorded; it is allowed once. */
  readonly evaluated: boolean;
  /** ISO 8601 instant of the last applied event (or of opening). */
  readonly updatedAt: string;
  /** Number of events applied since opening; lets a store detect lost updates. */
  readonly version: number;
}

/** Options for {@link openCase}. */
export interface OpenCaseOptions {
  readonly caseId: string;
  readonly mode: CaseMode;
  readonly at: Date;
  /** One of the mode's entry states; defaults to the first (RECEIVED or SUBMITTED). */
  readonly state?: CaseState;
}

/**
 * Opens a case at one of its mode's entry states (see `CASE_ENTRY_STATES`).
 *
 * @example
 * ```ts
 * const atWindow = openCase({ caseId, mode: HandlingMode.REMOTE_RECEIPT, at: new Date() });
 * const atHandling = openCase({ caseId, mode: HandlingMode.REMOTE_RECEIPT, at, state: CaseState.DELIVERED });
 * ```
 */
export function openCase(options: OpenCaseOptions): CaseSnapshot {
  const { caseId, mode, at } = options;
  if (typeof caseId !== "string" || caseId.length === 0) throw new TypeError("openCase: caseId must be a non-empty string");
  if (!isCaseMode(mode)) {
    throw new TypeError(`openCase: mode must be HandlingMode.REMOTE_RECEIPT or FULL_ONLINE, got ${String(mode)} (joint cases use the sub-task machine)`);
  }
  assertInstant(at, "openCase: at");
  const entry = CASE_ENTRY_STATES[mode];
  const state = options.state ?? entry[0];
  if (state === undefined || !entry.includes(state)) {
    throw new TypeError(`openCase: a ${HandlingMode[mode]} case opens at ${entry.map((s) => CaseState[s]).join(" or ")}, not ${String(options.state)}`);
  }
  return Object.freeze({ caseId, mode, state, accepted: false, evaluated: false, updatedAt: at.toISOString(), version: 0 });
}

/** @internal Throws a TypeError unless `at` is a valid Date. */
export function assertInstant(at: unknown, what: string): asserts at is Date {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new TypeError(`${what} must be a valid Date`);
}
