import { describe, expect, it } from "vitest";
import { openCase, transition, type CaseAction, type CaseRole, type CaseSnapshot } from "../cases/index.js";
import { CaseState, HandlingMode } from "../gen/tongban/v1/common_pb.js";
import { caseClockEffect } from "./case-clock-effect.js";

const at = new Date("2025-09-26T02:00:00Z");

function effects(start: CaseSnapshot, steps: [CaseAction, CaseRole][]): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let c = start;
  for (const [action, role] of steps) {
    const next = transition(c, { action, role, at });
    out.push(caseClockEffect(c, next));
    c = next;
  }
  return out;
}

describe("caseClockEffect", () => {
  it("leaves the clock alone before 受理 and drives it after", () => {
    const delivered = openCase({ caseId: "k", mode: HandlingMode.REMOTE_RECEIPT, at, state: CaseState.DELIVERED });
    expect(
      effects(delivered, [
        ["request-correction", "handling"], // 补正 before 受理: no clock yet
        ["correct", "receiving"],
        ["accept", "handling"],
        ["request-correction", "handling"],
        ["correct", "receiving"],
        ["suspend", "handling"],
        ["resume", "handling"],
        ["decide", "handling"],
        ["send-result", "handling"],
        ["confirm-delivery", "receiving"],
      ]),
    ).toEqual([undefined, undefined, "start", "stop-correction", "resume", "stop-suspension", "resume", "finish", undefined, undefined]);
  });

  it("finishes on withdrawal after 受理 only", () => {
    const accepted = transition(openCase({ caseId: "k", mode: HandlingMode.FULL_ONLINE, at, state: CaseState.DELIVERED }), { action: "accept", role: "handling", at });
    expect(caseClockEffect(accepted, transition(accepted, { action: "withdraw", role: "receiving", at }))).toBe("finish");
    const early = openCase({ caseId: "k", mode: HandlingMode.FULL_ONLINE, at });
    expect(caseClockEffect(early, transition(early, { action: "withdraw", role: "receiving", at }))).toBeUndefined();
  });
});
