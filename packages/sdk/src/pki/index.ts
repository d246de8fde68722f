// Public surface of pki/: an explicit list of named exports.
export {};
