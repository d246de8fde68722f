import { once } from "node:events";
import type { Writable } from "node:stream";

/**
 * Re-yields `source` but stops with `signal.reason` as soon as the signal
 * aborts, even while a `next()` is pending — a cancelled gRPC call may never
 * end its request stream, and a handler must not wait on it forever.
 */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  // The race below may never observe it; keep the rejection from being "unhandled".
  aborted.catch(() => undefined);
  try {
    for (;;) {
      signal.throwIfAborted();
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Writes one object and, when the stream's buffer is full, waits for
 * `drain` (or the abort) before returning — so a fast producer cannot pile
 * a whole material into memory ahead of a slow peer.
 */
export async function writeWithBackpressure(stream: Writable, value: unknown, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (stream.write(value)) return;
  await once(stream, "drain", { signal });
}
