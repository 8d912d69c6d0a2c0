import type { CmdArgs } from '../../lib/cni/dispatcher';
import { CniError, ErrorCode } from '../../lib/cni/errors';
import type { Result } from '../../lib/cni/result/types';
import { assertUsableNetns, setupPodNetwork, teardownPodNetwork } from '../../lib/dataplane';
import type { Kv } from '../../lib/datastore/kv';
import { calicoContext, withDatastore, type CalicoContext } from './context';
import { buildEndpoint, buildProfile } from './endpoint-model';
import { readEndpointState, writeEndpoint, type StoredEndpoint } from './endpoint-store';
import { ipamClient } from './ipam-client';
import { buildResult, hostNetwork } from './result';

/**
 * ADD (calico-behaviour.md §5): validate everything first, then IPAM, the veth and routes, and
 * the WorkloadEndpoint. Once an address is assigned, any failure removes the veth and releases the
 * address before the error is returned: an ADD either fully succeeds or leaves nothing behind.
 */
export async function calicoAdd(args: CmdArgs): Promise<Result> {
  const started = Date.now();
  const ctx = await calicoContext(args);
  if (ctx.conf.ipAddrsNoIpam && ctx.identity.orchestrator === 'cni') {
    throw new CniError(
      ErrorCode.unsupportedConfig,
      'requested feature is not supported for this runtime: ip_addrs_no_ipam',
    );
  }
  // Before anything changes: a missing path, a non-netns or our own netns is refused (code 8).
  assertUsableNetns(args.netns);
  const result = await withDatastore(ctx, async (kv) => {
    const state = await readEndpointState(kv, {
      identity: ctx.identity,
      network: args.netConf.name,
    });
    const existing = state.endpoint;
    if (existing !== undefined && ctx.identity.orchestrator === 'cni') {
      if (existing.value.spec.containerID === args.containerId) {
        return repeatAdd(ctx, { kv, existing });
      }
    }
    return freshAdd(ctx, { kv, existing, profileExists: state.profileExists });
  });
  ctx.log.info(
    `ADD container=${args.containerId} addresses=${result.ips.map((i) => i.address).join(',')} veth=${ctx.identity.hostVeth} elapsed=${Date.now() - started}ms`,
  );
  return result;
}

// cni orchestrator, same container again: nothing changes; the result comes from the endpoint
// (and the network joins its profiles if this is a second network).
async function repeatAdd(
  ctx: CalicoContext,
  options: { kv: Kv; existing: StoredEndpoint },
): Promise<Result> {
  const { args } = ctx;
  const previous = options.existing.value;
  if (!previous.spec.profiles.includes(args.netConf.name)) {
    const endpoint = buildEndpoint({
      ...facts(ctx),
      ipNetworks: previous.spec.ipNetworks,
      containerMac: previous.spec.mac ?? '',
      previous,
    });
    await writeEndpoint(options.kv, { endpoint, revision: options.existing.revision });
  }
  return buildResult({
    hostVeth: previous.spec.interfaceName ?? ctx.identity.hostVeth,
    ifName: previous.spec.endpoint ?? args.ifName,
    containerMac: previous.spec.mac ?? '',
    netns: args.netns,
    mtu: ctx.conf.mtu,
    ipNetworks: previous.spec.ipNetworks,
    prevResult: args.netConf.prevResult,
  });
}

