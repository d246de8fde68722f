import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { TongbanError, createFederationClient } from "@tongban/sdk";

/** Options of {@link ManagedNode}. */
export interface ManagedNodeOptions {
  /** The shell command that starts the node under test (e.g. `tongban node start --config node.yaml`). */
  readonly command: string;
  /** The node's FederationService `host:port`: its port must close when the node dies. */
  readonly federation: string;
  /** Resolves true once the node answers (the runner calls GetNodeInfo). */
  readonly ready: () => Promise<boolean>;
  /** How long a start may take before it is an error. Default 30 s. */
  readonly startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The node under test as a process the runner owns (`--node-command`), so
 * `node: { restart: kill }` steps can crash it (SIGKILL to its whole process
 * group: no shutdown code runs, as on a power cut) and start it again.
 * Its output is kept (the last 8 KiB) for the report when a start fails.
 */
export class ManagedNode {
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  #output = "";
  /** Restarts done so far. */
  restarts = 0;

  constructor(private readonly options: ManagedNodeOptions) {}

  /** The node's recent output (stdout and stderr). */
  get output(): string {
    return this.#output;
  }

  /** Starts the node and waits until it answers. @throws TongbanError TRANSPORT_UNAVAILABLE when it exits or does not answer in time. */
  async start(): Promise<void> {
    if (this.#child !== undefined) return;
    // A simple command replaces the shell (exec), so the node is the child the runner waits for.
    const simple = !/[;&|()<>`$\n]/.test(this.options.command);
    const child = spawn(simple ? `exec ${this.options.command}` : this.options.command, { shell: true, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (d: Buffer) => {
      this.#output = (this.#output + d.toString()).slice(-8192);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    this.#child = child;
    let gone = false;
    this.#exited = new Promise((r) =>
      child.once("exit", (code) => {
        gone = true;
        r(code);
      }),
    );
    const end = Date.now() + (this.options.startTimeoutMs ?? 30_000);
    for (;;) {
      if (gone) {
        this.#child = undefined;
        throw new TongbanError("TRANSPORT_UNAVAILABLE", `the node under test exited while starting: ${this.#output.slice(-600)}`);
      }
      if (await this.options.ready().catch(() => false)) return;
      if (Date.now() > end) throw new TongbanError("TRANSPORT_UNAVAILABLE", `the node under test did not answer within ${this.options.startTimeoutMs ?? 30_000} ms: ${this.#output.slice(-600)}`);
      await sleep(100);
    }
  }

  /** Stops the node: `kill` is SIGKILL to its process group (a crash), `graceful` SIGTERM (then SIGKILL after 15 s). Waits until its port is closed. */
  async stop(how: "kill" | "graceful" = "graceful"): Promise<number | null> {
    const child = this.#child;
    if (child === undefined || child.pid === undefined) return null;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, s);
      } catch {
        // already gone
      }
    };
    signal(how === "kill" ? "SIGKILL" : "SIGTERM");
    const late = how === "graceful" ? setTimeout(() => signal("SIGKILL"), 15_000) : undefined;
    const code = await this.#exited!;
    if (late !== undefined) clearTimeout(late);
    this.#child = undefined;
    // Whatever else the command started (same process group) must be gone too — a node still
    // closing its store would hold its lock against the next start — and the port closed.
    for (let i = 0; i < 300 && groupAlive(child.pid); i++) await sleep(50);
    for (let i = 0; i < 200 && (await portOpen(this.options.federation)); i++) await sleep(50);
    return code;
  }

  /** Crashes (or stops) the node and starts it again. */
  async restart(how: "kill" | "graceful"): Promise<void> {
    await this.stop(how);
    this.restarts++;
    await this.start();
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(address: string): Promise<boolean> {
  const i = address.lastIndexOf(":");
  return new Promise((resolve) => {
    const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A `ready` check for {@link ManagedNode}: GetNodeInfo over mutual TLS with a partner's TLS identity answers with the node's id. */
export function answersNodeInfo(target: { readonly address: string; readonly nodeId: string; readonly ca: string }, tls: { readonly certificatePem: string; readonly privateKeyPem: string }): () => Promise<boolean> {
  return async () => {
    const client = createFederationClient({ address: target.address, nodeId: target.nodeId, ca: target.ca, cert: tls.certificatePem, key: tls.privateKeyPem, timeoutMs: 1_000 });
    try {
      return (await client.getNodeInfo({})).nodeId === target.nodeId;
    } finally {
      client.close();
    }
  };
}

