// Public surface of envelope/: an explicit list of named exports.
export {};
