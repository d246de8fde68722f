/**
 * Test fixture (not exported), run as a child process by
 * crash-safety.test.ts: writes crash-test batches through LevelStore and
 * GroupCommitter with many concurrent writers, and prints `ack <id>` the
 * moment each commit resolves, until it is killed. Writes to a pipe are
 * synchronous on Linux, so a printed ack was durable before it was printed.
 *
 * argv: <store directory>
 */
import { crashBatch } from "./crash-batches.js";
import { GroupCommitter } from "./group-committer.js";
import { storeKeys } from "./keys.js";
import { openLevelStore } from "./level-store.js";

const WRITERS = 16;

const location = process.argv[process.argv.length - 1]!;
const store = await openLevelStore(location);
// Continue after the last batch a previous (killed) writer got applied.
let next = 0;
for await (const { key } of store.iterate({ ...storeKeys.event.range(), reverse: true, limit: 1 })) next = storeKeys.event.decode(key)[0] + 1;
process.stdout.write(`ready ${next}\n`);

const committer = new GroupCommitter(store);
async function writer(): Promise<never> {
  for (;;) {
    const id = next++;
    await committer.commit(crashBatch(id));
    process.stdout.write(`ack ${id}\n`);
  }
}
await Promise.all(Array.from({ length: WRITERS }, writer));
