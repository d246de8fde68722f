import { createRequire } from "node:module";

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)("../package.json") as { version: string }).version;
  } catch {
    // Bundled into a test fixture or evaluated code, where there is no package.json beside it.
    return "0.0.0-unbundled";
  }
}

/** The node software and version reported by GetNodeInfo. */
export const NODE_SOFTWARE = `@tongban/node/${packageVersion()}`;
