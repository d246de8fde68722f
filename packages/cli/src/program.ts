import { Command, CommanderError } from "commander";
import { commands } from "./commands/index.js";
import type { CommandContext } from "./context.js";
import { processSinks, reportError, type Sinks } from "./output.js";
import { VERSION } from "./version.js";

/** Builds the `tongban` program. */
export function createProgram(ctx: CommandContext): Command {
  // `tongban --version` / `-V` is answered by run() before parsing: registered with commander, a program-level
  // --version is taken from anywhere on the line and swallowed the subcommands' own (`mapping import --version 2`).
  const program = new Command("tongban")
    .description(`Tongban (通办): cross-province government-service federation tools (${VERSION}; -V, --version prints it)`)
    .option("--json", "print one JSON document on stdout instead of tables")
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => ctx.sinks.stdout(s),
      writeErr: (s) => ctx.sinks.stderr(s),
    })
    .exitOverride();
  for (const register of commands) register(program, ctx);
  return program;
}

/**
 * Runs `tongban` with the given arguments (without `node` and the script) and
 * resolves to the exit code. Never calls process.exit, so tests can call it.
 */
export async function run(args: string[], sinks: Sinks = processSinks): Promise<number> {
  let exitCode = 0;
  const ctx: CommandContext = { sinks, setExitCode: (c) => void (exitCode = c) };
  const program = createProgram(ctx);
  const json = args.includes("--json");
  const first = args.filter((a) => a !== "--json")[0];
  if (first === "--version" || first === "-V") {
    sinks.stdout(`${VERSION}\n`);
    return 0;
  }
  try {
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exit code 0; usage mistakes with 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err, json, sinks);
  }
}
