import type { CommandRegistrar } from "../context.js";
import { auditCommand } from "./audit.js";
import { conformanceCommand } from "./conformance.js";
import { demoCommand } from "./demo.js";
import { directoryCommand } from "./directory.js";
import { envelopeCommand } from "./envelope.js";
import { idCommand } from "./id.js";
import { mappingCommand } from "./mapping.js";
import { nodeCommand } from "./node.js";
import { pkiCommand } from "./pki.js";
import { sealCommand } from "./seal.js";

/**
 * Every top-level `tongban` command, in the order `--help` lists them.
 * One file per command under commands/.
 */
export const commands: CommandRegistrar[] = [
  demoCommand,
  nodeCommand,
  pkiCommand,
  directoryCommand,
  envelopeCommand,
  idCommand,
  mappingCommand,
  sealCommand,
  auditCommand,
  conformanceCommand,
];
