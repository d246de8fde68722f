// Load generator for bench-intake.mjs, run in a worker thread so the server
// under test keeps its own event loop (and core), as with a separate client.
// Sends pre-encoded DeliverRequest bytes over one mTLS channel with C calls
// in flight; reports throughput and latency percentiles.
import { parentPort, workerData } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";

const { address, path, ca, key, cert, requests, concurrency, name, serverName } = workerData;
const identity = (b) => b;
const def = { Call: { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } };
const Client = grpc.makeGenericClientConstructor(def, "Load");
const client = new Client(address, grpc.credentials.createSsl(Buffer.from(ca), Buffer.from(key), Buffer.from(cert)), { "grpc.ssl_target_name_override": serverName });
// One buffer holds every request; each call sends a view of it.
const all = Buffer.from(requests.bytes.buffer, requests.bytes.byteOffset, requests.bytes.byteLength);
const bufs = Array.from({ length: requests.starts.length - 1 }, (_, i) => all.subarray(requests.starts[i], requests.starts[i + 1]));
const call = (i) => new Promise((res, rej) => client.Call(bufs[i], { deadline: Date.now() + 60_000 }, (e, r) => (e ? rej(e) : res(r))));

async function run(count) {
  const lat = new Float64Array(count);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const s = performance.now();
      await call(i);
      lat[i] = performance.now() - s;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  lat.sort();
  const p = (x) => Number(lat[Math.min(count - 1, Math.floor(x * count))].toFixed(2));
  return { name, messages: count, per_s: Math.round(count / secs), p50_ms: p(0.5), p99_ms: p(0.99) };
}
const result = await run(bufs.length);
client.close();
parentPort.postMessage(result);
