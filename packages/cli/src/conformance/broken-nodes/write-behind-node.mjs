// A deliberately broken node for the conformance self-test: the reference
// node with a write-behind cache in front of its store. Every batch is "done"
// at once, so Deliver receipts before anything is on disk; the cache reaches
// LevelDB when it holds 50,000 writes or the node shuts down cleanly. Reads
// see the cache, so the node behaves in every other way — until it crashes
// and what it receipted is gone.
//
//   node write-behind-node.mjs --config node.yaml
import { composeNode, openNode } from "@tongban/node";

const FLUSH_AT = 50_000;
const hex = (k) => Buffer.from(k).toString("hex");
const cmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function writeBehind(inner) {
  /** hex key → the latest op on it not yet flushed */
  const pending = new Map();
  let queue = [];
  const flush = async () => {
    const ops = queue;
    queue = [];
    if (ops.length === 0) return;
    await inner.batch(ops);
    for (const op of ops) if (pending.get(hex(op.key)) === op) pending.delete(hex(op.key));
  };
  const get = async (key) => {
    const op = pending.get(hex(key));
    if (op !== undefined) return op.type === "put" ? new Uint8Array(op.value) : undefined;
    return inner.get(key);
  };
  return {
    get capabilities() {
      return { ...inner.capabilities, durable: true }; // the lie
    },
    get status() {
      return inner.status;
    },
    open: () => inner.open(),
    get,
    getMany: (keys) => Promise.all(keys.map(get)),
    async batch(ops) {
      for (const o of ops) {
        const op = o.type === "put" ? { type: "put", key: new Uint8Array(o.key), value: new Uint8Array(o.value) } : { type: "del", key: new Uint8Array(o.key) };
        pending.set(hex(op.key), op);
        queue.push(op);
      }
      if (queue.length >= FLUSH_AT) await flush();
    },
    async *iterate(options = {}) {
      const { gt, gte, lt, lte, reverse = false, limit } = options;
      const inRange = (k) => (gt === undefined || cmp(k, gt) > 0) && (gte === undefined || cmp(k, gte) >= 0) && (lt === undefined || cmp(k, lt) < 0) && (lte === undefined || cmp(k, lte) <= 0);
      const merged = new Map();
      const bounds = { ...(gt ? { gt } : {}), ...(gte ? { gte } : {}), ...(lt ? { lt } : {}), ...(lte ? { lte } : {}) };
      for await (const e of inner.iterate(bounds)) merged.set(hex(e.key), e);
      for (const [h, op] of pending) {
        if (!inRange(op.key)) continue;
        if (op.type === "put") merged.set(h, { key: op.key, value: op.value });
        else merged.delete(h);
      }
      let list = [...merged.values()].sort((a, b) => cmp(a.key, b.key));
      if (reverse) list.reverse();
      if (limit !== undefined) list = list.slice(0, limit);
      for (const e of list) yield { key: new Uint8Array(e.key), value: new Uint8Array(e.value) };
    },
    flush,
    async close() {
      await flush();
      await inner.close();
    },
  };
}

const config = process.argv[process.argv.indexOf("--config") + 1];
let cache;
const node = await openNode(config, {
  logDestination: { write: () => undefined },
  compose: (parts) => composeNode({ ...parts, store: (cache = writeBehind(parts.store)) }),
});
await node.start();
process.stderr.write(`write-behind node running: federation ${node.addresses.federation}\n`);
process.once("SIGTERM", () => {
  void cache
    .flush()
    .then(() => node.stop())
    .then(() => process.exit(0));
});
