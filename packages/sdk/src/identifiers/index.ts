// Public surface of identifiers/: an explicit list of named exports.
export {};
