import type { CmdArgs } from '../../lib/cni/dispatcher';
import { CniError, ErrorCode } from '../../lib/cni/errors';
import type { Result } from '../../lib/cni/result/types';
import {
  assertUsableNetns,
  configurePodLink,
  createPodLink,
  removePodLink,
  teardownPodNetwork,
  type PodLink,
} from '../../lib/dataplane';
import type { Kv } from '../../lib/datastore/kv';
import { calicoContext, withDatastore, type CalicoContext } from './context';
import { buildEndpoint, buildProfile } from './endpoint-model';
import {
  deleteEndpoint,
  readEndpointState,
  writeEndpoint,
  type EndpointState,
  type StoredEndpoint,
} from './endpoint-store';
import { ipamClient, type IpamClient } from './ipam-client';
import { Phases } from './phases';
import { buildResult, hostNetwork } from './result';

/**
 * ADD (calico-behaviour.md §5): validate everything first, then IPAM, the veth and routes, and
 * the WorkloadEndpoint. Once an address is assigned, any failure removes the veth, the endpoint
 * and the address before the error is returned: an ADD either fully succeeds or leaves nothing.
 */
export async function calicoAdd(args: CmdArgs): Promise<Result> {
  const started = Date.now();
  const ctx = await calicoContext(args);
  const phases = new Phases(started);
  if (ctx.conf.ipAddrsNoIpam && ctx.identity.orchestrator === 'cni') {
    throw new CniError(
      ErrorCode.unsupportedConfig,
      'requested feature is not supported for this runtime: ip_addrs_no_ipam',
    );
  }
  // Before anything changes: a missing path, a non-netns or our own netns is refused (code 8).
  assertUsableNetns(args.netns);
  const result = await withDatastore(ctx, (kv) => addWithDatastore(ctx, { kv, phases }));
  ctx.log.info(
    `ADD container=${args.containerId} addresses=${result.ips.map((i) => i.address).join(',')} veth=${ctx.identity.hostVeth} elapsed=${Date.now() - started}ms (${phases.summary()})`,
  );
  return result;
}

/** Thrown through the IPAM gate: the endpoint already exists for this container (cni). */
class RepeatAdd extends Error {
  constructor(readonly existing: StoredEndpoint) {
    super('repeated ADD');
  }
}

async function addWithDatastore(
  ctx: CalicoContext,
  options: { kv: Kv; phases: Phases },
): Promise<Result> {
  const { args } = ctx;
  const { kv, phases } = options;
  // Three things start at once: the endpoint and ClusterInformation read, the veth pair (it
  // needs no address), and IPAM. IPAM writes nothing until the read says the datastore is ready
  // and the container has no endpoint yet, and (cni) until the veth exists: a refused ADD (say,
  // CNI_IFNAME already exists) assigns nothing.
  const state = readEndpointState(kv, { identity: ctx.identity, network: args.netConf.name });
  const linkSpec = podLinkSpec(ctx);
  const link = createPodLink(linkSpec);
  const gate = Promise.all([
    state.then((s) => {
      const repeat = repeatedEndpoint(ctx, s);
      if (repeat !== undefined) throw new RepeatAdd(repeat);
    }),
    // A k8s pod's new sandbox may first have to take its old veth down: see below.
    ctx.identity.orchestrator === 'cni' ? link : undefined,
  ]);
  // All three are awaited below; until then a rejection must not count as unhandled.
  for (const p of [state, link, gate]) p.catch(() => undefined);
  const ipam = ipamClient(args, { ipamType: ctx.ipamType, kv, node: ctx.node });
  let assigned: Awaited<ReturnType<IpamClient['add']>>;
  try {
    assigned = await ipam.add(gate);
  } catch (err) {
    await abandon(link);
    if (err instanceof RepeatAdd) return repeatAdd(ctx, { kv, existing: err.existing });
    // A datastore that is not ready explains an IPAM failure better than the failure itself.
    await state;
    throw err;
  }
  phases.mark('ipam');
  const current = await state;
  const repeat = repeatedEndpoint(ctx, current);
  if (repeat !== undefined) {
    // IPAM found the container's handle and wrote nothing: this is a repeated ADD.
    await abandon(link);
    return repeatAdd(ctx, { kv, existing: repeat });
  }
  let podLink: PodLink;
  try {
    podLink = await podLinkFor(ctx, { link, state: current, spec: linkSpec });
  } catch (err) {
    if (!assigned.existing) await ipam.release();
    throw err;
  }
  return build(ctx, { kv, ipam, assigned, state: current, phases, link: podLink });
}

// k8s: a sandbox of the same pod in the same netns (a repeated ADD) finds its CNI_IFNAME taken by
// the old veth: take it down and build again, as upstream rebuilds (calico-behaviour.md §5.3).
async function podLinkFor(
  ctx: CalicoContext,
  options: { link: Promise<PodLink>; state: EndpointState; spec: PodLinkSpec },
): Promise<PodLink> {
  try {
    return await options.link;
  } catch (err) {
    const taken = err instanceof CniError && err.code === ErrorCode.interfaceExists;
    if (!taken || ctx.identity.orchestrator !== 'k8s' || options.state.endpoint === undefined)
      throw err;
    const { args, identity } = ctx;
    await teardownPodNetwork({
      netns: args.netns,
      containerIfName: args.ifName,
      hostIfName: identity.hostVeth,
    });
    return createPodLink(options.spec);
  }
}

