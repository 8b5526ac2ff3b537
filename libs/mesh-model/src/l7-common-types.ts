// Building blocks shared by the waypoint resources (protos/weft/l7/v1/common.proto), in domain form.

/**
 * Istio's networking StringMatch. Named apart from the L4 `StringMatch` (exact/prefix/suffix/presence) because it
 * matches differently: `regex` is RE2 over the whole value, and `any` (no case set on the wire) is how Istio
 * expresses "the header is present with any value".
 */
export type L7StringMatch =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'regex'; readonly value: string }
  | { readonly kind: 'any' };

/** Istio's Headers.HeaderOperations. */
export interface HeaderOperations {
  /** Overwrite the header with this value. */
  readonly set: Readonly<Record<string, string>>;
  /** Append a value, keeping existing ones. */
  readonly add: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

/** Istio's PolicyTargetReference: the waypoint Gateway, a Service, a ServiceEntry or a GatewayClass. */
export interface PolicyTargetRef {
  /** "" for core kinds (Service). */
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  /** "" = the policy's own namespace. */
  readonly namespace: string;
}
