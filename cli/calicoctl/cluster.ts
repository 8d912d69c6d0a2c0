import { randomUUID } from 'node:crypto';
import {
  encodeClusterInformation,
  parseClusterInformation,
} from '../../lib/datastore/calico/cluster-information';
import { CLUSTER_INFORMATION_KEY, nodeKey } from '../../lib/datastore/calico/keys';
import { encodeNode, parseNode } from '../../lib/datastore/calico/node';
import { CAS_CONFLICT, withCasRetry } from '../../lib/datastore/cas-retry';
import type { Kv } from '../../lib/datastore/kv';
import { CliError, type CliIo } from './io';
import { nowRfc3339 } from './resource-writes';

// What calico/node does at start-up and this project has no daemon for: mark the datastore ready
// (the plugins refuse ADD and DEL until ClusterInformation `default` says datastoreReady: true)
// and register a Node with labels (pool nodeSelectors match them).

/** Label text `k=v,k2=v2` as a map; errors name the bad entry. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of text.split(',').filter((e) => e.trim() !== '')) {
    const eq = entry.indexOf('=');
    const key = entry.slice(0, eq).trim();
    if (eq < 1 || key === '' || !/^[A-Za-z0-9._/-]+$/.test(key)) {
      throw new CliError(`--labels: ${JSON.stringify(entry)} is not key=value`);
    }
    labels[key] = entry.slice(eq + 1).trim();
  }
  return labels;
}

/** Compare-and-swap write of `key` from what `change` makes of its current value. */
async function upsert(
  kv: Kv,
  key: string,
  change: (current: string | undefined) => string,
): Promise<'created' | 'updated'> {
  return withCasRetry(
    async () => {
      const current = await kv.get(key);
      const result = await kv.txn({
        compare: [
          { key, target: 'modRevision', result: 'equal', value: current?.modRevision ?? 0 },
        ],
        success: [{ op: 'put', key, value: change(current?.value) }],
        failure: [],
      });
      if (!result.succeeded) return CAS_CONFLICT;
      return current === undefined ? 'created' : 'updated';
    },
    { what: `write of ${key}` },
  );
}

/** Creates ClusterInformation `default` (new cluster GUID) or sets datastoreReady on it. */
export async function datastoreInit(kv: Kv, io: CliIo): Promise<void> {
  const outcome = await upsert(kv, CLUSTER_INFORMATION_KEY, (current) => {
    if (current !== undefined) {
      const info = parseClusterInformation(CLUSTER_INFORMATION_KEY, current);
      info.spec.datastoreReady = true;
      return encodeClusterInformation(info);
    }
    return encodeClusterInformation({
      metadata: { name: 'default', uid: randomUUID(), creationTimestamp: nowRfc3339() },
      // calico/node writes the GUID as 32 hex digits (a UUID without dashes).
      spec: { clusterGUID: randomUUID().replaceAll('-', ''), datastoreReady: true },
    });
  });
  io.out(`Datastore initialised: ClusterInformation default ${outcome}, datastoreReady true\n`);
}

/** Registers Node `name`, or merges `labels` into an existing one (other fields kept). */
export async function nodeRegister(
  kv: Kv,
  request: { name: string; labels: Record<string, string> },
  io: CliIo,
): Promise<void> {
  const { name, labels } = request;
  const key = nodeKey(name);
  const outcome = await upsert(kv, key, (current) => {
    if (current !== undefined) {
      const node = parseNode(key, current);
      node.metadata.labels = { ...(node.metadata.labels ?? {}), ...labels };
      return encodeNode(node);
    }
    return encodeNode({
      metadata: {
        name,
        uid: randomUUID(),
        creationTimestamp: nowRfc3339(),
        ...(Object.keys(labels).length === 0 ? {} : { labels }),
      },
      spec: {},
    });
  });
  io.out(`Node ${name} ${outcome}\n`);
}
