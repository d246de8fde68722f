// Public surface of handlers/: an explicit list of named exports.
export { caseByNumber, caseEffects, caseOps, indexCaseNumbers, readCase, type CaseRecord, type TimelineStep } from "./case-effects.js";
