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
import type { Identity } from './identity';

/** The endpoint as stored, with the revision to compare against when writing it back. */
export interface StoredEndpoint {
  value: WorkloadEndpoint;
  revision: number;
}

/** What ADD and DEL read before they act, in one etcd request. */
export interface EndpointState {
  endpoint: StoredEndpoint | undefined;
  profileExists: boolean;
}

/**
 * Reads ClusterInformation, the workload's endpoint and the network's Profile in one read-only
 * transaction. A missing ClusterInformation or `datastoreReady` other than true is code 11: Calico
 * is not ready yet, so the runtime should retry (calico-behaviour.md §5.1 step 6).
 */
export async function readEndpointState(
  kv: Kv,
  options: { identity: Identity; network: string },
): Promise<EndpointState> {
  const wepKey = workloadEndpointKey(options.identity.namespace, options.identity.endpointName);
  const { results } = await kv.txn({
    compare: [],
    success: [
      { op: 'range', key: CLUSTER_INFORMATION_KEY },
      { op: 'range', key: wepKey },
      { op: 'range', key: profileKey(options.network), keysOnly: true },
    ],
    failure: [],
  });
  const [info, wep, profile] = results.map((r) => (r.op === 'range' ? r.kvs[0] : undefined));
  const ready =
    info !== undefined &&
    parseClusterInformation(info.key, info.value).spec.datastoreReady === true;
  if (!ready) {
    throw new CniError(
      ErrorCode.tryAgainLater,
      `Calico is currently not ready to process requests: ClusterInformation default ${info === undefined ? 'does not exist' : 'has datastoreReady other than true'} (${CLUSTER_INFORMATION_KEY})`,
    );
  }
  return {
    endpoint:
      wep === undefined
        ? undefined
        : { value: parseWorkloadEndpoint(wep.key, wep.value), revision: wep.modRevision },
    profileExists: profile !== undefined,
  };
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

/** Deletes the endpoint if it is still at `revision`; gone already counts as done. */
export async function deleteEndpoint(kv: Kv, endpoint: StoredEndpoint): Promise<void> {
  const { metadata } = endpoint.value;
  const key = workloadEndpointKey(metadata.namespace ?? 'default', metadata.name);
  const { succeeded, results } = await kv.txn({
    compare: [{ key, target: 'modRevision', result: 'equal', value: endpoint.revision }],
    success: [{ op: 'delete', key }],
    failure: [{ op: 'range', key, keysOnly: true }],
  });
  const stillThere = results[0]?.op === 'range' && results[0].kvs.length > 0;
  if (!succeeded && stillThere) {
    throw new CniError(
      ErrorCode.tryAgainLater,
      `endpoint was modified before it could be deleted: WorkloadEndpoint ${metadata.name}`,
    );
  }
}
