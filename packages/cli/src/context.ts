import type { Command } from "commander";
import { createOutput, type Output, type Sinks, processSinks } from "./output.js";

/** What every command gets: its output and the process sinks. */
export interface CommandContext {
  sinks: Sinks;
  /** Sets the exit code of the whole run (0 when never called). */
  setExitCode(code: number): void;
}

/** Registers one top-level command (and its subcommands) on the program. */
export type CommandRegistrar = (program: Command, ctx: CommandContext) => void;

/** Builds the Output for a command from its merged options (`--json`). */
export function outputFor(cmd: Command, ctx: CommandContext): Output {
  const opts = cmd.optsWithGlobals<{ json?: boolean }>();
  return createOutput(opts.json === true, ctx.sinks ?? processSinks);
}
