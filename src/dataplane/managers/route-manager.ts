/**
 * Translates the calculation's local-workload routes into the route table's desired routes
 * (`<ip>/32 dev <workload interface>`). Remote routes are programmed by BIRD or the VXLAN manager,
 * not here. No I/O: the RouteTable applies.
 */
import type { RouteUpdate } from '../../calc/types.js';
import type { RouteTable } from '../routes/route-table.js';
import type { DataplaneManager } from './manager.js';

export class RouteManager implements DataplaneManager {
  readonly name = 'routes';
  private readonly mine = new Set<string>();

  constructor(private readonly routes: RouteTable) {}

  onRouteUpdate(r: RouteUpdate): void {
    if (r.type === 'local-workload' && r.interfaceName) {
      this.mine.add(r.dst);
      this.routes.setRoute(r.dst, r.interfaceName);
    } else if (this.mine.delete(r.dst)) {
      this.routes.deleteRoute(r.dst);
    }
  }

  onRouteRemoved(dst: string): void {
    if (this.mine.delete(dst)) this.routes.deleteRoute(dst);
  }

  completeDeferredWork(): void {}

  apply(): Promise<void> {
    return this.routes.apply();
  }

  resync(): Promise<void> {
    return this.routes.resync();
  }
}
