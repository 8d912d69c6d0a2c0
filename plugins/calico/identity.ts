import type { CniArgs } from '../../lib/cni/cni-args';
import { CniError, ErrorCode } from '../../lib/cni/errors';

/** Who the workload is (calico-behaviour.md §1.3, §2.1, §3). */
export interface Identity {
  orchestrator: 'cni' | 'k8s';
  /** The WorkloadEndpoint's namespace: the pod's for k8s, `default` for cni. */
  namespace: string;
  /** The pod name (k8s) or the container ID (cni). */
  workload: string;
  pod?: string;
  /** The WorkloadEndpoint name: `<node>-<orchestrator>-<workload>-<endpoint>`, dashes doubled. */
  endpointName: string;
  /** The host end of the veth: `cali` + 11 hex or container-ID characters. */
  hostVeth: string;
  /** What hostVeth starts with (`cali`, or FELIX_INTERFACEPREFIX's first entry for a pod). */
  vethPrefix: string;
}

/**
 * The workload's identity: Kubernetes when CNI_ARGS carries both K8S_POD_NAMESPACE and
 * K8S_POD_NAME (k8s), else a plain CNI container in namespace `default`.
 */
export async function identify(options: {
  node: string;
  containerId: string;
  ifName: string;
  args: CniArgs;
  /** FELIX_INTERFACEPREFIX: its first entry replaces `cali` in k8s veth names. */
  interfacePrefix?: string | undefined;
}): Promise<Identity> {
  const { node, containerId, ifName, args } = options;
  const hostVeth = await hostVethName(options);
  const vethPrefix = hostVethPrefix(options);
  const ns = args.k8sPodNamespace;
  const pod = args.k8sPodName;
  if (ns !== undefined && pod !== undefined) {
    requireObjectName('K8S_POD_NAMESPACE', ns);
    requireObjectName('K8S_POD_NAME', pod);
    return {
      orchestrator: 'k8s',
      namespace: ns,
      workload: pod,
      pod,
      endpointName: endpointName([node, 'k8s', pod, ifName]),
      hostVeth,
      vethPrefix,
    };
  }
  return {
    orchestrator: 'cni',
    namespace: 'default',
    workload: containerId,
    endpointName: endpointName([node, 'cni', containerId, ifName]),
    hostVeth,
    vethPrefix,
  };
}

/**
 * Kubernetes namespaces and pod names are DNS labels and subdomains; anything that could not be
 * one (and would become a path segment of an etcd key) is refused before anything changes
 * (found by fuzzing: `K8S_POD_NAMESPACE=../../x` was code 999).
 */
function requireObjectName(key: string, value: string): void {
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(value)) {
    throw new CniError(
      ErrorCode.invalidEnvironment,
      `CNI_ARGS ${key}=${JSON.stringify(value).slice(0, 300)} is not a Kubernetes object name (lowercase letters, digits, '-' and '.', at most 253 characters)`,
    );
  }
}

/**
 * The host end of the veth (§3): `cali` + the first 11 characters of the container ID, or for a
 * pod the prefix (FELIX_INTERFACEPREFIX's first entry, default `cali`) + the first 11 hex digits of
 * sha1(`<namespace>.<pod>`). Needs no node name, so DEL can clean up before anything else.
 */
export async function hostVethName(options: {
  containerId: string;
  args: CniArgs;
  interfacePrefix?: string | undefined;
}): Promise<string> {
  const { k8sPodNamespace: ns, k8sPodName: pod } = options.args;
  const prefix = hostVethPrefix(options);
  if (ns === undefined || pod === undefined) {
    // Two container IDs sharing their first 11 characters collide here, as upstream.
    return `${prefix}${options.containerId.slice(0, 11)}`;
  }
  const { createHash } = await import('node:crypto');
  return `${prefix}${createHash('sha1').update(`${ns}.${pod}`).digest('hex').slice(0, 11)}`;
}

/** `cali`, or for a pod FELIX_INTERFACEPREFIX's first entry when set. */
function hostVethPrefix(options: { args: CniArgs; interfacePrefix?: string | undefined }): string {
  const { k8sPodNamespace: ns, k8sPodName: pod } = options.args;
  if (ns === undefined || pod === undefined) return 'cali';
  return options.interfacePrefix?.split(',')[0]?.trim() || 'cali';
}

/** Joins segments with `-` after doubling the dashes inside each (libcalico-go names). */
export function endpointName(segments: readonly string[]): string {
  for (const segment of segments) {
    if (segment === '' || segment.startsWith('-') || segment.endsWith('-')) {
      throw new CniError(
        ErrorCode.invalidNetworkConfig,
        `cannot name the WorkloadEndpoint: segment ${JSON.stringify(segment)} is empty or starts or ends with "-"`,
      );
    }
  }
  return segments.map((s) => s.replaceAll('-', '--')).join('-');
}
