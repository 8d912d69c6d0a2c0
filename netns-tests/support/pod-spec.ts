import type { PodNetworkSpec } from '../../lib/dataplane';
import type { Netns } from './topology';

/** The usual setupPodNetwork spec of the dataplane tests: `eth0` in `pod`, `host` on the node. */
export function podSpec(
  pod: Netns,
  host: string,
  options: { addresses: string[] } & Partial<PodNetworkSpec>,
): PodNetworkSpec {
  return {
    netns: pod.path,
    containerIfName: 'eth0',
    hostIfName: host,
    mtu: 0,
    allowIpForwarding: false,
    ...options,
  };
}
