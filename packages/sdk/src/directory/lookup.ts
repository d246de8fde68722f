import type { DirectoryNode, UnsignedDirectory } from "./model.js";

/** The node with this id, or undefined. */
export function nodeById(dir: UnsignedDirectory, nodeId: string): DirectoryNode | undefined {
  return dir.nodes.find((n) => n.nodeId === nodeId);
}

/**
 * The node that handles cases for a GB/T 2260 region. An exact match wins;
 * otherwise the node serving the enclosing prefecture (`xxxx00`), then the
 * province (`xx0000`), so a city-level node can stand in for counties that
 * run none. Regions belong to at most one node, so the answer is unique.
 *
 * @example
 * ```ts
 * findNodeForRegion(dir, "320509")?.nodeId // "cn.320509.wujiang"
 * ```
 */
export function findNodeForRegion(dir: UnsignedDirectory, region: string): DirectoryNode | undefined {
  if (typeof region !== "string" || !/^[0-9]{6}$/.test(region)) throw new TypeError(`not a six-digit region code: ${String(region)}`);
  const candidates = [region, `${region.slice(0, 4)}00`, `${region.slice(0, 2)}0000`];
  for (const code of new Set(candidates)) {
    const node = dir.nodes.find((n) => n.regions.includes(code));
    if (node !== undefined) return node;
  }
  return undefined;
}
