import type { CommandRegistrar } from "../context.js";

/**
 * Every top-level `tongban` command, in the order `--help` lists them.
 * One file per command under commands/.
 */
export const commands: CommandRegistrar[] = [
];