async function freshAdd(
  ctx: CalicoContext,
  options: { kv: Kv; existing: StoredEndpoint | undefined; profileExists: boolean },
): Promise<Result> {
  const { args, identity } = ctx;
  const ipam = ipamClient(args, { ipamType: ctx.ipamType, kv: options.kv });
  const assigned = await ipam.add();
  // setupPodNetwork undoes its own partial work; after it succeeded, the veth is ours to remove.
  let built = false;
  try {
    const ipNetworks = assigned.result.ips.map((ip) => hostNetwork(ip.address));
    if (ipNetworks.length === 0) {
      throw new CniError(
        ErrorCode.invalidNetworkConfig,
        'IPAM plugin returned no IP addresses in result',
      );
    }
    if (options.existing !== undefined) {
      // k8s: the pod's previous sandbox goes; its veth has the same name (calico-behaviour.md §5.3).
      await teardownPodNetwork({
        containerIfName: args.ifName,
        hostIfName: identity.hostVeth,
        netns: args.netns,
      });
    }
    const routes = podRoutes(ctx, {
      ipamRoutes: assigned.result.routes.map((r) => r.dst),
      ipNetworks,
    });
    const { containerMac } = await setupPodNetwork({
      netns: args.netns,
      containerIfName: args.ifName,
      hostIfName: identity.hostVeth,
      mtu: ctx.conf.mtu,
      addresses: ipNetworks.map((n) => n.split('/')[0] ?? n),
      allowIpForwarding: ctx.conf.allowIpForwarding,
      routes,
    });
    built = true;
    const endpoint = buildEndpoint({
      ...facts(ctx),
      ipNetworks,
      containerMac,
      previous: options.existing?.value,
    });
    await writeEndpoint(options.kv, {
      endpoint,
      revision: options.existing?.revision ?? 0,
      ...(options.profileExists
        ? {}
        : {
            profile: buildProfile({
              network: args.netConf.name,
              orchestrator: identity.orchestrator,
            }),
          }),
    });
    return buildResult({
      hostVeth: identity.hostVeth,
      ifName: args.ifName,
      containerMac,
      netns: args.netns,
      mtu: ctx.conf.mtu,
      ipNetworks,
      routes,
      prevResult: args.netConf.prevResult,
    });
  } catch (err) {
    await rollback(ctx, { teardown: built, release: assigned.existing ? undefined : ipam.release });
    throw err;
  }
}

// Best effort, and never masking the original error: remove what this ADD built, release what it
// assigned (not addresses a repeated ADD found already held: they belong to the live endpoint).
async function rollback(
  ctx: CalicoContext,
  options: { teardown: boolean; release: (() => Promise<void>) | undefined },
): Promise<void> {
  const { args, identity } = ctx;
  try {
    if (options.teardown)
      await teardownPodNetwork({
        netns: args.netns,
        containerIfName: args.ifName,
        hostIfName: identity.hostVeth,
      });
  } catch (err) {
    ctx.log.error(`rollback: removing the veth failed: ${(err as Error).message}`);
  }
  try {
    await options.release?.();
  } catch (err) {
    ctx.log.error(`rollback: releasing the address failed: ${(err as Error).message}`);
  }
}

/**
 * The pod's gateway routes: the default route of each family; or the routes a delegated IPAM
 * (host-local `ipam.routes`) asks for, plus the defaults only with `include_default_routes`
 * (calico-behaviour.md §5.3). calico-ipam's result carries no routes to honour.
 */
function podRoutes(
  ctx: CalicoContext,
  options: { ipamRoutes: string[]; ipNetworks: string[] },
): string[] {
  const defaults = [
    ...(options.ipNetworks.some((n) => !n.includes(':')) ? ['0.0.0.0/0'] : []),
    ...(options.ipNetworks.some((n) => n.includes(':')) ? ['::/0'] : []),
  ];
  if (ctx.ipamType === 'calico-ipam' || options.ipamRoutes.length === 0) return defaults;
  const custom = [...new Set(options.ipamRoutes)];
  return ctx.conf.includeDefaultRoutes ? [...new Set([...custom, ...defaults])] : custom;
}

function facts(ctx: CalicoContext): {
  identity: CalicoContext['identity'];
  node: string;
  containerId: string;
  ifName: string;
  network: string;
} {
  return {
    identity: ctx.identity,
    node: ctx.node,
    containerId: ctx.args.containerId,
    ifName: ctx.args.ifName,
    network: ctx.args.netConf.name,
  };
}
