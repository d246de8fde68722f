import { randomBytes } from "node:crypto";

/**
 * A random positive serial number as lowercase hex: 16 bytes (128 bits, well
 * above the 64 bits CA/Browser rules ask for) with the first byte in
 * 0x01..0x7f, so the DER INTEGER is positive and minimally encoded without a
 * padding zero.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString("hex");
}
