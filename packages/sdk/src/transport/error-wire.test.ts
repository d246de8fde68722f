import { describe, expect, it } from "vitest";
import { ERROR_CODES, GrpcStatus, TongbanError } from "../errors/index.js";
import { STATUS_FALLBACK_CODES, fromWireError, toWireError } from "./error-wire.js";

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

describe("error mapping", () => {
  it("round-trips every code in the table", () => {
    for (const code of Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>) {
      const back = fromWireError(toWireError(new TongbanError(code, `m-${code}`, { details: { k: code } })));
      expect([back.code, back.message, back.details]).toEqual([code, `m-${code}`, { k: code }]);
    }
  });

  it("hides everything about a non-Tongban error", () => {
    const wire = toWireError(Object.assign(new Error("db password=hunter2"), { code: 7 }));
    expect(wire).toEqual({ status: GrpcStatus.INTERNAL, message: "internal error", code: "INTERNAL", details: undefined });
  });

  it("drops details that cannot be serialised but keeps the code", () => {
    const wire = toWireError(new TongbanError("STORE_CORRUPT", "bad", { details: { n: 1n } }));
    expect(wire.code).toBe("STORE_CORRUPT");
    expect(wire.details).toBeUndefined();
  });

  it("ignores a trailer code whose status disagrees with the received status", () => {
    const err = fromWireError({ status: GrpcStatus.UNAVAILABLE, message: "x", code: "CASE_NOT_FOUND", details: undefined });
    expect(err.code).toBe("TRANSPORT_UNAVAILABLE");
    expect(err.details).toEqual({ grpcStatus: GrpcStatus.UNAVAILABLE });
  });

  it("ignores an unknown trailer code and unreadable details", () => {
    expect(fromWireError({ status: GrpcStatus.INTERNAL, message: "x", code: "NOPE", details: undefined }).code).toBe("INTERNAL");
    const err = fromWireError({ status: GrpcStatus.NOT_FOUND, message: "x", code: "CASE_NOT_FOUND", details: new Uint8Array([0xff, 0x00]) });
    expect([err.code, err.details]).toEqual(["CASE_NOT_FOUND", {}]);
    expect(fromWireError({ status: GrpcStatus.NOT_FOUND, message: "x", code: "CASE_NOT_FOUND", details: enc([1]) }).details).toEqual({});
  });

  it("maps statuses without a trailer through the fallback table", () => {
    const cases: Array<[number, string]> = [
      [GrpcStatus.CANCELLED, "TRANSPORT_CANCELLED"],
      [GrpcStatus.DEADLINE_EXCEEDED, "TRANSPORT_DEADLINE_EXCEEDED"],
      [GrpcStatus.UNAVAILABLE, "TRANSPORT_UNAVAILABLE"],
      [GrpcStatus.UNAUTHENTICATED, "TRANSPORT_UNAUTHENTICATED"],
      [GrpcStatus.RESOURCE_EXHAUSTED, "TRANSPORT_RESOURCE_EXHAUSTED"],
      [GrpcStatus.UNIMPLEMENTED, "UNIMPLEMENTED"],
      [GrpcStatus.INTERNAL, "INTERNAL"],
      [GrpcStatus.NOT_FOUND, "TRANSPORT_UNKNOWN_STATUS"],
      [GrpcStatus.UNKNOWN, "TRANSPORT_UNKNOWN_STATUS"],
    ];
    for (const [status, code] of cases) {
      const err = fromWireError({ status, message: "", code: undefined, details: undefined });
      expect(err.code).toBe(code);
      expect(err.details).toEqual({ grpcStatus: status });
    }
  });

  it("falls back only to codes whose own status matches, so grpcStatus is preserved", () => {
    for (const [status, code] of Object.entries(STATUS_FALLBACK_CODES)) {
      expect(GrpcStatus[ERROR_CODES[code!].grpc]).toBe(Number(status));
    }
  });
});
