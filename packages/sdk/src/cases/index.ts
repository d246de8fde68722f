// Public surface of cases/: an explicit list of named exports.
export {};
