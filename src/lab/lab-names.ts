import { UsageError } from '../errors.js';

/**
 * Names and addresses of everything a lab makes, derived from the lab's name alone so that `lab
 * down` can find them again after a crash. Network namespaces are `brl-<lab>-…`: the fabric
 * `brl-<lab>-fab`, node `node-3` → `brl-<lab>-n-node-3`, workload `x/a` → `brl-<lab>-w-x.a`
 * (a Kubernetes namespace holds no dot, so the first dot separates namespace and name). Lab names
 * are 1-8 lowercase letters and digits: no dash, so one lab's prefix is never another's. Pure.
 */

export const DEFAULT_LAB_NAME = 'demo';
export const DEFAULT_STATE_ROOT = '/run/brindle/lab';
export const UNDERLAY_PREFIX = '172.30.0';
export const UNDERLAY_BITS = 24;
export const MAX_NODES = 50;

const LAB_NAME = /^[a-z0-9]{1,8}$/;
const K8S_NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;

export function checkLabName(name: string): string {
  if (!LAB_NAME.test(name)) throw new UsageError(`lab name "${name}" must be 1-8 lowercase letters or digits`);
  return name;
}

export function fabricNetns(lab: string): string {
  return `brl-${lab}-fab`;
}

export function nodeName(index: number): string {
  return `node-${index}`;
}

/** 1-based index of a lab node name (`node-3` → 3), or undefined. */
export function nodeIndex(name: string): number | undefined {
  const m = /^node-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function nodeNetns(lab: string, node: string): string {
  return `brl-${lab}-n-${node}`;
}

/** Underlay address of node `index` (1-based) on the fabric bridge. */
export function underlayIp(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) throw new UsageError(`node index ${index} is outside 1-${MAX_NODES}`);
  return `${UNDERLAY_PREFIX}.${index}`;
}

/** The fabric-side end of node `index`'s underlay veth (`fab-n3`: 15 characters at most). */
export function fabricPort(index: number): string {
  return `fab-n${index}`;
}

export interface WorkloadRef {
  namespace: string;
  name: string;
}

export function parseWorkloadRef(ref: string): WorkloadRef {
  const slash = ref.indexOf('/');
  if (slash < 0) throw new UsageError(`workload "${ref}" must be NAMESPACE/NAME`);
  const namespace = ref.slice(0, slash);
  const name = ref.slice(slash + 1);
  if (!K8S_NAMESPACE.test(namespace)) throw new UsageError(`workload "${ref}": namespace "${namespace}" is not a valid Kubernetes namespace name`);
  if (!K8S_NAME.test(name)) throw new UsageError(`workload "${ref}": name "${name}" is not a valid Kubernetes pod name`);
  return { namespace, name };
}

export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.name}`;
}

export function workloadNetns(lab: string, w: WorkloadRef): string {
  return `brl-${lab}-w-${w.namespace}.${w.name}`;
}

/** True for a namespace name this lab owns (used to refuse acting on anything else). */
export function ownsNetns(lab: string, netns: string): boolean {
  return netns.startsWith(`brl-${lab}-`);
}
