import type { DescService } from "@bufbuild/protobuf";
import { TongbanError, type HandlerContext, type ServiceImpl } from "@tongban/sdk";

/**
 * Runs before every method: returns the context the handler should see (for
 * instance with a verified peer) or throws a TongbanError to refuse the call.
 */
export type CallGuard = (ctx: HandlerContext) => HandlerContext | Promise<HandlerContext>;

type AnyHandler = (input: unknown, ctx: HandlerContext) => unknown;

/**
 * Wraps every method of a service with a guard that runs before the handler
 * sees its request, whatever the method's streaming kind. Methods the
 * implementation leaves out are guarded too and then answer UNIMPLEMENTED:
 * an unauthenticated caller learns nothing, not even which methods exist.
 *
 * @example
 * ```ts
 * const guarded = guardService(PlatformService, impl, bearerTokenGuard(tokens));
 * ```
 */
export function guardService<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>, guard: CallGuard): ServiceImpl<S> {
  const out: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    const handler: AnyHandler =
      (impl as Record<string, AnyHandler | undefined>)[method.localName] ??
      (() => {
        throw new TongbanError("UNIMPLEMENTED", `${service.typeName}/${method.name} is not implemented by this node`);
      });
    if (method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming") {
      out[method.localName] = async function* (input: unknown, ctx: HandlerContext) {
        const checked = await guard(ctx);
        yield* handler(input, checked) as AsyncIterable<unknown>;
      };
    } else {
      out[method.localName] = async (input: unknown, ctx: HandlerContext) => handler(input, await guard(ctx));
    }
  }
  return out as ServiceImpl<S>;
}
