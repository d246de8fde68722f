import type { Server } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";

/**
 * Standard gRPC health checking (grpc.health.v1) for one server: the overall
 * status (service name "") and one status per served service, all flipped
 * together. Starts NOT_SERVING until the node says it is ready.
 */
export interface HealthReporter {
  /** Reports every service (and "") as SERVING or NOT_SERVING; watchers are told of each change at once. */
  setServing(serving: boolean): void;
  /** Whether the last report was SERVING. */
  readonly serving: boolean;
}

/**
 * Adds grpc.health.v1.Health to a grpc-js server for the given fully
 * qualified service names (e.g. `tongban.v1.FederationService`).
 *
 * @example
 * ```ts
 * const health = addHealthService(handle.server, [FederationService.typeName]);
 * health.setServing(true);
 * ```
 */
export function addHealthService(server: Server, serviceNames: readonly string[]): HealthReporter {
  const names = ["", ...serviceNames];
  const impl = new HealthImplementation(Object.fromEntries(names.map((n) => [n, "NOT_SERVING" as const])));
  impl.addToServer(server);
  let serving = false;
  return {
    setServing(value) {
      // Watchers get one message per change, not one per call.
      if (value === serving) return;
      serving = value;
      for (const n of names) impl.setStatus(n, value ? "SERVING" : "NOT_SERVING");
    },
    get serving() {
      return serving;
    },
  };
}
