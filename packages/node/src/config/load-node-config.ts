import { access, constants, readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { configInvalid, type ConfigIssue } from "./config-issues.js";
import { parseNodeConfig } from "./parse-node-config.js";
import type { NodeConfig } from "./types.js";

/**
 * Reads and validates a node config file: YAML, or JSON when the name ends
 * in `.json`. Relative paths in it resolve against the file's directory, so
 * a node directory can be moved as a whole.
 *
 * @throws TongbanError CONFIG_INVALID naming the file and the path of the
 *   first mistake (`details.path`, `details.reason`, all in `details.issues`).
 *
 * @example
 * ```ts
 * const config = await loadNodeConfig("/etc/tongban/node.yaml");
 * config.federation.listen; // { host: "127.0.0.1", port: 7443 }
 * ```
 */
export async function loadNodeConfig(file: string): Promise<NodeConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw configInvalid(path, [{ path: "", reason: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return parseNodeConfig(parseDocument(text, path), { file: path, baseDir: dirname(path) });
}

function parseDocument(text: string, file: string): unknown {
  try {
    // JSON is YAML too, but JSON.parse reports JSON mistakes in JSON's terms.
    return extname(file).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos !== undefined ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : "";
    const reason = `not valid ${extname(file).toLowerCase() === ".json" ? "JSON" : "YAML"}${where}: ${(err as Error).message.split("\n")[0] ?? ""}`;
    throw configInvalid(file, [{ path: "", reason }]);
  }
}

/**
 * Checks that every file the config names can be read (and the data
 * directory's parent exists), reporting each missing one by its config
 * path. `tongban node check` and {@link openNode} run it before anything
 * starts, so a typo fails at once instead of at the first TLS handshake.
 *
 * @throws TongbanError CONFIG_INVALID
 */
export async function checkNodeConfigFiles(config: NodeConfig): Promise<void> {
  const files: [string, string][] = [
    ["federation.tlsCert", config.federation.tlsCert],
    ["federation.tlsKey", config.federation.tlsKey],
    ["signing.cert", config.signing.cert],
    ["signing.key", config.signing.key],
    ["trust.anchor", config.trust.anchor],
  ];
  if (config.trust.crl !== undefined) files.push(["trust.crl", config.trust.crl]);
  if (config.trust.directory !== undefined) files.push(["trust.directory", config.trust.directory]);
  if (config.platform.auth.kind === "mtls") files.push(["platform.auth.clientCa", config.platform.auth.clientCa]);
  if (config.mapping.tablesDir !== undefined) files.push(["mapping.tablesDir", config.mapping.tablesDir]);
  if (config.calendar !== undefined) files.push(["calendar", config.calendar]);
  config.peers.forEach((p, i) => p.certificates.forEach((c, j) => files.push([`peers[${i}].certificates[${j}]`, c])));
  config.federation.retiredKeys.forEach((k, i) => files.push([`federation.retiredKeys[${i}]`, k]));
  config.signing.retiredKeys.forEach((k, i) => files.push([`signing.retiredKeys[${i}]`, k]));
  const issues: ConfigIssue[] = [];
  await Promise.all(
    files.map(async ([path, file]) => {
      try {
        await access(file, constants.R_OK);
      } catch (err) {
        issues.push({ path, reason: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      }
    }),
  );
  try {
    await access(dirname(config.dataDir), constants.W_OK);
  } catch (err) {
    issues.push({ path: "dataDir", reason: `the parent of ${config.dataDir} is not writable: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
  }
  // Report in the order the fields appear, not the order the checks finished.
  const order = new Map(files.map(([p], i) => [p, i]));
  issues.sort((a, b) => (order.get(a.path) ?? files.length) - (order.get(b.path) ?? files.length));
  if (issues.length > 0) throw configInvalid(config.file, issues);
}

