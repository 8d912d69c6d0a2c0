import { closeSync, openSync } from 'node:fs';
import { CniError, ErrorCode } from '../cni/errors';
import { cidrFamily } from '../cni/ip-text';
import {
  Deadline,
  describeArgv,
  nextTurn,
  runCommand,
  sleep,
  startCommand,
  tool,
  type StartedCommand,
} from './command';
import { openCommandFile, type CommandFile } from './command-file';
import {
  batchLineError,
  batchText,
  firstFailure,
  ipBatch,
  nestedFailure,
  requireAllOk,
  startIpBatch,
  type BatchCommand,
  type BatchOutcome,
  type LineOutcome,
  type StartedBatch,
} from './ip-batch';
import { describeRoute, parseLinks, parseRoutes } from './ip-json';
import {
  assertInterfaceName,
  HOST_MAC,
  hostPrefix,
  IPV4_GATEWAY,
  IPV6_GATEWAY,
  ipv6Hex,
  splitAddresses,
} from './names';
import { deleteHostLink } from './host-link';
import { assertUsableNetns, netnsName } from './netns';
import { linkExistsHere, readIfInet6, writeSysctls } from './proc-net';
import { containerSysctlArgs, hostSysctls } from './sysctls';

// Calico's DoNetworking (calico-behaviour.md §4.1) in one process forked by the plugin, for a pod
// netns with a name under /var/run/netns (containerd, CRI-O, podman, `ip netns add`):
//   ip -batch (here)        first: the veth pair, host end with the EE MAC, container end in the
//                           pod netns; the process then waits for the rest
//   (in-process)            host sysctls under /proc/sys/net
//   the batch, later:       pod forwarding and accept_dad: `netns exec POD sysctl`
//                           the pod end: `netns exec POD ip -batch /proc/self/fd/4`, whose lines
//                           (container end up, gateway routes, /32 and /128 addresses, its MAC)
//                           are written to an unnamed file the batch holds as fd 4
//                           host end up (+ eui64 for IPv6), host routes, read the MAC back
// The sysctl and the pod's ip are forks of the small ip process, not of the plugin: a fork of the
// plugin blocks its thread until the child has exec'd, copies its page tables and makes each page
// it writes afterwards fault once more (a spawn of /bin/true from a Node process with a 20k-object
// heap: +10 ms wall, +16 ms CPU on a small VM). A netns without a name (a /proc/PID/ns/net path,
// say) cannot be named in a batch line: its pod end runs in a process of its own under nsenter,
// `nsenter --net=POD ip -batch -`, and its sysctls in a third, `nsenter --net=POD sysctl`, both
// started as soon as the veth exists. The batch keeps running after making the veth, while the
// caller's IPAM still waits on etcd, and reads the remaining lines once the addresses are known.
// Everything after the veth is undone by deleting the host end (the kernel removes the peer and
// the host routes with it); nothing else is ever deleted.

/** What to build for one pod. */
export interface PodNetworkSpec {
  /** CNI_NETNS: a path to the pod's network namespace. */
  netns: string;
  /** CNI_IFNAME, created inside the pod netns. */
  containerIfName: string;
  /** The host end, created in the caller's (the node's) namespace. */
  hostIfName: string;
  /** MTU of both ends; 0 leaves the kernel default (1500). */
  mtu: number;
  /** Bare IPv4/IPv6 addresses, configured as /32 and /128. */
  addresses: readonly string[];
  /**
   * The container end's MAC, chosen by the caller (so it can record it before the link exists);
   * absent: the kernel's random one.
   */
  containerMac?: string;
  /** container_settings.allow_ip_forwarding: pod forwarding sysctls 1 instead of 0. */
  allowIpForwarding: boolean;
  /**
   * The address families the pod will get, when the caller knows them before IPAM answers
   * (calico-ipam's assign_ipv4 and assign_ipv6): the pod's sysctls are then set as soon as the
   * veth exists, while IPAM still waits on etcd. Should the addresses say otherwise, they are set
   * again for the families the pod got.
   */
  families?: Families;
  /**
   * Destinations routed through the gateway (169.254.1.1, or the host end's link-local for IPv6);
   * default: `0.0.0.0/0` and `::/0` for the families the pod has. Calico's custom IPAM routes.
   */
  routes?: readonly string[];
  /** Bound on the whole setup (default 20 s); rollback gets its own 5 s. */
  timeoutMs?: number;
  /** Receives non-fatal problems (upstream only warns for proxy_delay and accept_ra). */
  warn?: (message: string) => void;
}

