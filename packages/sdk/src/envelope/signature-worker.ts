import type { KeyObject } from "node:crypto";
import { Worker } from "node:worker_threads";
import { TongbanError } from "../errors/index.js";
import type { SignatureOffload } from "./jws.js";

/** A worker thread making and checking signatures in batches; see {@link startSignatureWorker}. */
export interface SignatureWorker extends SignatureOffload {
  /** Signatures done so far and the batches they came in (for tuning and metrics). */
  readonly stats: { readonly signatures: number; readonly batches: number };
  /** Stops the worker; signatures still pending fail (INTERNAL). */
  close(): Promise<void>;
}

// The worker's code, run as a CommonJS script (no file to find after bundling).
// A batch arrives as one transferred buffer holding every input and signature
// (cloning many small views would copy each one's whole backing buffer) and
// goes back the same way: a status byte per job (0 bad, 1 good, 2 signed,
// 3 failed) and 64 bytes of signature per job.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { sign, verify } = require("node:crypto");
const keys = new Map();
parentPort.on("message", ({ keys: fresh, jobs, buf }) => {
  for (const [id, key] of fresh) keys.set(id, key);
  const n = jobs.length / 6;
  const bytes = new Uint8Array(buf);
  const out = new ArrayBuffer(n * 65);
  const status = new Uint8Array(out, 0, n);
  const sigs = new Uint8Array(out, n);
  const errors = {};
  for (let j = 0; j < n; j++) {
    const es = jobs[j * 6] === 0, key = keys.get(jobs[j * 6 + 1]);
    const input = bytes.subarray(jobs[j * 6 + 2], jobs[j * 6 + 2] + jobs[j * 6 + 3]);
    const vLen = jobs[j * 6 + 5];
    try {
      if (vLen < 0) {
        const sig = es ? sign("sha256", input, { key, dsaEncoding: "ieee-p1363" }) : sign(null, input, key);
        sigs.set(sig, j * 64);
        status[j] = 2;
      } else {
        const value = bytes.subarray(jobs[j * 6 + 4], jobs[j * 6 + 4] + vLen);
        status[j] = vLen === 64 && (es ? verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, value) : verify(null, input, key, value)) ? 1 : 0;
      }
    } catch (err) {
      status[j] = vLen < 0 ? 3 : 0;
      if (vLen < 0) errors[j] = String(err && err.message);
    }
  }
  parentPort.postMessage({ out, errors }, [out]);
});
`;

interface Job {
  readonly a: "ES256" | "EdDSA";
  readonly k: number;
  readonly i: Uint8Array;
  readonly v?: Uint8Array;
}
interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/**
 * Starts worker threads (`threads`, default 2) that make and check ES256 /
 * EdDSA signatures in batches: calls made in the same turn of the event loop
 * go to the workers as one message each (split across them when there are
 * eight or more), so the event loop spends a few microseconds per signature
 * instead of the ~80 µs a P-256 verification costs in line (or the ~30 µs of
 * setting up one thread-pool job). Keys are sent to the worker once. For a
 * node's intake: `verifyEnvelope(…, { offload })`, `createEnvelope({ …, offload })`.
 * The worker does not keep the process alive; `close()` stops it.
 */
export function startSignatureWorker(options: { readonly threads?: number } = {}): SignatureWorker {
  const threads = Math.max(1, Math.floor(options.threads ?? 2));
  interface Lane {
    worker: Worker | undefined;
    /** Keys this lane's worker has been sent. */
    sent: WeakSet<KeyObject>;
    inFlight: Pending[][];
  }
  const lanes: Lane[] = Array.from({ length: threads }, () => ({ worker: undefined, sent: new WeakSet(), inFlight: [] }));
  // Key ids are shared by all lanes; each lane remembers which keys its worker has.
  const keyIds = new WeakMap<KeyObject, number>();
  let nextKey = 1;
  let queue: { job: Job; key: KeyObject; pending: Pending }[] = [];
  let scheduled = false;
  let closed = false;
  let signatures = 0;
  let batches = 0;
  let next = 0;

  const failLane = (lane: Lane, err: unknown) => {
    for (const batch of lane.inFlight.splice(0)) for (const p of batch) p.reject(err);
    lane.worker = undefined;
    lane.sent = new WeakSet();
    if (!closed && queue.length > 0 && !scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const start = (lane: Lane): Worker => {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on("message", ({ out, errors }: { out: ArrayBuffer; errors: Record<number, string> }) => {
      const batch = lane.inFlight.shift();
      if (batch === undefined) return;
      const n = batch.length;
      const status = new Uint8Array(out, 0, n);
      for (let i = 0; i < n; i++) {
        const st = status[i];
        if (st === 2) batch[i]!.resolve(new Uint8Array(out, n + i * 64, 64));
        else if (st === 3) batch[i]!.reject(new TongbanError("INTERNAL", `signing failed in the signature worker: ${errors[i] ?? "unknown"}`));
        else batch[i]!.resolve(st === 1);
      }
      if (queue.length > 0) flush();
    });
    w.on("error", (err) => failLane(lane, new TongbanError("INTERNAL", `the signature worker failed: ${err.message}`, { cause: err })));
    w.on("exit", () => {
      if (lane.worker === w) failLane(lane, new TongbanError("INTERNAL", "the signature worker stopped"));
    });
    return w;
  };
  const send = (lane: Lane, part: typeof queue) => {
    lane.worker ??= start(lane);
    const fresh: [number, KeyObject][] = [];
    for (const b of part) {
      if (!lane.sent.has(b.key)) {
        lane.sent.add(b.key);
        fresh.push([b.job.k, b.key]);
      }
    }
    let size = 0;
    for (const b of part) size += b.job.i.length + (b.job.v?.length ?? 0);
    const buf = new ArrayBuffer(size);
    const bytes = new Uint8Array(buf);
    const jobs = new Array<number>(part.length * 6);
    let at = 0;
    part.forEach((b, j) => {
      const { a, k, i, v } = b.job;
      bytes.set(i, at);
      jobs[j * 6] = a === "ES256" ? 0 : 1;
      jobs[j * 6 + 1] = k;
      jobs[j * 6 + 2] = at;
      jobs[j * 6 + 3] = i.length;
      at += i.length;
      if (v === undefined) {
        jobs[j * 6 + 4] = 0;
        jobs[j * 6 + 5] = -1;
      } else {
        bytes.set(v, at);
        jobs[j * 6 + 4] = at;
        jobs[j * 6 + 5] = v.length;
        at += v.length;
      }
    });
    lane.inFlight.push(part.map((b) => b.pending));
    batches++;
    signatures += part.length;
    lane.worker.postMessage({ keys: fresh, jobs, buf }, [buf]);
  };
  // One batch in flight per worker: what arrives meanwhile waits and goes as
  // the next batch (as a group commit does), so a busy node sends few, large
  // batches — a postMessage costs far more under load than when idle.
  const flush = () => {
    scheduled = false;
    if (queue.length === 0) return;
    const idle = lanes.filter((l) => l.inFlight.length === 0);
    if (idle.length === 0) return; // a lane coming back calls flush again
    const batch = queue;
    queue = [];
    // Small batches go to one worker in turn; larger ones are split across the idle ones.
    const parts = batch.length < 8 ? 1 : idle.length;
    const size = Math.ceil(batch.length / parts);
    for (let i = 0, p = 0; i < batch.length; i += size, p++) send(idle[(next + p) % idle.length]!, batch.slice(i, i + size));
    next++;
  };
  const idOf = (key: KeyObject): number => {
    let id = keyIds.get(key);
    if (id === undefined) {
      id = nextKey++;
      keyIds.set(key, id);
    }
    return id;
  };
  const submit = <T>(job: Job, key: KeyObject): Promise<T> => {
    if (closed) return Promise.reject(new TongbanError("INTERNAL", "the signature worker is closed"));
    return new Promise<T>((resolve, reject) => {
      queue.push({ job, key, pending: { resolve: resolve as (v: unknown) => void, reject } });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };
  return {
    sign: (algorithm, key, input) => submit<Uint8Array>({ a: algorithm, k: idOf(key), i: input }, key),
    verify: (algorithm, key, input, value) => submit<boolean>({ a: algorithm, k: idOf(key), i: input, v: value }, key),
    get stats() {
      return { signatures, batches };
    },
    async close() {
      closed = true;
      const workers = lanes.map((l) => l.worker);
      for (const lane of lanes) failLane(lane, new TongbanError("INTERNAL", "the signature worker was closed"));
      await Promise.all(workers.map((w) => w?.terminate()));
    },
  };
}
