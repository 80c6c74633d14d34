import type { DataplaneCallbacks, RouteUpdate, VtepUpdate } from '../../src/calc/types.js';

/** Calculation callbacks that pass routes and VTEPs to `sink` and ignore everything else. */
export function routeCallbacks(sink: {
  onRouteUpdate(r: RouteUpdate): void;
  onRouteRemoved(dst: string): void;
  onVtepUpdate?(v: VtepUpdate): void;
  onVtepRemoved?(node: string): void;
}): DataplaneCallbacks {
  const noop = (): void => undefined;
  return {
    onConfigUpdate: noop, onIpSetAdded: noop, onIpSetMemberAdded: noop, onIpSetMemberRemoved: noop, onIpSetRemoved: noop,
    onPolicyActive: noop, onPolicyInactive: noop, onProfileActive: noop, onProfileInactive: noop,
    onEndpointUpdate: noop, onEndpointRemoved: noop, onHostIpUpdate: noop, onHostIpRemoved: noop,
    onIpPoolUpdate: noop, onIpPoolRemoved: noop, onInSync: noop, onBatchComplete: noop,
    onRouteUpdate: (r) => sink.onRouteUpdate(r), onRouteRemoved: (d) => sink.onRouteRemoved(d),
    onVtepUpdate: (v) => sink.onVtepUpdate?.(v), onVtepRemoved: (n) => sink.onVtepRemoved?.(n),
  };
}