/** Which address families a pod has. */
export interface Families {
  v4: boolean;
  v6: boolean;
}

/** What the result and the WorkloadEndpoint need. */
export interface PodNetwork {
  /** The container end's kernel-assigned MAC, lowercase `aa:bb:cc:dd:ee:ff`. */
  containerMac: string;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const ROLLBACK_TIMEOUT_MS = 5_000;
/** Upstream reads the host MAC back for up to 5 s (udev may rewrite it just after creation). */
const MAC_RETRY_MS = 5_000;
/** The host link-local appears once the container end brings the carrier up. */
const LINK_LOCAL_WAIT_MS = 1_000;

// Lower-case aa:bb:cc:dd:ee:ff whose first octet has the multicast bit clear.
const UNICAST_MAC = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/;

/**
 * Create and configure the veth pair of one pod. Throws CniError 8 (unusable netns), 120
 * (CNI_IFNAME already exists; nothing changed), 121 (a host route for a pod address is on another
 * interface) or 122 (any other step); on failure the veth it created is gone again.
 */
export async function setupPodNetwork(spec: PodNetworkSpec): Promise<PodNetwork> {
  const link = await createPodLink(spec);
  return configurePodLink(link, spec);
}

/** A veth pair made by createPodLink, not configured yet. */
export interface PodLink {
  readonly spec: Omit<PodNetworkSpec, 'addresses' | 'routes'>;
  readonly deadline: Deadline;
  /** The processes, started and waiting for their remaining input. */
  readonly waiting: WaitingProcesses;
  /** The pod's sysctls for spec.families, set by the host's batch while IPAM runs. */
  readonly earlySysctls?: { families: Families; done: Promise<void> };
}

/** The processes that configure the veth, started before the addresses are known. */
interface WaitingProcesses {
  /**
   * Who sets the pod's sysctls: the host's batch (`netns exec NAME sysctl`) for a netns with a
   * name, else a process of their own, `nsenter --net=POD sysctl -q -p -` (reads `key=value`
   * lines).
   */
  podSysctls: { netnsName: string } | { process: StartedCommand };
  /** `ip -j -force -batch -` here, which made the veth. */
  host: StartedBatch;
  /**
   * Who configures the pod end: for a netns with a name, the host's batch, through `netns exec
   * NAME ip -j -batch /proc/self/fd/4` and the file it holds as fd 4; else a process of its own,
   * `nsenter --net=POD ip -j -batch -`.
   */
  pod: { nested: NestedPodBatch } | { batch: StartedBatch };
}

/** The pod end's batch, run by a line of the host's from a file of commands. */
interface NestedPodBatch {
  netnsName: string;
  file: CommandFile;
}

/** Where the host's batch holds the nested batch's file. */
const NESTED_FILE = '/proc/self/fd/4';

/**
 * The first half of setupPodNetwork: checks and the veth pair, which need no address, so that a
 * caller can make them while IPAM is still choosing one. Same errors as setupPodNetwork; removes
 * nothing it did not make.
 */
export async function createPodLink(
  spec: Omit<PodNetworkSpec, 'addresses' | 'routes'>,
): Promise<PodLink> {
  assertInterfaceName('container interface', spec.containerIfName);
  assertInterfaceName('host interface', spec.hostIfName);
  if (!Number.isInteger(spec.mtu) || spec.mtu < 0 || spec.mtu > 65535) {
    throw new CniError(ErrorCode.dataplaneFailed, `MTU ${spec.mtu} is not usable`);
  }
  if (spec.containerMac !== undefined && !UNICAST_MAC.test(spec.containerMac)) {
    throw new CniError(
      ErrorCode.dataplaneFailed,
      `MAC ${JSON.stringify(spec.containerMac)} is not a unicast MAC`,
    );
  }
  assertUsableNetns(spec.netns);
  // iproute2 reads a `netns` argument without a slash as a name under /var/run/netns, or a PID.
  if (!spec.netns.startsWith('/')) spec = { ...spec, netns: `${process.cwd()}/${spec.netns}` };
  const deadline = new Deadline(spec.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  await removeStaleHostLink(spec, deadline);
  const name = batchNetnsName(spec.netns);
  const file = name === undefined ? undefined : commandFileOrNone(spec.warn);
  let host: StartedBatch;
  try {
    host = await createVeth(spec, { deadline, file });
  } catch (err) {
    file?.close();
    throw err;
  }
  const waiting: WaitingProcesses =
    name !== undefined && file !== undefined
      ? { host, podSysctls: { netnsName: name }, pod: { nested: { netnsName: name, file } } }
      : { host, ...startPodProcesses(spec, deadline) };
  const { families } = spec;
  if (families === undefined || 'process' in waiting.podSysctls) return { spec, deadline, waiting };
  const done = podSysctlsFromHost(spec, {
    args: podSysctlArgs(spec, families),
    netnsName: waiting.podSysctls.netnsName,
    batch: host,
  });
  // Awaited by configurePodLink; when IPAM fails first, nobody does.
  done.catch(() => undefined);
  return { spec, deadline, waiting, earlySysctls: { families, done } };
}

function podSysctlArgs(
  spec: Pick<PodNetworkSpec, 'containerIfName' | 'allowIpForwarding'>,
  families: Families,
): string[] {
  return containerSysctlArgs(
    spec.containerIfName,
    families.v4,
    families.v6,
    spec.allowIpForwarding,
  );
}

/**
 * The pod netns's name under /var/run/netns when the host's batch can run commands in it by name
 * (`netns exec NAME ...`, with tool paths it reads as one word each), else undefined.
 */
function batchNetnsName(netns: string): string | undefined {
  const safe = BATCH_SAFE_PATH.test(tool('sysctl')) && BATCH_SAFE_PATH.test(tool('ip'));
  return safe ? netnsName(netns) : undefined;
}

/**
 * The nested batch's file, or undefined when the temporary directory refuses one (read-only,
 * missing): the pod end then gets processes of its own, as for a netns without a name.
 */
function commandFileOrNone(warn?: (message: string) => void): CommandFile | undefined {
  try {
    return openCommandFile();
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    warn?.(`no file for the pod end's commands (${why}): configuring it from a process of its own`);
    return undefined;
  }
}

/**
 * For a netns without a name (or no file for the nested batch): the pod end's and the sysctls'
 * own processes, under nsenter.
 */
function startPodProcesses(
  spec: { netns: string },
  deadline: Deadline,
): Omit<WaitingProcesses, 'host'> {
  const timeoutMs = deadline.remaining();
  // One fork per event-loop turn: IPAM's etcd answers are handled between them, not after all.
  const first = nextTurn();
  return {
    podSysctls: {
      process: startCommand(
        [tool('nsenter'), `--net=${spec.netns}`, tool('sysctl'), '-q', '-p', '-'],
        { stdin: true, timeoutMs, step: `set sysctls in netns ${spec.netns}` },
      ),
    },
    pod: {
      batch: startIpBatch({
        json: true,
        netns: spec.netns,
        timeoutMs,
        step: `configure the pod end in netns ${spec.netns}`,
        when: first,
      }),
    },
  };
}

/** A path iproute2's batch tokenizer reads as one word, as it is. */
const BATCH_SAFE_PATH = /^\/[\w./+-]+$/;

function cancelWaiting(link: PodLink): void {
  const { podSysctls, pod } = link.waiting;
  if ('process' in podSysctls) podSysctls.process.cancel();
  link.waiting.host.cancel();
  if ('batch' in pod) pod.batch.cancel();
  else pod.nested.file.close();
}

/** The second half: addresses, routes, sysctls; on failure the veth is removed. */
export async function configurePodLink(
  link: PodLink,
  options: Pick<PodNetworkSpec, 'addresses' | 'routes'>,
): Promise<PodNetwork> {
  const spec: PodNetworkSpec = {
    ...link.spec,
    addresses: options.addresses,
    ...(options.routes === undefined ? {} : { routes: options.routes }),
  };
  try {
    return await configure(spec, splitAddresses(spec.addresses), link);
  } catch (err: unknown) {
    cancelWaiting(link);
    throw await rolledBack(err, spec.hostIfName);
  } finally {
    const { pod } = link.waiting;
    if ('nested' in pod) pod.nested.file.close();
  }
}

/** Removes a veth pair made by createPodLink that will not be configured (IPAM failed). */
export async function removePodLink(link: PodLink): Promise<void> {
  cancelWaiting(link);
  if (linkExistsHere(link.spec.hostIfName)) {
    await deleteHostLink(link.spec.hostIfName, {
      timeoutMs: ROLLBACK_TIMEOUT_MS,
      step: 'roll back',
    });
  }
}

async function removeStaleHostLink(
  spec: Omit<PodNetworkSpec, 'addresses' | 'routes'>,
  deadline: Deadline,
): Promise<void> {
  const host = spec.hostIfName;
  if (!linkExistsHere(host)) return;
  // A leftover of an earlier sandbox with the same ID prefix (§4.1 step 1). Refuse first if
  // CNI_IFNAME exists: that ADD must change nothing, not even the stale host link.
  await refuseExistingContainerLink(spec, deadline);
  await deleteHostLink(host, { timeoutMs: deadline.remaining(), step: 'delete stale host veth' });
}

/**
 * Creates the veth pair from the host's `ip -batch` process, which stays running to configure
 * the host end once the addresses are known (one fork fewer than a process of its own). The pod
 * netns reaches the batch as an open file (fd 3): a path with spaces, quotes or `#` could not be
 * written into a batch line.
 */
async function createVeth(
  spec: Omit<PodNetworkSpec, 'addresses' | 'routes'>,
  options: { deadline: Deadline; file: CommandFile | undefined },
): Promise<StartedBatch> {
  const { hostIfName: host, containerIfName: ctr } = spec;
  const { deadline } = options;
  const step = `create veth ${host} with peer ${ctr} in netns ${spec.netns}`;
  const batch = startHostBatch(spec, {
    deadline,
    file: options.file,
    step: `create host veth ${host}, then configure both ends`,
  });
  const mtu = spec.mtu > 0 ? ` mtu ${spec.mtu}` : '';
  const mac = spec.containerMac === undefined ? '' : ` address ${spec.containerMac}`;
  // Setting the MAC at creation makes it NET_ADDR_SET, which udev's MACAddressPolicy leaves alone.
  const commands: BatchCommand[] = [
    {
      command: `link add ${host}${mtu} address ${HOST_MAC} type veth peer name ${ctr}${mtu}${mac} netns /proc/self/fd/3`,
    },
    // Its JSON line is iproute2's answer that the pair exists (or its error that it does not).
    { command: `link show dev ${host}`, prints: true },
  ];
  let outcome: BatchOutcome;
  try {
    outcome = await batch.exchange(commands);
  } catch (err: unknown) {
    // Killed on timeout, possibly after the kernel made the pair: we checked the name was free.
    batch.cancel();
    throw await rolledBack(err, host);
  }
  const failure = firstFailure(outcome);
  if (failure === undefined) return batch;
  batch.cancel();
  // EEXIST: the host name was free a moment ago, so it is CNI_IFNAME inside the pod.
  if (failure.index === 0 && failure.error.includes('File exists')) {
    await refuseExistingContainerLink(spec, deadline);
  }
  throw await rolledBack(batchLineError(step, commands, outcome, failure), host);
}

/**
 * The host's `ip -j -force -batch -`, with the pod netns open as its fd 3 and the pod end's file
 * of commands, if any, as its fd 4.
 */
function startHostBatch(
  spec: { netns: string },
  options: { deadline: Deadline; file: CommandFile | undefined; step: string },
): StartedBatch {
  const { deadline, file, step } = options;
  let fd: number;
  try {
    fd = openSync(spec.netns, 'r');
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CniError(ErrorCode.invalidNetns, `netns path ${spec.netns} cannot be opened: ${why}`);
  }
  try {
    // -force: every route's fate is known, so an EEXIST can be told apart from our own route.
    return startIpBatch({
      json: true,
      force: true,
      timeoutMs: deadline.remaining(),
      step,
      extraFds: file === undefined ? [fd] : [fd, file.fd],
    });
  } finally {
    // The child has its own copy from the fork.
    closeSync(fd);
  }
}

async function refuseExistingContainerLink(
  spec: Pick<PodNetworkSpec, 'netns' | 'containerIfName'>,
  deadline: Deadline,
): Promise<void> {
  const argv = [
    tool('nsenter'),
    `--net=${spec.netns}`,
    tool('ip'),
    'link',
    'show',
    'dev',
    spec.containerIfName,
  ];
  const step = `look for ${spec.containerIfName} in netns ${spec.netns}`;
  const result = await runCommand(argv, { timeoutMs: deadline.remaining(), step });
  if (result.code === 0) {
    throw new CniError(
      ErrorCode.interfaceExists,
      `container veth name provided (${spec.containerIfName}) already exists in netns ${spec.netns}`,
    );
  }
  if (!result.stderr.includes('does not exist')) {
    throw new CniError(
      ErrorCode.dataplaneFailed,
      `${step}: ${describeArgv(argv)} failed: ${result.stderr.trim()}`,
    );
  }
}

async function configure(
  spec: PodNetworkSpec,
  { v4, v6 }: { v4: string[]; v6: string[] },
  link: PodLink,
): Promise<PodNetwork> {
  const { deadline, waiting } = link;
  writeSysctls(hostSysctls(spec.hostIfName, v4.length > 0, v6.length > 0), spec.warn);
  const { pod } = waiting;
  if ('nested' in pod) {
    // One batch does it all, in order: the pod's sysctls, the pod end, the host end.
    await podSysctlsFor(spec, { v4: v4.length > 0, v6: v6.length > 0 }, link);
    const ends = await bothEndsUp(spec, {
      v4,
      v6,
      nested: pod.nested,
      batch: waiting.host,
      deadline,
    });
    if (ends.hostMac !== HOST_MAC) await pinHostMac(spec.hostIfName, deadline);
    if (v6.length > 0) await waitForHostLinkLocal(spec.hostIfName, deadline);
    return { containerMac: ends.containerMac };
  }

  // IPv4 only: the pod's sysctls, the host end and the pod end are independent, so they run at
  // once (the host's batch sets its own end after nsenter's sysctl). With IPv6 the pod end must
  // wait for its accept_dad=0.
  const podEnd = v6.length === 0 ? containerUp(spec, { v4, v6, batch: pod.batch }) : undefined;
  const sysctlsSet = podSysctlsFor(spec, { v4: v4.length > 0, v6: v6.length > 0 }, link);
  // The host's batch runs its lines in order: its own end's come after the pod's sysctls.
  const hostEnd = () => hostUp(spec, { v4, v6, batch: waiting.host, deadline });
  const [container, host, early] = await Promise.allSettled([
    sysctlsSet,
    'process' in waiting.podSysctls ? hostEnd() : sysctlsSet.then(hostEnd),
    podEnd ?? Promise.resolve(undefined),
  ]);
  if (container.status === 'rejected') throw container.reason;
  if (host.status === 'rejected') throw host.reason;
  if (early.status === 'rejected') throw early.reason;
  if (host.value !== HOST_MAC) await pinHostMac(spec.hostIfName, deadline);

  const containerMac = early.value ?? (await containerUp(spec, { v4, v6, batch: pod.batch }));
  if (v6.length > 0) await waitForHostLinkLocal(spec.hostIfName, deadline);
  return { containerMac };
}

/**
 * The pod's sysctls for the families it got: by their own process, or by the host's batch, where
 * those set while IPAM ran count if they were for the same families.
 */
function podSysctlsFor(spec: PodNetworkSpec, families: Families, link: PodLink): Promise<void> {
  const args = podSysctlArgs(spec, families);
  const { podSysctls, host } = link.waiting;
  if ('process' in podSysctls) return containerSysctls(spec, { args, waiting: podSysctls.process });
  const early = link.earlySysctls;
  if (early !== undefined && early.families.v4 === families.v4 && early.families.v6 === families.v6)
    return early.done;
  const { netnsName } = podSysctls;
  return (early?.done ?? Promise.resolve()).then(() =>
    podSysctlsFromHost(spec, { args, netnsName, batch: host }),
  );
}

/**
 * Steps 4, 8 and 10 for a named pod netns: one line of the host's batch, `netns exec POD sysctl
 * -q -w ...`, whose sysctl iproute2 forks and waits for; then a `link show` that answers once it
 * is done.
 */
async function podSysctlsFromHost(
  spec: Pick<PodNetworkSpec, 'netns' | 'hostIfName'>,
  options: { args: readonly string[]; netnsName: string; batch: StartedBatch },
): Promise<void> {
  const { args } = options;
  if (args.length === 0) return;
  const commands: BatchCommand[] = [
    { command: `netns exec ${options.netnsName} ${tool('sysctl')} -q -w ${args.join(' ')}` },
    { command: `link show dev ${spec.hostIfName}`, prints: true },
  ];
  const step = `set sysctls ${args.join(' ')} in netns ${spec.netns}`;
  requireAllOk(step, commands, await options.batch.exchange(commands));
}

async function containerSysctls(
  spec: PodNetworkSpec,
  options: { args: readonly string[]; waiting: StartedCommand },
): Promise<void> {
  const { args } = options;
  options.waiting.feed(args.map((a) => `${a}\n`).join(''));
  const argv = [tool('nsenter'), `--net=${spec.netns}`, tool('sysctl'), '-q', '-p', '-'];
  const step = `set sysctls ${args.join(' ')} in netns ${spec.netns}`;
  const result = await options.waiting.output;
  if (result.code !== 0) {
    throw new CniError(
      ErrorCode.dataplaneFailed,
      `${step}: ${describeArgv(argv)} failed: ${result.stderr.trim()}`,
    );
  }
}

/**
 * Steps 6 (host half) and 11; resolves with the host end's MAC as read back. `first`, when given,
 * is a line run before them (the pod end's), whose outcome `check` sees before theirs.
 */
async function hostUp(
  spec: PodNetworkSpec,
  options: {
    v4: readonly string[];
    v6: readonly string[];
    batch: StartedBatch;
    deadline: Deadline;
    first?: { command: BatchCommand; check: (outcome: LineOutcome) => void };
  },
): Promise<string | undefined> {
  const { v4, v6, first, deadline } = options;
  const host = spec.hostIfName;
  const routes = [...v4, ...v6];
  const ownCommands: BatchCommand[] = [
    // The host link-local must be fe80::ecee:eeff:feee:eeee, the pods' gateway, whatever the
    // node's default addr_gen_mode (stable-privacy would derive another).
    ...(v6.length > 0 ? [{ command: `link set dev ${host} addrgenmode eui64` }] : []),
    { command: `link set dev ${host} up` },
    ...routes.map((ip) => ({
      command: `route add ${hostPrefix(ip)} dev ${host}${v4.includes(ip) ? ' scope link' : ''}`,
    })),
    { command: `link show dev ${host}`, prints: true },
  ];
  const step = `bring up host veth ${host} and add its routes`;
  const all = await options.batch.run([
    ...(first === undefined ? [] : [first.command]),
    ...ownCommands,
  ]);
  first?.check(all.lines[0] ?? { status: 'not-run' });
  const outcome = { ...all, lines: all.lines.slice(first === undefined ? 0 : 1) };
  const firstRoute = ownCommands.length - 1 - routes.length;
  const clashes: string[] = [];
  for (const [index, line] of outcome.lines.entries()) {
    if (line.status !== 'failed') continue;
    const route = index >= firstRoute ? routes[index - firstRoute] : undefined;
    if (route !== undefined && line.error.includes('File exists')) clashes.push(route);
    else throw batchLineError(step, ownCommands, outcome, { index, error: line.error });
  }
  if (clashes.length > 0) await checkRouteOwners(host, { clashes, outcome, deadline });
  const shown = outcome.lines.at(-1);
  return parseLinks(shown?.status === 'ok' ? shown.output : undefined)[0]?.address;
}

/**
 * A host route for the pod address already exists. On this veth it is fine (Felix may have been
 * quicker); anywhere else it is the duplicate-IP symptom (calico#3940, #8180, #11755): name both.
 */
async function checkRouteOwners(
  host: string,
  options: { clashes: readonly string[]; outcome: BatchOutcome; deadline: Deadline },
): Promise<void> {
  const { clashes, deadline, outcome: addOutcome } = options;
  for (const family of [4, 6] as const) {
    const ips = clashes.filter((ip) => (family === 6) === ip.includes(':'));
    if (ips.length === 0) continue;
    const commands = ips.map((ip) => ({ command: `route show ${hostPrefix(ip)}`, prints: true }));
    const step = `look up existing host routes for ${ips.join(', ')}`;
    const outputs = requireAllOk(
      step,
      commands,
      await ipBatch(commands, { family, timeoutMs: deadline.remaining(), step }),
    );
    for (const [i, ip] of ips.entries()) {
      const existing = parseRoutes(outputs[i]);
      if (existing.some((r) => r.dev === host)) continue;
      const dst = hostPrefix(ip);
      const mine = `route (Dst: ${dst}${family === 4 ? ', Scope: link' : ''})`;
      const theirs =
        existing.length === 0
          ? 'a route that vanished before it could be read'
          : existing
              .map((r) =>
                r.dev === undefined
                  ? `route (${describeRoute(r)})`
                  : `route (Dst: ${dst}${r.scope === undefined ? '' : `, Scope: ${r.scope}`}, Iface: ${r.dev})`,
              )
              .join(', ');
      throw new CniError(
        ErrorCode.hostRouteConflict,
        `error adding host side routes for interface: ${host}, error: ${mine} already exists for an interface other than '${host}': ${theirs}`,
        describeArgv(addOutcome.argv),
      );
    }
  }
}

/** Set the EE MAC again until it reads back (udev may have raced us just after creation). */
async function pinHostMac(host: string, deadline: Deadline): Promise<void> {
  const until = Math.min(deadline.remaining(), MAC_RETRY_MS);
  const budget = new Deadline(until);
  const commands: BatchCommand[] = [
    { command: `link set dev ${host} address ${HOST_MAC}` },
    { command: `link show dev ${host}`, prints: true },
  ];
  const step = `set MAC ${HOST_MAC} on host veth ${host}`;
  let seen: string | undefined;
  do {
    const outputs = requireAllOk(
      step,
      commands,
      await ipBatch(commands, { timeoutMs: budget.remaining(), step }),
    );
    seen = parseLinks(outputs[1])[0]?.address;
    if (seen === HOST_MAC) return;
    await sleep(50);
  } while (budget.remaining() > 0);
  throw new CniError(
    ErrorCode.dataplaneFailed,
    `${step}: the MAC still reads ${seen ?? 'nothing'} after ${until} ms`,
  );
}

/** Steps 6 (container half), 7, 8 and 9 in the pod's own batch; resolves with its MAC. */
async function containerUp(
  spec: PodNetworkSpec,
  options: { v4: readonly string[]; v6: readonly string[]; batch: StartedBatch },
): Promise<string> {
  const commands = containerCommands(spec, options);
  const step = containerStep(spec);
  const outcome = await options.batch.run(commands);
  const outputs = requireAllOk(step, commands, outcome);
  return containerMacFrom(spec, { step, shown: outputs.at(-1), argv: outcome.argv });
}

/**
 * The pod end (steps 6 to 9) and the host end from the host's batch alone: the pod's lines go to
 * the nested batch's file, and one line of the host's runs them in the pod netns.
 */
async function bothEndsUp(
  spec: PodNetworkSpec,
  options: {
    v4: string[];
    v6: string[];
    nested: NestedPodBatch;
    batch: StartedBatch;
    deadline: Deadline;
  },
): Promise<{ hostMac: string | undefined; containerMac: string }> {
  const { nested } = options;
  const podCommands = containerCommands(spec, options);
  nested.file.write(batchText(podCommands));
  const step = containerStep(spec);
  const command: BatchCommand = {
    command: `netns exec ${nested.netnsName} ${tool('ip')} -j -batch ${NESTED_FILE}`,
    prints: true,
  };
  let shown: string | undefined;
  const argv = ['ip', 'netns', 'exec', nested.netnsName, tool('ip'), '-j', '-batch', NESTED_FILE];
  const check = (outcome: LineOutcome): void => {
    if (outcome.status === 'ok') {
      shown = outcome.output;
      return;
    }
    const error = outcome.status === 'failed' ? outcome.error : 'not run';
    const failed = nestedFailure(error, NESTED_FILE);
    const nestedOutcome: BatchOutcome = { lines: [], stderr: error, argv };
    throw failed === undefined
      ? new CniError(ErrorCode.dataplaneFailed, `${step}: ${error}`, describeArgv(argv))
      : batchLineError(step, podCommands, nestedOutcome, failed);
  };
  const hostMac = await hostUp(spec, { ...options, first: { command, check } });
  return { hostMac, containerMac: containerMacFrom(spec, { step, shown, argv }) };
}

function containerStep(spec: PodNetworkSpec): string {
  return `configure ${spec.containerIfName} in netns ${spec.netns}`;
}

/** Steps 6 (container half), 7, 8 and 9 as batch lines, ending with a `link show`. */
function containerCommands(
  spec: PodNetworkSpec,
  options: { v4: readonly string[]; v6: readonly string[] },
): BatchCommand[] {
  const { v4, v6 } = options;
  const ctr = spec.containerIfName;
  return [
    { command: `link set dev ${ctr} up` },
    // No connected subnet route: everything goes to the host end, which answers ARP by proxy.
    ...(v4.length > 0 ? [{ command: `route add ${IPV4_GATEWAY}/32 dev ${ctr} scope link` }] : []),
    ...podRoutes(spec, { v4: v4.length > 0, v6: v6.length > 0 }).map((dst) => ({
      command: `route add ${dst} via ${dst.includes(':') ? IPV6_GATEWAY : IPV4_GATEWAY} dev ${ctr}`,
    })),
    ...[...v4, ...v6].map((ip) => ({ command: `addr add ${hostPrefix(ip)} dev ${ctr}` })),
    { command: `link show dev ${ctr}`, prints: true },
  ];
}

/** The container end's MAC from its `link show` line. */
function containerMacFrom(
  spec: PodNetworkSpec,
  options: { step: string; shown: string | undefined; argv: readonly string[] },
): string {
  const { step } = options;
  const mac = parseLinks(options.shown)[0]?.address;
  if (mac === undefined) {
    throw new CniError(
      ErrorCode.dataplaneFailed,
      `${step}: could not read the MAC of ${spec.containerIfName}`,
      describeArgv(options.argv),
    );
  }
  return mac.toLowerCase();
}

/**
 * The gateway routes: the spec's destinations (each a CIDR of a family the pod has, checked
 * strictly since it goes into an `ip -batch` line), else the default route of each family.
 */
function podRoutes(spec: PodNetworkSpec, families: { v4: boolean; v6: boolean }): string[] {
  const wanted = spec.routes ?? [
    ...(families.v4 ? ['0.0.0.0/0'] : []),
    ...(families.v6 ? ['::/0'] : []),
  ];
  return wanted.map((dst) => {
    const family = cidrFamily(dst);
    if (family === 0 || (family === 4 && !families.v4) || (family === 6 && !families.v6)) {
      throw new CniError(
        ErrorCode.invalidNetworkConfig,
        `route ${JSON.stringify(dst)} is not a CIDR of an address family the pod has`,
      );
    }
    return dst;
  });
}

/**
 * The pods' IPv6 gateway is the host end's link-local, created when the carrier comes up; wait
 * for it as upstream does (reading /proc, no process), so the pod can route when ADD returns.
 */
async function waitForHostLinkLocal(host: string, deadline: Deadline): Promise<void> {
  const want = ipv6Hex(IPV6_GATEWAY);
  const budget = new Deadline(Math.min(deadline.remaining(), LINK_LOCAL_WAIT_MS));
  for (;;) {
    if (readIfInet6().some((a) => a.ifname === host && a.hex === want)) return;
    if (budget.remaining() <= 0) break;
    await sleep(10);
  }
  throw new CniError(
    ErrorCode.dataplaneFailed,
    `failed to get IPv6 addresses for host side of the pod interface: ${host} has no ${IPV6_GATEWAY} after ${budget.totalMs} ms`,
  );
}

/** Undo createVeth: delete the host end (and with it the peer and the host routes). */
async function rolledBack(err: unknown, host: string): Promise<unknown> {
  try {
    if (linkExistsHere(host)) {
      await deleteHostLink(host, { timeoutMs: ROLLBACK_TIMEOUT_MS, step: 'roll back' });
    }
    return err;
  } catch (rollbackErr: unknown) {
    const extra = `and the rollback failed: ${rollbackErr instanceof Error ? rollbackErr.message : String(rollbackErr)}`;
    if (err instanceof CniError) {
      return new CniError(err.code, err.message, [err.details, extra].filter(Boolean).join('; '));
    }
    return new CniError(
      ErrorCode.dataplaneFailed,
      `${err instanceof Error ? err.message : String(err)} ${extra}`,
    );
  }
}
