import type { CmdArgs } from '../../lib/cni/dispatcher';
import { CniError, ErrorCode } from '../../lib/cni/errors';
import type { Result } from '../../lib/cni/result/types';
import {
  assertUsableNetns,
  configurePodLink,
  createPodLink,
  readHostRoutes,
  removePodLink,
  teardownPodNetwork,
  type Families,
  type PodLink,
} from '../../lib/dataplane';
import { parseIpamNetConf } from '../../lib/calico/ipam-netconf';
import type { Kv } from '../../lib/datastore/kv';
import type { WorkloadEndpoint } from '../../lib/datastore/calico/workload-endpoint';
import type { SideHooks } from '../../ipam/block-store';
import { blockHints } from '../../ipam/block-hints';
import { calicoContext, withDatastore, type CalicoContext } from './context';
import { buildEndpoint, buildProfile } from './endpoint-model';
import {
  deleteWrittenEndpoint,
  endpointStateFrom,
  endpointStateReads,
  endpointWrites,
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

/** Thrown from the IPAM hooks: the endpoint already exists for this container (cni). */
class RepeatAdd extends Error {
  constructor(readonly existing: StoredEndpoint) {
    super('repeated ADD');
  }
}

/** What the IPAM hooks saw and wrote in the attempt that committed. */
interface Committed {
  state: EndpointState;
  /** The endpoint written with the assignment. */
  endpoint: WorkloadEndpoint | undefined;
  /** The endpoint read was this invocation's own (see admit). */
  ownFound: boolean;
}

async function addWithDatastore(
  ctx: CalicoContext,
  options: { kv: Kv; phases: Phases },
): Promise<Result> {
  const { args, identity } = ctx;
  const { kv, phases } = options;
  const network = args.netConf.name;
  // The veth pair needs no address: it is made while IPAM reads. IPAM's first read also brings
  // ClusterInformation, the endpoint and the Profile; nothing is written unless the datastore is
  // ready, the container has no endpoint yet and (cni) the veth exists, so that a refused ADD (say,
  // CNI_IFNAME already exists) assigns nothing. The endpoint is written in IPAM's own commit.
  const linkSpec = podLinkSpec(ctx);
  const link = createPodLink(linkSpec);
  link.catch(() => undefined);
  const committed: Committed = {
    state: { endpoint: undefined, profileExists: false },
    endpoint: undefined,
    ownFound: false,
  };
  const hooks: SideHooks = {
    reads: endpointStateReads({ identity, network }),
    admit: (side) => {
      committed.state = endpointStateFrom(side, { identity, network });
      const repeat = repeatedEndpoint(ctx, committed.state);
      // An endpoint with this invocation's own random MAC is not a repeat: it is ours, from a
      // commit whose answer was lost (etcd failed over) and that IPAM is now re-reading.
      committed.ownFound = repeat?.value.spec.mac === linkSpec.containerMac;
      if (repeat !== undefined && !committed.ownFound) throw new RepeatAdd(repeat);
    },
    // A k8s pod's new sandbox may first have to take its old veth down: see podLinkFor.
    ...(identity.orchestrator === 'cni' ? { gate: link } : {}),
    // The blocks of this node's other pods, from their host routes as IPAM starts reading (with
    // the host lock held): the blocks it will look at, one round trip less when the guess holds.
    blockHints: () => blockHints(readHostRoutes(identity.vethPrefix)),
    writes: (_side, addresses) => {
      const endpoint = buildEndpoint({
        ...facts(ctx),
        ipNetworks: addresses.map(hostNetwork),
        containerMac: linkSpec.containerMac ?? '',
        previous: committed.state.endpoint?.value,
      });
      committed.endpoint = endpoint;
      return endpointWrites({
        endpoint,
        state: committed.state,
        profile: buildProfile({ network, orchestrator: identity.orchestrator }),
      });
    },
  };
  const ipam = ipamClient(args, { ipamType: ctx.ipamType, kv, node: ctx.node });
  let assigned: Awaited<ReturnType<IpamClient['add']>>;
  try {
    assigned = await ipam.add(hooks);
  } catch (err) {
    await abandon(link);
    if (err instanceof RepeatAdd) return repeatAdd(ctx, { kv, existing: err.existing });
    throw err;
  }
  phases.mark('ipam');
  const undo = {
    kv,
    // A new endpoint goes; a k8s endpoint that existed before is left for the runtime's DEL.
    endpoint:
      committed.state.endpoint === undefined || committed.ownFound ? committed.endpoint : undefined,
    release: assigned.existing ? undefined : () => ipam.release(),
  };
  let podLink: PodLink;
  try {
    podLink = await podLinkFor(ctx, { link, state: committed.state, spec: linkSpec });
  } catch (err) {
    await rollback(ctx, undo);
    throw err;
  }
  return build(ctx, { assigned, phases, link: podLink, undo });
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
    ...withFamilies(expectedFamilies(ctx)),
    warn: (message) => {
      ctx.log.warning(message);
    },
  };
}

