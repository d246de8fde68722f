/** @tongban/cli — the `tongban` command, usable as a library for tests and embedding. */
export { createProgram, run } from "./program.js";
export { createOutput, reportError, CliError, type Output, type Sinks } from "./output.js";
export type { CommandContext, CommandRegistrar } from "./context.js";
export { VERSION } from "./version.js";
