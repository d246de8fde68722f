// Public surface of handlers/: an explicit list of named exports.
export { caseEffects, caseOps, readCase, type CaseRecord, type TimelineStep } from "./case-effects.js";
