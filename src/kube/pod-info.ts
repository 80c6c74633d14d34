import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { podEndpointFields, podIpamRequest, type K8sPod, type PodEndpointFields, type PodIpamRequest } from '../api/k8s-workload.js';
import { NotFoundError, UnavailableError } from '../errors.js';
import { httpStatusOf, loadKubeConfig, normaliseObject } from './kube-resources.js';

/**
 * What the CNI plugin in Kubernetes mode needs to know about the pod it is wiring (Calico's
 * `cni-plugin/pkg/k8s/k8s.go` reads the same): its labels, service account, named ports and the
 * profiles they give its WorkloadEndpoint, and its IPAM annotations (`cni.projectcalico.org/
 * ipv4pools`, `ipv6pools`, `ipAddrs`, `ipAddrsNoIpam`, pools falling back to the namespace's).
 *
 *   const info = await fetchPodInfo({ kubeconfig: conf.kubernetes.kubeconfig, namespace, name });
 *   // info.endpoint.labels / .profiles / .ports / .serviceAccountName → the WorkloadEndpoint
 *   // info.ipam.ipv4Pools / .ipAddrs … → the IPAM request
 *
 * Errors: NotFoundError when the pod does not exist, UnavailableError when the API server cannot
 * be reached in time, Error naming the annotation when one is malformed.
 */

export interface PodInfo {
  namespace: string;
  name: string;
  uid?: string;
  nodeName?: string;
  annotations: Record<string, string>;
  endpoint: PodEndpointFields;
  ipam: PodIpamRequest;
}

export interface PodInfoRequest {
  /** Path of the kubeconfig; omitted: the in-cluster service account. */
  kubeconfig?: string;
  /** An already loaded configuration (wins over `kubeconfig`). */
  config?: KubeConfig;
  namespace: string;
  name: string;
  timeoutMs?: number;
}

export async function fetchPodInfo(req: PodInfoRequest): Promise<PodInfo> {
  const kc = req.config ?? loadKubeConfig(req.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const server = kc.getCurrentCluster()?.server ?? 'the Kubernetes API';
  const timeoutMs = req.timeoutMs ?? 10_000;
  const within = async <T>(what: string, p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new UnavailableError(`${what}: no answer from ${server} within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      if (httpStatusOf(err) === 404) throw new NotFoundError(`${what}: not found in ${server}`, { cause: err });
      if (err instanceof UnavailableError) throw err;
      const code = httpStatusOf(err);
      throw new UnavailableError(`${what}: ${code !== undefined ? `HTTP ${code}` : (err as Error).message} from ${server}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  };
  const [podRaw, nsRaw] = await Promise.all([
    within(`pod ${req.namespace}/${req.name}`, core.readNamespacedPod({ namespace: req.namespace, name: req.name })),
    within(`namespace ${req.namespace}`, core.readNamespace({ name: req.namespace })),
  ]);
  const pod = normaliseObject(podRaw, 'v1', 'Pod') as unknown as K8sPod;
  const nsAnnotations = (nsRaw.metadata?.annotations ?? {}) as Record<string, string>;
  const annotations = pod.metadata.annotations ?? {};
  const info: PodInfo = {
    namespace: req.namespace,
    name: req.name,
    annotations: { ...annotations },
    endpoint: podEndpointFields(pod),
    ipam: podIpamRequest(annotations, nsAnnotations),
  };
  if (pod.metadata.uid) info.uid = pod.metadata.uid;
  if (pod.spec?.nodeName) info.nodeName = pod.spec.nodeName;
  return info;
}
