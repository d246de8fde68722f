// Public surface of transport/: an explicit list of named exports.
export {};
