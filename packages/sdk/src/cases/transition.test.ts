import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CaseState, HandlingMode } from "../gen/tongban/v1/common_pb.js";
import { MessageType } from "../gen/tongban/v1/envelope_pb.js";
import { TongbanError } from "../errors/index.js";
import { CASE_ACTIONS, CASE_ACTION_MESSAGES, CASE_ROLES, caseActionForMessage, type CaseAction, type CaseRole } from "./case-action.js";
import { openCase, type CaseSnapshot } from "./case-snapshot.js";
import { CASE_ENTRY_STATES, CASE_TRANSITIONS, caseStatesOf, isOpen, isTerminal, type CaseMode } from "./case-transitions.js";
import { allowedActions, transition } from "./transition.js";

const at = new Date("2025-09-26T02:00:00Z");
const REMOTE = HandlingMode.REMOTE_RECEIPT;
const ONLINE = HandlingMode.FULL_ONLINE;

function run(snapshot: CaseSnapshot, steps: readonly [CaseAction, CaseRole][]): CaseSnapshot {
  return steps.reduce((s, [action, role]) => transition(s, { action, role, at }), snapshot);
}

function invalid(fn: () => unknown): TongbanError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TongbanError);
    expect((err as TongbanError).code).toBe("CASE_INVALID_TRANSITION");
    return err as TongbanError;
  }
  throw new Error("expected CASE_INVALID_TRANSITION");
}

