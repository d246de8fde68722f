import { type Command, InvalidArgumentError } from "commander";
import {
  IDENTIFIER_KINDS,
  detectIdentifier,
  isIdentifierKind,
  maskPersonalId,
  validateIdentifier,
  type IdentifierKind,
} from "@tongban/sdk";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";

/**
 * `tongban id check VALUE [--kind KIND]`: validates one identifier and says
 * precisely what is wrong. Exit code 0 when valid, 1 when invalid; `--json`
 * prints the SDK's validation object.
 */
export const idCommand: CommandRegistrar = (program, ctx) => {
  const id = program.command("id").description("Tongban identifiers: regions, node ids, USCCs, ID numbers, service codes, license ids");

  id.command("check")
    .description("validate an identifier; the kind is detected from its shape unless --kind is given")
    .argument("<value>", "the identifier to check")
    .option("--kind <kind>", `one of: ${IDENTIFIER_KINDS.join(", ")}`, parseKind)
    .action((value: string, opts: { kind?: IdentifierKind }, cmd: Command) => {
      check(value, opts, cmd, ctx);
    });
};

function parseKind(kind: string): IdentifierKind {
  if (!isIdentifierKind(kind)) throw new InvalidArgumentError(`unknown kind; use one of ${IDENTIFIER_KINDS.join(", ")}`);
  return kind;
}

function check(value: string, opts: { kind?: IdentifierKind }, cmd: Command, ctx: CommandContext): void {
  const out = outputFor(cmd, ctx);
  const validation = opts.kind === undefined ? detectIdentifier(value) : validateIdentifier(opts.kind, value);
  // An ID number is personal data: the terminal may be recorded, so people see it masked.
  const shown = validation.kind === "citizen-id" ? maskPersonalId(value) : value;
  out.line(`value  ${shown}`);
  out.line(`kind   ${validation.kind}`);
  out.line(`valid  ${validation.ok ? "yes" : "no"}`);
  if (validation.ok) {
    const rows = flatten(validation.parts);
    if (rows.length > 0 && validation.kind !== "citizen-id") out.table(["part", "value"], rows);
  } else {
    out.table(
      ["rule", "position", "message"],
      validation.issues.map((i) => [i.rule, i.position ?? "", i.message]),
    );
  }
  out.result(validation);
  ctx.setExitCode(validation.ok ? 0 : 1);
}

/** Flattens nested parts into dotted rows for the human table. */
function flatten(parts: object, prefix = ""): [string, string][] {
  const rows: [string, string][] = [];
  for (const [key, v] of Object.entries(parts)) {
    const name = prefix === "" ? key : `${prefix}.${key}`;
    if (Array.isArray(v)) rows.push([name, v.join(", ")]);
    else if (v !== null && typeof v === "object") rows.push(...flatten(v as object, name));
    else rows.push([name, String(v)]);
  }
  return rows;
}
