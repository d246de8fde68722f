import { createRequire } from "node:module";

const pkg = createRequire(import.meta.url)("../package.json") as { name: string; version: string };

/** The node software and version reported by GetNodeInfo. */
export const NODE_SOFTWARE = `${pkg.name}/${pkg.version}`;
