import { readFileSync } from "node:fs";

/**
 * CPU time (user + system) of the calling thread in ms — Linux only
 * (/proc/thread-self/stat, in ticks of 10 ms: USER_HZ is 100 on Linux); undefined elsewhere.
 * Called on a worker thread it is that worker's time; on the main thread, the event loop's.
 */
export function threadCpuMs() {
  try {
    const stat = readFileSync("/proc/thread-self/stat", "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
}
