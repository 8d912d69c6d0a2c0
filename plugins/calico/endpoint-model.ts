import type { Profile } from '../../lib/datastore/calico/profile';
import type { WorkloadEndpoint } from '../../lib/datastore/calico/workload-endpoint';
import type { Identity } from './identity';
import { newUid } from '../../lib/datastore/calico/uid';

/** What the dataplane and IPAM produced for one container. */
export interface EndpointFacts {
  identity: Identity;
  node: string;
  containerId: string;
  ifName: string;
  network: string;
  /** Pod addresses as /32 or /128. */
  ipNetworks: string[];
  containerMac: string;
  /** The endpoint being replaced (k8s repeated ADD): its uid, creation time and extras stay. */
  previous?: WorkloadEndpoint | undefined;
}

/**
 * The WorkloadEndpoint of calico-behaviour.md §2.2: labels for namespace and orchestrator, the
 * containerID that DEL compares against (cni-plugin#310), the network's profile.
 */
export function buildEndpoint(facts: EndpointFacts): WorkloadEndpoint {
  const { identity, previous } = facts;
  const profiles = previous?.spec.profiles.includes(facts.network)
    ? previous.spec.profiles
    : [...(previous?.spec.profiles ?? []), facts.network];
  return {
    metadata: {
      name: identity.endpointName,
      namespace: identity.namespace,
      uid: previous?.metadata.uid ?? newUid(),
      creationTimestamp: previous?.metadata.creationTimestamp ?? rfc3339(new Date()),
      labels: {
        ...(previous?.metadata.labels ?? {}),
        'projectcalico.org/namespace': identity.namespace,
        'projectcalico.org/orchestrator': identity.orchestrator,
      },
      ...(previous?.metadata.raw === undefined ? {} : { raw: previous.metadata.raw }),
    },
    spec: {
      orchestrator: identity.orchestrator,
      node: facts.node,
      containerID: facts.containerId,
      ...(identity.pod === undefined ? {} : { pod: identity.pod }),
      endpoint: facts.ifName,
      ipNetworks: facts.ipNetworks,
      profiles,
      interfaceName: identity.hostVeth,
      mac: facts.containerMac,
      allowSpoofedSourcePrefixes: previous?.spec.allowSpoofedSourcePrefixes ?? [],
    },
  };
}

/** The network's default Profile (§2.3): members may talk to each other; egress is open. */
export function buildProfile(options: { network: string; orchestrator: 'cni' | 'k8s' }): Profile {
  const { network } = options;
  const ingress =
    options.orchestrator === 'k8s'
      ? { action: 'Allow' }
      : { action: 'Allow', source: { selector: `has(${network})` } };
  return {
    metadata: {
      name: network,
      uid: newUid(),
      creationTimestamp: rfc3339(new Date()),
    },
    spec: { ingress: [ingress], egress: [{ action: 'Allow' }], labelsToApply: { [network]: '' } },
  };
}

/** Kubernetes' timestamp form: `2026-01-02T03:04:05Z` (seconds, UTC). */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}
