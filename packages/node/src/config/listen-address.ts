import { isIP } from "node:net";
import type { ListenAddress } from "./types.js";

/**
 * Parses `host:port` (IPv6 as `[::1]:7443`). Returns a reason string
 * instead of throwing, so the config reader can report it with its path.
 */
export function parseListenAddress(value: string): ListenAddress | string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  if (m === null) return `expected host:port (IPv6 as [addr]:port), got "${value}"`;
  const host = m[1] ?? m[2] ?? "";
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is out of range 0..65535`;
  if (m[1] !== undefined && isIP(host) !== 6) return `"${host}" is not an IPv6 address`;
  return { host, port };
}

/** Formats an address back to `host:port`, bracketing IPv6. */
export function formatListenAddress(address: ListenAddress): string {
  return `${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
}
