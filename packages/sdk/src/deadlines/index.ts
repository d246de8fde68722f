// Public surface of deadlines/: an explicit list of named exports.
export {};
