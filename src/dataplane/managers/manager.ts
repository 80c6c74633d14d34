/**
 * What a dataplane manager is (Felix's `Manager`): it receives the calculation callbacks it cares
 * about, records desired state and marks it dirty — no kernel I/O — and on
 * `completeDeferredWork()` translates what is dirty into the table reconciler (or its own
 * driver's desired state). The driver calls every manager once per batch, in list order, then
 * applies. A new manager (VXLAN, BGP routes…) implements this and is added to the driver's list.
 */
import type { DataplaneCallbacks } from '../../calc/types.js';

export type ManagerCallbacks = Partial<Omit<DataplaneCallbacks, 'onInSync' | 'onBatchComplete'>>;

export interface DataplaneManager extends ManagerCallbacks {
  readonly name: string;
  completeDeferredWork(): void;
  /** Optional kernel work after the nftables transaction (routes, sysctls…). */
  apply?(): Promise<void>;
  /** Optional periodic read-back and repair of what this manager owns. */
  resync?(): Promise<void>;
}
