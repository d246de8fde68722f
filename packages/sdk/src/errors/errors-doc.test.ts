import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./codes.js";
import { GrpcStatus } from "./grpc-status.js";

const doc = readFileSync(fileURLToPath(new URL("../../../../docs/errors.md", import.meta.url)), "utf8");

function docRows(): Map<string, { grpc: string; summary: string }> {
  const rows = new Map<string, { grpc: string; summary: string }>();
  for (const line of doc.split("\n")) {
    const m = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*([A-Z_]+)\s*\|\s*(.+?)\s*\|\s*$/.exec(line);
    if (m) {
      if (rows.has(m[1]!)) throw new Error(`docs/errors.md lists ${m[1]} twice`);
      rows.set(m[1]!, { grpc: m[2]!, summary: m[3]! });
    }
  }
  return rows;
}

describe("docs/errors.md", () => {
  const rows = docRows();

  it("lists every code in the table with the same gRPC status and summary", () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code), `docs/errors.md is missing ${code}`).toEqual({ grpc: info.grpc, summary: info.summary });
    }
  });

  it("lists no code the table lacks", () => {
    const extra = [...rows.keys()].filter((c) => !Object.hasOwn(ERROR_CODES, c));
    expect(extra).toEqual([]);
  });

  it("maps every code to a real gRPC status", () => {
    for (const info of Object.values(ERROR_CODES)) expect(GrpcStatus[info.grpc]).toBeTypeOf("number");
  });
});
