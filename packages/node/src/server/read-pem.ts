import { readFile } from "node:fs/promises";
import { configInvalid } from "../config/config-issues.js";

/**
 * Reads a PEM file named by the config; a missing or unreadable file is a
 * CONFIG_INVALID naming the config path, not a bare ENOENT.
 */
export async function readPem(file: string | undefined, configPath: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw configInvalid(file, [{ path: configPath, reason: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
}
