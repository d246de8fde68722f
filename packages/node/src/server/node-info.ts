import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { validateNodeId, type ServiceImpl, type Suite } from "@tongban/sdk";
import { FederationService, GetNodeInfoResponseSchema } from "@tongban/sdk/gen";
import { NODE_SOFTWARE } from "../software.js";

/** The protocol versions this node speaks, as GetNodeInfo reports them. */
export const NODE_PROTOCOLS: readonly string[] = ["tongban/1"];

/** What {@link nodeInfoService} reports. */
export interface NodeInfoOptions {
  readonly nodeId: string;
  readonly suites: readonly Suite[];
  /** The directory version in use, once the node holds one. */
  readonly directoryVersion?: () => string | undefined;
  readonly now: () => Date;
}

/**
 * FederationService.GetNodeInfo: node id, its region (from the node id),
 * suites, protocols, software and the node's clock — everything a partner
 * or the conformance runner needs before it sends anything, and nothing
 * that needs the intake pipeline.
 */
export function nodeInfoService(options: NodeInfoOptions): Pick<ServiceImpl<typeof FederationService>, "getNodeInfo"> {
  const check = validateNodeId(options.nodeId);
  if (!check.ok) throw new TypeError(`not a valid node id: ${options.nodeId}`);
  const regions = [check.parts.region];
  return {
    async getNodeInfo() {
      return create(GetNodeInfoResponseSchema, {
        nodeId: options.nodeId,
        regions,
        suites: [...options.suites],
        protocols: [...NODE_PROTOCOLS],
        software: NODE_SOFTWARE,
        directoryVersion: options.directoryVersion?.() ?? "",
        now: timestampFromDate(options.now()),
      });
    },
  };
}