describe("remote receipt lifecycle", () => {
  it("runs from RECEIVED at the window to ARCHIVED", () => {
    const steps: [CaseAction, CaseRole, CaseState][] = [
      ["check", "receiving", CaseState.CHECKED],
      ["forward", "receiving", CaseState.FORWARDED],
      ["deliver", "handling", CaseState.DELIVERED],
      ["accept", "handling", CaseState.ACCEPTED],
      ["request-correction", "handling", CaseState.CORRECTION_REQUESTED],
      ["correct", "receiving", CaseState.CORRECTED],
      ["suspend", "handling", CaseState.SUSPENDED],
      ["resume", "handling", CaseState.RESUMED],
      ["decide", "handling", CaseState.DECIDED],
      ["send-result", "handling", CaseState.RESULT_SENT],
      ["confirm-delivery", "receiving", CaseState.RESULT_DELIVERED],
      ["archive", "handling", CaseState.ARCHIVED],
    ];
    let c = openCase({ caseId: "c1", mode: REMOTE, at });
    expect(c.state).toBe(CaseState.RECEIVED);
    for (const [action, role, next] of steps) {
      c = transition(c, { action, role, at });
      expect(CaseState[c.state]).toBe(CaseState[next]);
    }
    expect(c.version).toBe(steps.length);
    expect(c.accepted).toBe(true);
    expect(isTerminal(c.state)).toBe(true);
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  it("refuses an action in the wrong state with from, action and allowed", () => {
    const c = openCase({ caseId: "c2", mode: REMOTE, at });
    const err = invalid(() => transition(c, { action: "accept", role: "handling", at }));
    expect(err.details).toMatchObject({ caseId: "c2", mode: "REMOTE_RECEIPT", from: "RECEIVED", action: "accept", role: "handling", allowed: [] });
    expect(c.state).toBe(CaseState.RECEIVED); // nothing applied
  });

  it("refuses the right action by the wrong site", () => {
    const delivered = openCase({ caseId: "c3", mode: REMOTE, at, state: CaseState.DELIVERED });
    const err = invalid(() => transition(delivered, { action: "accept", role: "receiving", at }));
    expect(err.details["allowed"]).toEqual(["withdraw"]);
    expect(allowedActions(delivered, "handling")).toEqual(["accept", "refuse", "request-correction", "withdraw"]);
  });

  it("allows 补正 before 受理, after which the case is accepted or refused", () => {
    const c = run(openCase({ caseId: "c4", mode: REMOTE, at, state: CaseState.DELIVERED }), [
      ["request-correction", "handling"],
      ["correct", "receiving"],
    ]);
    expect(c.accepted).toBe(false);
    expect(allowedActions(c, "handling")).toEqual(["accept", "refuse", "request-correction", "withdraw"]);
    invalid(() => transition(c, { action: "decide", role: "handling", at }));
    invalid(() => transition(c, { action: "suspend", role: "handling", at }));
    expect(transition(c, { action: "accept", role: "handling", at }).state).toBe(CaseState.ACCEPTED);
  });

  it("ends an unanswered pre-acceptance correction in refusal, a post-acceptance one in a decision", () => {
    const before = run(openCase({ caseId: "c5", mode: REMOTE, at, state: CaseState.DELIVERED }), [["request-correction", "handling"]]);
    expect(transition(before, { action: "refuse", role: "handling", at }).state).toBe(CaseState.REFUSED);
    invalid(() => transition(before, { action: "decide", role: "handling", at }));
    const after = run(before, [
      ["correct", "handling"],
      ["accept", "handling"],
      ["request-correction", "handling"],
    ]);
    expect(transition(after, { action: "decide", role: "handling", at }).state).toBe(CaseState.DECIDED);
    invalid(() => transition(after, { action: "refuse", role: "handling", at }));
    const corrected = transition(after, { action: "correct", role: "receiving", at });
    invalid(() => transition(corrected, { action: "accept", role: "handling", at }));
    expect(allowedActions(corrected, "handling")).toEqual(["request-correction", "suspend", "decide", "withdraw"]);
  });

  it("allows suspension only after 受理 and not during a correction", () => {
    const delivered = openCase({ caseId: "c6", mode: REMOTE, at, state: CaseState.DELIVERED });
    invalid(() => transition(delivered, { action: "suspend", role: "handling", at }));
    const accepted = transition(delivered, { action: "accept", role: "handling", at });
    const correcting = transition(accepted, { action: "request-correction", role: "handling", at });
    invalid(() => transition(correcting, { action: "suspend", role: "handling", at }));
    const suspended = transition(accepted, { action: "suspend", role: "handling", at });
    expect(allowedActions(suspended, "handling")).toEqual(["resume", "withdraw"]);
    invalid(() => transition(suspended, { action: "decide", role: "handling", at }));
    invalid(() => transition(suspended, { action: "resume", role: "receiving", at }));
  });

  it("allows withdrawal from every open state and from none other", () => {
    for (const mode of [REMOTE, ONLINE] as CaseMode[]) {
      for (const state of caseStatesOf(mode)) {
        const snapshot: CaseSnapshot = { caseId: "w", mode, state, accepted: false, evaluated: false, updatedAt: at.toISOString(), version: 0 };
        const can = CASE_ROLES.some((role) => allowedActions(snapshot, role).includes("withdraw"));
        expect([CaseState[state], can]).toEqual([CaseState[state], isOpen(state)]);
      }
    }
    const early = openCase({ caseId: "c7", mode: REMOTE, at });
    invalid(() => transition(early, { action: "withdraw", role: "handling", at })); // the handling site does not know it yet
    expect(transition(early, { action: "withdraw", role: "receiving", at }).state).toBe(CaseState.WITHDRAWN);
  });
});

describe("full online lifecycle", () => {
  it("runs from SUBMITTED to ARCHIVED and has no window steps", () => {
    let c = openCase({ caseId: "o1", mode: ONLINE, at });
    expect(c.state).toBe(CaseState.SUBMITTED);
    invalid(() => transition(c, { action: "check", role: "receiving", at }));
    c = run(c, [
      ["deliver", "handling"],
      ["accept", "handling"],
      ["decide", "handling"],
      ["send-result", "handling"],
      ["confirm-delivery", "handling"],
      ["archive", "handling"],
    ]);
    expect(c.state).toBe(CaseState.ARCHIVED);
    expect(caseStatesOf(ONLINE)).not.toContain(CaseState.RECEIVED);
    expect(caseStatesOf(ONLINE)).not.toContain(CaseState.FORWARDED);
    expect(caseStatesOf(REMOTE)).not.toContain(CaseState.SUBMITTED);
  });

  it("rejects opening in a state that is not an entry state, and other modes", () => {
    expect(() => openCase({ caseId: "o2", mode: ONLINE, at, state: CaseState.RECEIVED })).toThrow(TypeError);
    expect(() => openCase({ caseId: "o2", mode: HandlingMode.JOINT as CaseMode, at })).toThrow(TypeError);
    expect(() => openCase({ caseId: "", mode: ONLINE, at })).toThrow(TypeError);
  });
});

describe("evaluation (好差评)", () => {
  it("is allowed once after delivery, refusal or withdrawal, and changes no state", () => {
    const refused = run(openCase({ caseId: "e1", mode: ONLINE, at, state: CaseState.DELIVERED }), [["refuse", "handling"]]);
    expect(allowedActions(refused, "receiving")).toEqual(["evaluate"]);
    const evaluated = transition(refused, { action: "evaluate", role: "receiving", at });
    expect(evaluated.state).toBe(CaseState.REFUSED);
    expect(evaluated.evaluated).toBe(true);
    const err = invalid(() => transition(evaluated, { action: "evaluate", role: "handling", at }));
    expect(err.details).toMatchObject({ reason: "already-evaluated", allowed: [] });
    const withdrawn = run(openCase({ caseId: "e2", mode: ONLINE, at }), [["withdraw", "receiving"]]);
    expect(transition(withdrawn, { action: "evaluate", role: "handling", at }).evaluated).toBe(true);
  });

  it("is refused while the case is still being handled", () => {
    const decided = run(openCase({ caseId: "e3", mode: ONLINE, at, state: CaseState.DELIVERED }), [
      ["accept", "handling"],
      ["decide", "handling"],
    ]);
    invalid(() => transition(decided, { action: "evaluate", role: "receiving", at }));
  });
});

describe("the table", () => {
  it("has exactly one row per (mode, state, action, role, phase)", () => {
    const seen = new Set<string>();
    for (const t of CASE_TRANSITIONS) {
      for (const mode of t.modes) {
        for (const role of t.roles) {
          const key = `${mode}/${t.from}/${t.action}/${role}/${t.phase ?? "any"}`;
          expect(seen.has(key), key).toBe(false);
          seen.add(key);
        }
      }
    }
  });

  it("makes every state reachable from an entry state and lets every non-terminal state reach a terminal one", () => {
    for (const mode of [REMOTE, ONLINE] as CaseMode[]) {
      const rows = CASE_TRANSITIONS.filter((t) => t.modes.includes(mode) && t.action !== "evaluate");
      const reach = new Set<CaseState>(CASE_ENTRY_STATES[mode]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const t of rows) if (reach.has(t.from) && !reach.has(t.to)) (reach.add(t.to), (grew = true));
      }
      expect([...reach].sort((a, b) => a - b)).toEqual(caseStatesOf(mode));
      for (const state of caseStatesOf(mode)) {
        expect(rows.some((t) => t.from === state)).toBe(!isTerminal(state));
      }
    }
  });

  it("maps messages to actions consistently with CASE_ACTION_MESSAGES", () => {
    for (const action of CASE_ACTIONS) {
      const type = CASE_ACTION_MESSAGES[action];
      if (type === undefined) continue;
      const back = caseActionForMessage(type);
      if (back !== undefined) expect(back).toBe(action);
    }
    expect(caseActionForMessage(MessageType.ACCEPTANCE)).toBe("accept");
    expect(caseActionForMessage(MessageType.TECHNICAL_RECEIPT)).toBeUndefined();
    expect(caseActionForMessage(MessageType.DIRECTORY_PUBLICATION)).toBeUndefined();
  });

  it("rejects malformed events with TypeError", () => {
    const c = openCase({ caseId: "t", mode: REMOTE, at });
    expect(() => transition(c, { action: "fly" as CaseAction, role: "receiving", at })).toThrow(TypeError);
    expect(() => transition(c, { action: "check", role: "applicant" as CaseRole, at })).toThrow(TypeError);
    expect(() => transition(c, { action: "check", role: "receiving", at: new Date(Number.NaN) })).toThrow(TypeError);
  });

  it("applies exactly the actions allowedActions names, and nothing else (random walks)", () => {
    const step = fc.record({ action: fc.constantFrom(...CASE_ACTIONS), role: fc.constantFrom(...CASE_ROLES) });
    fc.assert(
      fc.property(fc.constantFrom(REMOTE, ONLINE), fc.boolean(), fc.array(step, { maxLength: 40 }), (mode, atHandling, steps) => {
        let c = openCase({ caseId: "p", mode: mode as CaseMode, at, ...(atHandling ? { state: CaseState.DELIVERED } : {}) });
        for (const { action, role } of steps) {
          const allowed = allowedActions(c, role).includes(action);
          let next: CaseSnapshot | undefined;
          try {
            next = transition(c, { action, role, at });
          } catch (err) {
            if (!(err instanceof TongbanError) || err.code !== "CASE_INVALID_TRANSITION") throw err;
          }
          expect(next !== undefined).toBe(allowed);
          if (next !== undefined) {
            expect(isTerminal(c.state) && action !== "evaluate").toBe(false);
            c = next;
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
