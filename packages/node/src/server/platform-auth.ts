import { createHash, timingSafeEqual } from "node:crypto";
import { TongbanError, type HandlerContext } from "@tongban/sdk";
import type { PlatformToken } from "../config/types.js";
import type { CallGuard } from "./guard-service.js";

/** Hex SHA-256 of a platform token: what the config stores instead of the token. */
export function platformTokenDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * A guard for PlatformService calls authenticated by bearer token
 * (`authorization: Bearer <token>`). The presented token is hashed and
 * compared with every configured digest in constant time — all of them, so
 * the time taken does not tell which names exist. Missing, malformed or
 * unknown tokens get TRANSPORT_UNAUTHENTICATED with the same message.
 *
 * `onAuthenticated` learns the token's name (for logs and audit).
 */
export function bearerTokenGuard(tokens: readonly PlatformToken[], onAuthenticated?: (name: string, ctx: HandlerContext) => void): CallGuard {
  const digests = tokens.map((t) => ({ name: t.name, digest: Buffer.from(t.sha256, "hex") }));
  return (ctx) => {
    const header = ctx.metadata.get("authorization");
    const m = header === undefined ? null : /^Bearer ([\x21-\x7e]+)$/.exec(header.trim());
    let name: string | undefined;
    if (m !== null) {
      const presented = createHash("sha256").update(m[1] ?? "", "utf8").digest();
      for (const d of digests) if (timingSafeEqual(presented, d.digest) && name === undefined) name = d.name;
    }
    if (name === undefined) throw new TongbanError("TRANSPORT_UNAUTHENTICATED", "a valid platform token is required (authorization: Bearer <token>)");
    onAuthenticated?.(name, ctx);
    return ctx;
  };
}
