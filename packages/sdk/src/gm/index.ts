// Public surface of gm/: an explicit list of named exports.
export {};
