// Public surface of seal/: an explicit list of named exports.
export {};
