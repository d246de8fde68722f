// Public surface of handlers/: an explicit list of named exports.
export { buildCaseIndexes, caseByNumber, caseEffects, caseOpen, caseOps, deadlineWatched, openCases, readCase, watchedCases, type CaseRecord, type TimelineStep } from "./case-effects.js";
export { checkIndexes } from "./index-check.js";
