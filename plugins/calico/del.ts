import type { CmdArgs } from '../../lib/cni/dispatcher';
import { teardownPodNetwork } from '../../lib/dataplane';
import { calicoContext, withDatastore } from './context';
import { hostVethName } from './identity';
import { deleteEndpoint, readEndpointState } from './endpoint-store';
import { ipamClient } from './ipam-client';

/**
 * DEL (calico-behaviour.md §6), idempotent: a missing netns, link, endpoint or handle all count as
 * done. The local veth goes first, so that it is gone even when etcd is unreachable (then the
 * error is code 11 and the runtime retries) and so that a released address cannot meet a leftover
 * host route. A Kubernetes endpoint that belongs to another (newer) sandbox is kept.
 */
export async function calicoDel(args: CmdArgs): Promise<void> {
  const started = Date.now();
  // Local cleanup needs nothing but the arguments: it happens even when the nodename file or the
  // datastore is missing (calico#6309, calico#1795: pods stuck Terminating).
  const k8s = args.args.k8sPodNamespace !== undefined && args.args.k8sPodName !== undefined;
  const hostVeth = await hostVethName({
    containerId: args.containerId,
    args: args.args,
    interfacePrefix: args.env.FELIX_INTERFACEPREFIX,
  });
  await teardownPodNetwork({
    containerIfName: args.ifName,
    // A k8s veth name is shared by the pod's sandboxes: only the netns side may be removed here.
    ...(k8s ? {} : { hostIfName: hostVeth }),
    ...(args.netns === '' ? {} : { netns: args.netns }),
  });
  const ctx = await calicoContext(args);
  const { identity } = ctx;
  await withDatastore(ctx, async (kv) => {
    const { endpoint } = await readEndpointState(kv, { identity, network: args.netConf.name });
    await ipamClient(args, { ipamType: ctx.ipamType, kv, node: ctx.node }).release();
    const owner = endpoint?.value.spec.containerID;
    if (endpoint === undefined) return;
    if (owner !== undefined && owner !== args.containerId) {
      ctx.log.info(
        `DEL container=${args.containerId}: endpoint ${identity.endpointName} belongs to container ${owner}, kept`,
      );
      return;
    }
    await deleteEndpoint(kv, endpoint);
  });
  ctx.log.info(
    `DEL container=${args.containerId} veth=${identity.hostVeth} elapsed=${Date.now() - started}ms`,
  );
}
