// Load generator for bench-intake.mjs, run in a worker thread so the server
// under test keeps its own event loop (and core), as with a separate client.
// Sends pre-encoded DeliverRequest bytes over one mTLS connection with C calls
// in flight; reports throughput, latency percentiles and the CPU time this
// thread used (so the bench can tell the server's share from the client's).
//
// Two clients: `grpc-js` (the default: a grpc-js client, as a partner node
// runs) and `http2` (node:http2 with gRPC framing written by hand: a much
// lighter client, to see the server with less of the 2 cores taken by load).
// Either one fails the round on any call that does not end with grpc-status 0.
import { connect, constants } from "node:http2";
import { parentPort, workerData } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import { threadCpuMs } from "./lib/thread-cpu.mjs";

const { address, path, ca, key, cert, requests, concurrency, name, serverName, client = "grpc-js" } = workerData;
// One buffer holds every request; each call sends a view of it.
const all = Buffer.from(requests.bytes.buffer, requests.bytes.byteOffset, requests.bytes.byteLength);
const bufs = Array.from({ length: requests.starts.length - 1 }, (_, i) => all.subarray(requests.starts[i], requests.starts[i + 1]));

/** Opens the client: returns call(i) → promise and close(). */
async function open() {
  if (client === "grpc-js") {
    const identity = (b) => b;
    const def = { Call: { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } };
    const Client = grpc.makeGenericClientConstructor(def, "Load");
    const c = new Client(address, grpc.credentials.createSsl(Buffer.from(ca), Buffer.from(key), Buffer.from(cert)), { "grpc.ssl_target_name_override": serverName });
    return {
      call: (i) => new Promise((res, rej) => c.Call(bufs[i], { deadline: Date.now() + 60_000 }, (e, r) => (e ? rej(e) : res(r)))),
      close: () => c.close(),
    };
  }
  if (client !== "http2") throw new TypeError(`unknown client ${client}`);
  const session = connect(`https://${address}`, { ca, key, cert, servername: serverName });
  await new Promise((res, rej) => {
    session.once("connect", res);
    session.once("error", rej);
  });
  const headers = { [constants.HTTP2_HEADER_METHOD]: "POST", [constants.HTTP2_HEADER_PATH]: path, "content-type": "application/grpc", te: "trailers" };
  return {
    call: (i) =>
      new Promise((resolve, reject) => {
        const body = bufs[i];
        // gRPC message framing: 1 byte "not compressed", 4 bytes big-endian length, the message.
        const frame = Buffer.allocUnsafe(5 + body.length);
        frame[0] = 0;
        frame.writeUInt32BE(body.length, 1);
        body.copy(frame, 5);
        const stream = session.request(headers);
        let received = 0;
        let status;
        let message;
        stream.on("response", (h) => (status = h["grpc-status"] ?? status)); // a trailers-only answer carries the status here
        stream.on("trailers", (t) => ((status = t["grpc-status"]), (message = t["grpc-message"])));
        stream.on("data", (d) => (received += d.length));
        stream.on("error", reject);
        stream.on("end", () => (status === "0" && received > 5 ? resolve() : reject(new Error(`call ${i}: grpc-status ${status} ${message ?? ""} (${received} bytes)`))));
        stream.end(frame);
      }),
    close: () => session.close(),
  };
}

async function run(count, call) {
  const lat = new Float64Array(count);
  let next = 0;
  const cpu0 = threadCpuMs();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const s = performance.now();
        await call(i);
        lat[i] = performance.now() - s;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = threadCpuMs();
  lat.sort();
  const p = (x) => Number(lat[Math.min(count - 1, Math.floor(x * count))].toFixed(2));
  return {
    name,
    messages: count,
    per_s: Math.round(count / secs),
    p50_ms: p(0.5),
    p99_ms: p(0.99),
    ...(cpu0 === undefined || cpu1 === undefined ? {} : { load_cpu_ms: cpu1 - cpu0 }),
  };
}

const c = await open();
const result = await run(bufs.length, c.call);
c.close();
parentPort.postMessage(result);
