import { Deadline } from './command';
import { ipBatch, type BatchCommand, type LineOutcome } from './ip-batch';
import { parseLinks, parseRoutes, type IpLink, type IpRoute } from './ip-json';
import {
  assertInterfaceName,
  HOST_MAC,
  hostPrefix,
  IPV4_GATEWAY,
  IPV6_GATEWAY,
  sameIp,
  splitAddresses,
} from './names';
import { netnsState } from './netns';
import { linkExistsHere } from './proc-net';

/** What ADD built, as CHECK knows it from prevResult. */
export interface PodNetworkExpectation {
  netns: string;
  containerIfName: string;
  hostIfName: string;
  /** The container end's MAC as ADD reported it. */
  containerMac: string;
  /** Bare IPv4/IPv6 addresses. */
  addresses: readonly string[];
  /** Bound on each of the (at most three, concurrent) iproute2 processes; default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * CHECK's view of the dataplane: a list of human-readable problems, empty when everything ADD
 * set up is still in place (container end, its addresses and gateway routes; host end, its MAC
 * and the host routes). Reads only; never changes anything.
 */
export async function inspectPodNetwork(expect: PodNetworkExpectation): Promise<string[]> {
  assertInterfaceName('container interface', expect.containerIfName);
  assertInterfaceName('host interface', expect.hostIfName);
  const { v4, v6 } = splitAddresses(expect.addresses);
  const deadline = new Deadline(expect.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const [container, host] = await Promise.all([
    inspectContainer(expect, v4, v6, deadline),
    inspectHost(expect, v4, v6, deadline),
  ]);
  return [...container, ...host];
}

async function inspectContainer(
  expect: PodNetworkExpectation,
  v4: readonly string[],
  v6: readonly string[],
  deadline: Deadline,
): Promise<string[]> {
  const { netns, containerIfName: ctr } = expect;
  const state = netnsState(netns);
  if (state !== 'netns') {
    return [
      state === 'missing'
        ? `netns ${netns} does not exist`
        : state === 'own'
          ? `netns ${netns} is the plugin's own network namespace`
          : `netns ${netns} is not a network namespace`,
    ];
  }
  const commands: BatchCommand[] = [
    { command: `addr show dev ${ctr}`, prints: true },
    // `route show <v6 prefix>` would list IPv4 routes; `table all` lists both families.
    { command: 'route show table all', prints: true },
  ];
  const step = `inspect ${ctr} in netns ${netns}`;
  const outcome = await ipBatch(commands, {
    netns,
    force: true,
    timeoutMs: deadline.remaining(),
    step,
  });
  const [linkLine, routeLine] = outcome.lines;
  const link = parseLinks(output(linkLine))[0];
  if (link === undefined) {
    return [
      linkLine?.status === 'failed' && !linkLine.error.includes('does not exist')
        ? `${step}: ${linkLine.error}`
        : `container interface ${ctr} not found in netns ${netns}`,
    ];
  }
  const problems = linkProblems('container interface', link, expect.containerMac.toLowerCase());
  for (const ip of [...v4, ...v6]) {
    const prefixlen = v4.includes(ip) ? 32 : 128;
    if (!link.addresses.some((a) => sameIp(a.local, ip) && a.prefixlen === prefixlen)) {
      problems.push(`container interface ${ctr} lacks address ${hostPrefix(ip)}`);
    }
  }
  if (routeLine?.status !== 'ok') {
    problems.push(`${step}: could not list routes`);
    return problems;
  }
  const main = parseRoutes(routeLine.output).filter(
    (r) => r.table === undefined || r.table === 'main',
  );
  const want: [string, (r: IpRoute) => boolean][] = [];
  if (v4.length > 0) {
    want.push(
      [
        `${IPV4_GATEWAY} dev ${ctr} scope link`,
        (r) => r.dst === IPV4_GATEWAY && r.dev === ctr && r.scope === 'link',
      ],
      [
        `default via ${IPV4_GATEWAY} dev ${ctr}`,
        (r) => r.dst === 'default' && r.gateway === IPV4_GATEWAY && r.dev === ctr,
      ],
    );
  }
  if (v6.length > 0) {
    want.push([
      `default via ${IPV6_GATEWAY} dev ${ctr}`,
      (r) =>
        r.dst === 'default' &&
        r.gateway !== undefined &&
        sameIp(r.gateway, IPV6_GATEWAY) &&
        r.dev === ctr,
    ]);
  }
  for (const [text, match] of want) {
    if (!main.some(match)) problems.push(`container route "${text}" missing`);
  }
  return problems;
}

async function inspectHost(
  expect: PodNetworkExpectation,
  v4: readonly string[],
  v6: readonly string[],
  deadline: Deadline,
): Promise<string[]> {
  const host = expect.hostIfName;
  if (!linkExistsHere(host)) return [`host interface ${host} not found`];
  const step = `inspect host veth ${host}`;
  // Two families, two processes: iproute2 takes the family of `route show` from -4/-6, not from
  // the prefix. Run concurrently.
  const [v4Out, v6Out] = await Promise.all([
    ipBatch(
      [
        { command: `link show dev ${host}`, prints: true },
        ...v4.map((ip) => ({ command: `route show ${hostPrefix(ip)}`, prints: true })),
      ],
      { family: 4, force: true, timeoutMs: deadline.remaining(), step },
    ),
    v6.length === 0
      ? undefined
      : ipBatch(
          v6.map((ip) => ({ command: `route show ${hostPrefix(ip)}`, prints: true })),
          { family: 6, force: true, timeoutMs: deadline.remaining(), step },
        ),
  ]);
  const [linkLine, ...v4Lines] = v4Out.lines;
  const link = parseLinks(output(linkLine))[0];
  const problems =
    link === undefined
      ? [`host interface ${host} not found`]
      : linkProblems('host interface', link, HOST_MAC);
  const routeLines = [...v4Lines, ...(v6Out?.lines ?? [])];
  for (const [i, ip] of [...v4, ...v6].entries()) {
    const line = routeLines[i];
    const dst = hostPrefix(ip);
    if (line?.status !== 'ok') {
      problems.push(`${step}: could not read the host route for ${dst}`);
      continue;
    }
    const routes = parseRoutes(line.output);
    if (routes.some((r) => r.dev === host)) continue;
    const elsewhere = routes.map((r) => r.dev).filter((d) => d !== undefined);
    problems.push(
      elsewhere.length === 0
        ? `host route ${dst} dev ${host} missing`
        : `host route ${dst} is on ${elsewhere.join(', ')}, not on ${host}`,
    );
  }
  return problems;
}

function output(line: LineOutcome | undefined): string | undefined {
  return line?.status === 'ok' ? line.output : undefined;
}

function linkProblems(what: string, link: IpLink, mac: string): string[] {
  const problems: string[] = [];
  if (!link.flags.includes('UP')) problems.push(`${what} ${link.ifname} is not up`);
  const actual = link.address?.toLowerCase();
  if (actual !== mac) {
    problems.push(`${what} ${link.ifname} has MAC ${actual ?? 'none'}, expected ${mac}`);
  }
  return problems;
}
