/**
 * @tongban/node — the Tongban reference node. This file is the package's
 * public surface: an explicit list of named exports.
 */
export const NODE_SOFTWARE = "tongban-node";
