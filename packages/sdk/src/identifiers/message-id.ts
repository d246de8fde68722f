import { finish, issue, partsOrThrow, requireString, show } from "./result.js";
import type { IdIssue, IdValidation } from "./types.js";

/** The parts of a valid message id. */
export interface MessageIdParts {
  /** The embedded Unix time in milliseconds. */
  readonly unixMs: number;
  /** The same instant as an ISO 8601 string. */
  readonly time: string;
}

// Process-wide state so ids from one sender sort in creation order even
// within one millisecond (RFC 9562 §6.2, method 1: rand_a is a counter).
let lastMs = -1;
let lastCounter = 0;

const MAX_MS = 2 ** 48 - 1;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

// Message ids are made per envelope, on the hot path: draw randomness from a
// pooled buffer (one CSPRNG call per 409 ids) instead of one call per id.
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomBytes10(): Uint8Array {
  if (poolOffset + 10 > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return out;
}

/**
 * Creates a message id: a UUIDv7 (RFC 9562) in lower case — 48 bits of Unix
 * milliseconds, the version, a 12-bit counter that starts at a random value
 * below 2048 each millisecond and counts up within it, the variant, and 62
 * random bits from the platform CSPRNG.
 *
 * Ids one process creates from the system clock are strictly increasing as
 * strings, even when the clock steps back or more than 4,096 ids fall in one
 * millisecond (the id then borrows the next millisecond). An explicit `now`
 * is honoured as given, even before an earlier id (tests and replays rely on
 * that); ids with the same explicit `now` increase for at least 2,048 calls.
 *
 * @example
 * ```ts
 * newMessageId(); // "0192f5a4-7c1e-7a3b-9f2d-5e8c1b2a3d4f"
 * ```
 */
export function newMessageId(now?: Date | number): string {
  let ms = now === undefined ? Date.now() : typeof now === "number" ? now : now.getTime();
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) throw new TypeError("newMessageId: now must be a time between 1970 and the year 10889");
  // The system clock may step back (NTP) or lag a borrowed millisecond; stay on the last one.
  if (now === undefined && ms < lastMs) ms = lastMs;
  const random = randomBytes10();
  let counter: number;
  if (ms === lastMs && lastCounter < 0xfff) {
    counter = lastCounter + 1;
  } else if (ms === lastMs) {
    // 4,096 ids in one millisecond: borrow the next millisecond, as RFC 9562 allows.
    ms += 1;
    counter = ((random[0] ?? 0) << 3 | (random[1] ?? 0) >> 5) & 0x7ff;
  } else {
    counter = ((random[0] ?? 0) << 3 | (random[1] ?? 0) >> 5) & 0x7ff;
  }
  if (ms >= lastMs) {
    lastMs = ms;
    lastCounter = counter;
  }
  const bytes = new Uint8Array(16);
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((random[2] ?? 0) & 0x3f);
  for (let i = 9; i < 16; i++) bytes[i] = random[i - 6] ?? 0;
  // Spelled from a table: a Buffer over this small array would first move it off the V8 heap.
  let id = "";
  for (let i = 0; i < 16; i++) id += (i === 4 || i === 6 || i === 8 || i === 10 ? "-" : "") + HEX[bytes[i]!];
  return id;
}

/**
 * Validates a message id: a UUIDv7 in the canonical lower-case form
 * `xxxxxxxx-xxxx-7xxx-Vxxx-xxxxxxxxxxxx` with V in 8, 9, a, b. Upper case is
 * rejected (rule `case`) so each id has one spelling for de-duplication.
 * Rules: `length`, `hyphen`, `case`, `charset`, `version`, `variant`.
 */
export function validateMessageId(value: string): IdValidation<MessageIdParts, "message-id"> {
  requireString(value, "validateMessageId");
  const issues: IdIssue[] = [];
  const chars = Array.from(value);
  if (chars.length !== 36) {
    issues.push(issue("length", `a message id (UUID) has 36 characters, got ${chars.length}`));
    return finish("message-id", value, issues, () => ({ unixMs: 0, time: "" }));
  }
  chars.forEach((ch, i) => {
    const p = i + 1;
    if (p === 9 || p === 14 || p === 19 || p === 24) {
      if (ch !== "-") issues.push(issue("hyphen", `character ${p} is ${show(ch)}, expected '-'`, p));
      return;
    }
    if (/[0-9a-f]/.test(ch)) return;
    if (/[A-F]/.test(ch)) issues.push(issue("case", `character ${p} is '${ch}': message ids are lower case ('${ch.toLowerCase()}')`, p));
    else issues.push(issue("charset", `character ${p} is ${show(ch)}, expected a hexadecimal digit`, p));
  });
  if (issues.length === 0) {
    if (value.charAt(14) !== "7") issues.push(issue("version", `character 15 is '${value.charAt(14)}' but a UUIDv7 has version '7'`, 15));
    if (!"89ab".includes(value.charAt(19))) issues.push(issue("variant", `character 20 is '${value.charAt(19)}' but the RFC 9562 variant is 8, 9, a or b`, 20));
  }
  return finish("message-id", value, issues, () => {
    const unixMs = Number.parseInt(value.slice(0, 8) + value.slice(9, 13), 16);
    return { unixMs, time: new Date(unixMs).toISOString() };
  });
}

/** Returns the parts of a valid message id or throws IDENTIFIER_INVALID. */
export function assertMessageId(value: string): MessageIdParts {
  return partsOrThrow(validateMessageId(value), "message id");
}