/**
 * The families calico-ipam will assign, known before it answers unless CNI_ARGS asks for a
 * specific IP: assign_ipv4 and assign_ipv6. The pod's sysctls can then be set while IPAM runs.
 */
function expectedFamilies(ctx: CalicoContext): Families | undefined {
  if (ctx.ipamType !== 'calico-ipam' || ctx.args.args.ip !== undefined) return undefined;
  try {
    const { assignIpv4, assignIpv6 } = parseIpamNetConf(ctx.args.netConf.raw);
    return { v4: assignIpv4, v6: assignIpv6 };
  } catch {
    // IPAM reports a bad ipam section itself, with its own code.
    return undefined;
  }
}

function withFamilies(families: Families | undefined): { families?: Families } {
  return families === undefined ? {} : { families };
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

interface Undo {
  kv: Kv;
  endpoint: WorkloadEndpoint | undefined;
  release: (() => Promise<void>) | undefined;
}

interface BuildInput {
  assigned: Awaited<ReturnType<IpamClient['add']>>;
  phases: Phases;
  link: PodLink;
  undo: Undo;
}

// The addresses, routes and sysctls of the veth; on failure everything this ADD made and wrote
// goes again.
async function build(ctx: CalicoContext, input: BuildInput): Promise<Result> {
  const { args, identity } = ctx;
  const { assigned, phases, link } = input;
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
    // configurePodLink removes the veth itself when it fails.
    const network = await configurePodLink(link, {
      addresses: ipNetworks.map((n) => n.split('/')[0] ?? n),
      routes,
    });
    phases.mark('network');
    return buildResult({
      hostVeth: identity.hostVeth,
      ifName: args.ifName,
      containerMac: network.containerMac,
      netns: args.netns,
      mtu: ctx.conf.mtu,
      ipNetworks,
      routes,
      prevResult: args.netConf.prevResult,
    });
  } catch (err) {
    await removePodLink(link).catch(() => undefined);
    await rollback(ctx, input.undo);
    throw err;
  }
}

// Best effort, and never masking the original error: remove what this ADD built and wrote, and
// release what it assigned (not addresses a repeated ADD found already held: they belong to the
// live endpoint).
async function rollback(ctx: CalicoContext, options: Undo): Promise<void> {
  const steps: [string, () => Promise<void>][] = [
    [
      'deleting the endpoint',
      async () => {
        if (options.endpoint !== undefined) {
          await deleteWrittenEndpoint(options.kv, options.endpoint);
        }
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

/**
 * A random, locally administered unicast MAC, as the kernel would pick for a veth. Math.random is
 * enough: the MAC only has to differ from the host end's on a point-to-point link, and webcrypto
 * would load a dozen modules into every pod start.
 */
function randomMac(): string {
  const bytes = Array.from({ length: 6 }, () => Math.floor(Math.random() * 256));
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
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
