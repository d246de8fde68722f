// Public surface of handlers/: an explicit list of named exports.
export { buildCaseIndexes, caseByNumber, caseEffects, caseOps, deadlineWatched, readCase, watchedCases, type CaseRecord, type TimelineStep } from "./case-effects.js";
