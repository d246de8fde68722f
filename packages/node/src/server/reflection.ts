import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/**
 * A proto-loader style package definition for @grpc/reflection, built from
 * the protobuf-es descriptors compiled into the SDK — the same descriptors
 * the wire code uses, so what reflection shows cannot drift from what the
 * node speaks, and no .proto files need to ship. Each service's file and
 * every file it imports (transitively, google/protobuf included) are encoded
 * as FileDescriptorProto bytes; @grpc/reflection reads only those.
 */
export function reflectionPackageDefinition(services: readonly DescService[]): PackageDefinition {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    for (const dep of file.dependencies) visit(dep);
  };
  for (const s of services) visit(s.file);
  const fileDescriptorProtos = [...files.values()].map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  const definition: Record<string, unknown> = {};
  for (const s of services) definition[s.typeName] = { format: "Protocol Buffer 3 FileDescriptorProto", fileDescriptorProtos };
  return definition as PackageDefinition;
}

/**
 * Adds gRPC server reflection (grpc.reflection.v1 and v1alpha) listing the
 * given services, so `grpcurl list` and similar tools work without .proto
 * files.
 */
export function addReflectionService(server: Server, services: readonly DescService[]): void {
  const reflection = new ReflectionService(reflectionPackageDefinition(services), { services: services.map((s) => s.typeName) });
  reflection.addToServer(server);
}
