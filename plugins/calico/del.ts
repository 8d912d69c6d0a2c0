import type { SideHooks } from '../../ipam/block-store';
import type { CmdArgs } from '../../lib/cni/dispatcher';
import { teardownPodNetwork } from '../../lib/dataplane';
import { calicoContext, withDatastore, type CalicoContext } from './context';
import {
  endpointDeletes,
  endpointStateFrom,
  endpointStateReads,
  type StoredEndpoint,
} from './endpoint-store';
import { hostVethName } from './identity';
import { ipamClient } from './ipam-client';

/**
 * DEL (calico-behaviour.md §6), idempotent: a missing netns, link, endpoint or handle all count as
 * done. The local veth is removed while the datastore is read, and the release commits only once
 * it is gone: a released address can never meet a leftover host route, and with etcd unreachable
 * the veth is still gone when the error (code 11, the runtime retries) is returned. A Kubernetes
 * endpoint that belongs to another (newer) sandbox is kept.
 */
export async function calicoDel(args: CmdArgs): Promise<void> {
  const started = Date.now();
  // Local cleanup needs nothing but the arguments: it happens even when the nodename file or the
  // datastore is missing (calico#6309, calico#1795: pods stuck Terminating).
  const teardown = localTeardown(args);
  teardown.catch(() => undefined);
  let ctx: CalicoContext;
  try {
    ctx = await calicoContext(args);
    await withDatastore(ctx, (kv) =>
      ipamClient(args, { ipamType: ctx.ipamType, kv, node: ctx.node }).release(
        endpointHooks(ctx, teardown),
      ),
    );
  } catch (err) {
    // The veth goes first whatever happened; its own failure is the one to report.
    await teardown;
    throw err;
  }
  await teardown;
  ctx.log.info(
    `DEL container=${args.containerId} veth=${ctx.identity.hostVeth} elapsed=${Date.now() - started}ms`,
  );
}

async function localTeardown(args: CmdArgs): Promise<void> {
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
}

// The endpoint is read with the handles and deleted in the release's commit, unless it belongs
// to another container (a newer sandbox of the same pod).
function endpointHooks(ctx: CalicoContext, teardown: Promise<void>): SideHooks {
  const { args, identity } = ctx;
  const network = args.netConf.name;
  let endpoint: StoredEndpoint | undefined;
  return {
    reads: endpointStateReads({ identity, network }),
    admit: (side) => {
      ({ endpoint } = endpointStateFrom(side, { identity, network }));
    },
    gate: teardown,
    // Called with the side keys of the attempt that admitted them.
    writes: () => {
      const owner = endpoint?.value.spec.containerID;
      if (owner !== undefined && owner !== args.containerId) {
        ctx.log.info(
          `DEL container=${args.containerId}: endpoint ${identity.endpointName} belongs to container ${owner}, kept`,
        );
        return [];
      }
      return endpointDeletes(endpoint);
    },
  };
}
