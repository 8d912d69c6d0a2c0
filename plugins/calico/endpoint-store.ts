import { CniError, ErrorCode } from '../../lib/cni/errors';
import { parseClusterInformation } from '../../lib/datastore/calico/cluster-information';
import {
  CLUSTER_INFORMATION_KEY,
  profileKey,
  workloadEndpointKey,
} from '../../lib/datastore/calico/keys';
import { encodeProfile, type Profile } from '../../lib/datastore/calico/profile';
import {
  encodeWorkloadEndpoint,
  parseWorkloadEndpoint,
  type WorkloadEndpoint,
} from '../../lib/datastore/calico/workload-endpoint';
import type { Compare, Kv, Op } from '../../lib/datastore/kv';
import type { SideRead, SideValues, SideWrite } from '../../ipam/block-store';
import type { Identity } from './identity';

/** The endpoint as stored, with the revision to compare against when writing it back. */
export interface StoredEndpoint {
  value: WorkloadEndpoint;
  revision: number;
}

/** What ADD and DEL read before they act, with IPAM's first read. */
export interface EndpointState {
  endpoint: StoredEndpoint | undefined;
  profileExists: boolean;
}

/** The keys of the endpoint state: ClusterInformation, the workload's endpoint, the Profile. */
export function endpointStateReads(options: { identity: Identity; network: string }): SideRead[] {
  return [
    { key: CLUSTER_INFORMATION_KEY },
    { key: endpointKeyOf(options.identity) },
    { key: profileKey(options.network), keysOnly: true },
  ];
}

/**
 * The endpoint state from the side keys read. A missing ClusterInformation or `datastoreReady`
 * other than true is code 11: Calico is not ready yet, so the runtime should retry
 * (calico-behaviour.md §5.1 step 6).
 */
export function endpointStateFrom(
  side: SideValues,
  options: { identity: Identity; network: string },
): EndpointState {
  const info = side.get(CLUSTER_INFORMATION_KEY);
  const ready =
    info !== undefined &&
    parseClusterInformation(CLUSTER_INFORMATION_KEY, info.value).spec.datastoreReady === true;
  if (!ready) {
    throw new CniError(
      ErrorCode.tryAgainLater,
      `Calico is currently not ready to process requests: ClusterInformation default ${info === undefined ? 'does not exist' : 'has datastoreReady other than true'} (${CLUSTER_INFORMATION_KEY})`,
    );
  }
  const key = endpointKeyOf(options.identity);
  const wep = side.get(key);
  return {
    endpoint:
      wep === undefined
        ? undefined
        : { value: parseWorkloadEndpoint(key, wep.value), revision: wep.revision },
    profileExists: side.has(profileKey(options.network)),
  };
}

/**
 * The writes that store the endpoint (created when it was absent, else compare-and-swapped) and,
 * when absent, the network's Profile (never updated, as upstream).
 */
export function endpointWrites(options: {
  endpoint: WorkloadEndpoint;
  state: EndpointState;
  profile: Profile;
}): SideWrite[] {
  const { endpoint, state } = options;
  const writes: SideWrite[] = [
    {
      key: endpointKeyOf(endpoint),
      expect: state.endpoint?.revision ?? 0,
      value: encodeWorkloadEndpoint(endpoint),
    },
  ];
  if (!state.profileExists) {
    const profile = options.profile;
    writes.push({
      key: profileKey(profile.metadata.name),
      expect: 0,
      value: encodeProfile(profile),
    });
  }
  return writes;
}

/** Deletes the endpoint as read (DEL); none when it is absent. */
export function endpointDeletes(endpoint: StoredEndpoint | undefined): SideWrite[] {
  if (endpoint === undefined) return [];
  return [{ key: endpointKeyOf(endpoint.value), expect: endpoint.revision, value: null }];
}

function endpointKeyOf(of: Identity | Pick<WorkloadEndpoint, 'metadata'>): string {
  return 'metadata' in of
    ? workloadEndpointKey(of.metadata.namespace ?? 'default', of.metadata.name)
    : workloadEndpointKey(of.namespace, of.endpointName);
}

/**
 * Writes the endpoint (created when `revision` is 0, else compare-and-swapped) and, when absent, the
 * network's Profile, in one transaction. A lost compare is an error: another invocation changed
 * the endpoint meanwhile.
 */
export async function writeEndpoint(
  kv: Kv,
  options: { endpoint: WorkloadEndpoint; revision: number; profile?: Profile },
): Promise<StoredEndpoint> {
  const { endpoint, profile } = options;
  const key = workloadEndpointKey(endpoint.metadata.namespace ?? 'default', endpoint.metadata.name);
  const compare: Compare[] = [
    { key, target: 'modRevision', result: 'equal', value: options.revision },
  ];
  const success: Op[] = [{ op: 'put', key, value: encodeWorkloadEndpoint(endpoint) }];
  if (profile !== undefined) {
    const pkey = profileKey(profile.metadata.name);
    // An existing Profile is never updated (upstream): only create it while it is absent.
    compare.push({ key: pkey, target: 'version', result: 'equal', value: 0 });
    success.push({ op: 'put', key: pkey, value: encodeProfile(profile) });
  }
  const { succeeded, revision } = await kv.txn({ compare, success, failure: [] });
  if (succeeded) return { value: endpoint, revision };
  if (profile !== undefined) {
    // Someone may have created the Profile meanwhile: that is fine, write the endpoint alone.
    return writeEndpoint(kv, { endpoint, revision: options.revision });
  }
  throw new CniError(
    ErrorCode.tryAgainLater,
    `WorkloadEndpoint ${endpoint.metadata.name} was modified by another invocation while this one wrote it`,
  );
}

/**
 * Rollback of an ADD: deletes the endpoint it wrote, if it still holds exactly that (the compare is
 * on the value, so an endpoint another invocation rewrote meanwhile is left alone).
 */
export async function deleteWrittenEndpoint(kv: Kv, endpoint: WorkloadEndpoint): Promise<void> {
  const key = endpointKeyOf(endpoint);
  await kv.txn({
    compare: [{ key, target: 'value', result: 'equal', value: encodeWorkloadEndpoint(endpoint) }],
    success: [{ op: 'delete', key }],
    failure: [],
  });
}
