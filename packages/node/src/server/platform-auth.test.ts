import { createInMemoryTransport, TongbanError } from "@tongban/sdk";
import { PlatformService } from "@tongban/sdk/gen";
import { describe, expect, it } from "vitest";
import { guardService } from "./guard-service.js";
import { bearerTokenGuard, platformTokenDigest } from "./platform-auth.js";

const TOKEN = "tbp_3q2fQbH0c1m2L4kq9vXh";

function client(seen: string[]) {
  const transport = createInMemoryTransport();
  const guard = bearerTokenGuard(
    [
      { name: "other", sha256: platformTokenDigest("another-token") },
      { name: "vendor-a", sha256: platformTokenDigest(TOKEN) },
    ],
    (name) => seen.push(name),
  );
  // A test handler: it proves the guard let the call through, nothing more.
  transport.register(
    PlatformService,
    guardService(PlatformService, {
      async getCase() {
        return {};
      },
      async *watchEvents() {},
    }, guard),
  );
  return transport.client(PlatformService);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (err) {
    expect(err).toBeInstanceOf(TongbanError);
    return (err as TongbanError).code;
  }
}

describe("bearerTokenGuard", () => {
  it("lets a configured token through and names it", async () => {
    const seen: string[] = [];
    const c = client(seen);
    expect(await codeOf(c.getCase({}, { metadata: { authorization: `Bearer ${TOKEN}` } }))).toBe("OK");
    const events = [];
    for await (const e of c.watchEvents({}, { metadata: { authorization: `Bearer ${TOKEN}` } })) events.push(e);
    expect(events).toEqual([]);
    expect(seen).toEqual(["vendor-a", "vendor-a"]);
  });

  it.each([
    ["no header", undefined],
    ["a wrong token", "Bearer not-the-token"],
    ["another scheme", `Basic ${TOKEN}`],
    ["an empty bearer", "Bearer "],
    ["the digest instead of the token", `Bearer ${platformTokenDigest(TOKEN)}`],
  ])("refuses %s with TRANSPORT_UNAUTHENTICATED, streaming calls too", async (_n, header) => {
    const seen: string[] = [];
    const c = client(seen);
    const metadata = header === undefined ? {} : { authorization: header };
    expect(await codeOf(c.getCase({}, { metadata }))).toBe("TRANSPORT_UNAUTHENTICATED");
    expect(await codeOf((async () => { for await (const _ of c.watchEvents({}, { metadata })) void _; })())).toBe("TRANSPORT_UNAUTHENTICATED");
    expect(seen).toEqual([]);
  });

  it("guards methods the implementation leaves out: unauthenticated first, then UNIMPLEMENTED", async () => {
    const c = client([]);
    expect(await codeOf(c.listCases({}))).toBe("TRANSPORT_UNAUTHENTICATED");
    expect(await codeOf(c.listCases({}, { metadata: { authorization: `Bearer ${TOKEN}` } }))).toBe("UNIMPLEMENTED");
  });

  it("hashes tokens as hex SHA-256", () => {
    expect(platformTokenDigest("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
