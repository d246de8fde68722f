import { isTongbanError } from "@tongban/sdk";
import { describe, expect, it } from "vitest";
import { runStoreCompliance } from "./compliance.js";
import { MemoryStore } from "./memory-store.js";

runStoreCompliance("MemoryStore", {
  async create() {
    const s = new MemoryStore();
    await s.open();
    return s;
  },
});

describe("MemoryStore", () => {
  it("declares itself neither persistent nor durable", () => {
    expect(new MemoryStore().capabilities).toEqual({ persistent: false, durable: false, snapshots: true });
  });

  it("copies its array only when a live iterator could see a write", async () => {
    const s = new MemoryStore();
    await s.open();
    await s.batch([{ type: "put", key: Uint8Array.of(1), value: Uint8Array.of(1) }]);
    const it = s.iterate();
    await it.next();
    await s.batch([{ type: "put", key: Uint8Array.of(2), value: Uint8Array.of(2) }]);
    expect((await it.next()).done).toBe(true);
    expect(s.size).toBe(2);
    await s.close();
  });

  it("goes through its life cycle; concurrent open and close calls share one attempt (AbstractStore)", async () => {
    const s = new MemoryStore();
    expect(s.status).toBe("new");
    await expect(s.get(Uint8Array.of(1))).rejects.toSatisfy((e) => isTongbanError(e, "STORE_UNAVAILABLE"));
    const a = s.open();
    expect(s.status).toBe("opening");
    expect(s.open()).toBe(a);
    await a;
    expect(s.status).toBe("open");
    await s.open();
    const c = s.close();
    expect(s.status).toBe("closing");
    expect(s.close()).toBe(c);
    await expect(s.open()).rejects.toSatisfy((e) => isTongbanError(e, "STORE_UNAVAILABLE"));
    await c;
    expect(s.status).toBe("closed");
    await s.close();
    await s.open();
    expect(s.status).toBe("open");
    await s.close();
  });
});
