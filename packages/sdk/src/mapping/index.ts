// Public surface of mapping/: an explicit list of named exports.
export {};
