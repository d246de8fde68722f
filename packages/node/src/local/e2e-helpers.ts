/**
 * Shared by the end-to-end tests of this folder (not exported from the
 * package): polling, material uploads and a standard application.
 */
import { createHash } from "node:crypto";
import type { PlatformClient } from "@tongban/sdk";

/** Polls `probe` until it returns a value (errors count as "not yet"), or fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads one small material per national code (content made unique by `salt`) and returns their references. */
export async function uploadMaterials(client: PlatformClient, salt: string, codes: readonly string[] = ["M001", "M002", "M003"]) {
  const materials = [];
  for (const code of codes) {
    const data = new TextEncoder().encode(`${code} ${salt}`);
    const digest = createHash("sha256").update(data).digest();
    await client.uploadMaterial((async function* () {
      yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: 0n, data };
    })());
    materials.push({ materialId: code, name: code, nationalCode: code, size: BigInt(data.length), digest, digestAlgorithm: "sha256" });
  }
  return materials;
}