type PodLinkSpec = Parameters<typeof createPodLink>[0];

function podLinkSpec(ctx: CalicoContext): PodLinkSpec {
  const { args, identity } = ctx;
  return {
    netns: args.netns,
    containerIfName: args.ifName,
    hostIfName: identity.hostVeth,
    mtu: ctx.conf.mtu,
    // Chosen here so that the endpoint, which records it, can be written while the veth is set up.
    containerMac: randomMac(),
    allowIpForwarding: ctx.conf.allowIpForwarding,
    warn: (message) => {
      ctx.log.warning(message);
    },
  };
}

/** Removes the veth pair if it was made (the ADD stops before configuring it). */
async function abandon(link: Promise<PodLink>): Promise<void> {
  const made = await link.catch(() => undefined);
  if (made !== undefined) await removePodLink(made);
}

function repeatedEndpoint(ctx: CalicoContext, state: EndpointState): StoredEndpoint | undefined {
  const existing = state.endpoint;
  const same = existing?.value.spec.containerID === ctx.args.containerId;
  return ctx.identity.orchestrator === 'cni' && same ? existing : undefined;
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

interface BuildInput {
  kv: Kv;
  ipam: IpamClient;
  assigned: Awaited<ReturnType<IpamClient['add']>>;
  state: EndpointState;
  phases: Phases;
  link: PodLink;
}

// The endpoint (which records the MAC chosen for the container end) is written while the veth is
// configured: two independent waits overlap instead of adding up.
async function build(ctx: CalicoContext, input: BuildInput): Promise<Result> {
  const { args, identity } = ctx;
  const { kv, assigned, state, phases, link } = input;
  const previous = state.endpoint;
  let configured = false;
  let written: StoredEndpoint | undefined;
  try {
    const ipNetworks = assigned.result.ips.map((ip) => hostNetwork(ip.address));
    if (ipNetworks.length === 0) {
      throw new CniError(
        ErrorCode.invalidNetworkConfig,
        'IPAM plugin returned no IP addresses in result',
      );
    }
    const routes = podRoutes(ctx, {
      ipamRoutes: assigned.result.routes.map((r) => r.dst),
      ipNetworks,
    });
    const endpoint = buildEndpoint({
      ...facts(ctx),
      ipNetworks,
      containerMac: link.spec.containerMac ?? '',
      previous: previous?.value,
    });
    const [network, stored] = await Promise.allSettled([
      configurePodLink(link, { addresses: ipNetworks.map((n) => n.split('/')[0] ?? n), routes }),
      writeEndpoint(kv, {
        endpoint,
        revision: previous?.revision ?? 0,
        ...(state.profileExists
          ? {}
          : {
              profile: buildProfile({
                network: args.netConf.name,
                orchestrator: identity.orchestrator,
              }),
            }),
      }),
    ]);
    configured = network.status === 'fulfilled';
    written = stored.status === 'fulfilled' ? stored.value : undefined;
    // configurePodLink removes the veth itself when it fails.
    if (network.status === 'rejected') throw network.reason;
    if (stored.status === 'rejected') throw stored.reason;
    phases.mark('network+endpoint');
    return buildResult({
      hostVeth: identity.hostVeth,
      ifName: args.ifName,
      containerMac: network.value.containerMac,
      netns: args.netns,
      mtu: ctx.conf.mtu,
      ipNetworks,
      routes,
      prevResult: args.netConf.prevResult,
    });
  } catch (err) {
    if (!configured) await removePodLink(link).catch(() => undefined);
    await rollback(ctx, {
      teardown: configured,
      // A new endpoint goes; a k8s endpoint that existed before is left for the runtime's DEL.
      endpoint: previous === undefined ? written : undefined,
      kv,
      release: assigned.existing ? undefined : input.ipam.release,
    });
    throw err;
  }
}

// Best effort, and never masking the original error: remove what this ADD built and wrote, and
// release what it assigned (not addresses a repeated ADD found already held: they belong to the
// live endpoint).
async function rollback(
  ctx: CalicoContext,
  options: {
    teardown: boolean;
    endpoint: StoredEndpoint | undefined;
    kv: Kv;
    release: (() => Promise<void>) | undefined;
  },
): Promise<void> {
  const { args, identity } = ctx;
  const steps: [string, () => Promise<void>][] = [
    [
      'removing the veth',
      async () => {
        if (options.teardown) {
          await teardownPodNetwork({
            netns: args.netns,
            containerIfName: args.ifName,
            hostIfName: identity.hostVeth,
          });
        }
      },
    ],
    [
      'deleting the endpoint',
      async () => {
        if (options.endpoint !== undefined) await deleteEndpoint(options.kv, options.endpoint);
      },
    ],
    [
      'releasing the address',
      async () => {
        await options.release?.();
      },
    ],
  ];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (err) {
      ctx.log.error(
        `rollback: ${what} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
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

/** A random, locally administered unicast MAC, as the kernel would pick for a veth. */
function randomMac(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(6));
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
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
