import { attach, detach, withAttachment, type Attachment } from '../attach';
import type { Check, HarnessContext } from '../context';
import { parseStdout } from '../stdout';
import { isUp, viewOf } from '../observe';
import { na, NEEDS_ROOT, verdict, type Outcome } from '../outcome';
import {
  addressOf,
  canonicalIp,
  entries,
  hasRoute,
  interfaceProblems,
  ipFormatProblems,
  ipIndexProblems,
  isMac,
  newFieldProblems,
  routeFormatProblems,
  versionShapeProblems,
} from '../result-shape';
import { atLeast, KNOWN_VERSIONS, REQUIRED_VERSIONS } from '../versions';

// Checklist D38–D47: what a successful ADD of a main plugin prints, compared with what `ip -j`
// shows in the pod and node namespaces.

/** Versions ADD is judged at: the required ones plus 1.1.0 when advertised. */
function addVersions(ctx: HarnessContext): string[] {
  return KNOWN_VERSIONS.filter(
    (v) =>
      (REQUIRED_VERSIONS as readonly string[]).includes(v) ||
      (v === '1.1.0' && ctx.supported.includes(v)),
  );
}

/** Run `judge` on one fresh attachment at the version under test. */
function onAttachment(
  ctx: HarnessContext,
  judge: (att: Attachment) => Promise<(string | undefined)[]>,
): Promise<Outcome> {
  if (ctx.sandbox === undefined) return Promise.resolve(na(NEEDS_ROOT));
  const conf = ctx.confs.make(ctx.version);
  return withAttachment(ctx, conf, { label: `ADD at ${ctx.version}` }, async (att) =>
    verdict(await judge(att)),
  );
}

/** The results of one ADD at each version, taken once per run (items judge them one by one). */
type VersionResults = Map<string, { readonly att: Attachment } | { readonly outcome: Outcome }>;

const resultsByRun = new WeakMap<object, VersionResults>();

/** ADD (then DEL) once at each ADD version; later calls return the same results. */
async function versionResults(ctx: HarnessContext): Promise<VersionResults> {
  const cached = resultsByRun.get(ctx.runner);
  if (cached !== undefined) return cached;
  const results: VersionResults = new Map();
  for (const v of addVersions(ctx)) {
    // The shared IPAM state starts over for each ADD, as it does for each item.
    await ctx.confs.reset?.();
    const attempt = await attach(ctx, ctx.confs.make(v), { label: `ADD at ${v}` });
    if (attempt.ok) {
      results.set(v, { att: attempt.att });
      await detach(ctx, attempt.att);
    } else results.set(v, { outcome: attempt.outcome });
  }
  resultsByRun.set(ctx.runner, results);
  return results;
}

/** Judge the ADD result of each version, prefixing problems with the version. */
async function atEachVersion(
  ctx: HarnessContext,
  judge: (att: Attachment, version: string) => string[],
): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const problems: string[] = [];
  for (const [v, r] of await versionResults(ctx)) {
    if ('outcome' in r) {
      if (r.outcome.status === 'n/a') return r.outcome;
      if (r.outcome.status === 'fail') problems.push(r.outcome.reason);
      continue;
    }
    problems.push(...judge(r.att, v).map((p) => `${v}: ${p}`));
  }
  return verdict(problems);
}

/** D38: CNI_IFNAME exists in the pod, is up, carries the result's addresses; one JSON result. */
function createsInterface(ctx: HarnessContext): Promise<Outcome> {
  return onAttachment(ctx, async (att) => {
    const sandbox = ctx.sandbox;
    if (sandbox === undefined) return [NEEDS_ROOT];
    const ifname = att.env.CNI_IFNAME ?? 'eth0';
    const view = await viewOf(sandbox, att);
    const link = view.container;
    if (link === undefined) return [`no link ${ifname} in the pod netns`];
    const onLink = link.addresses.map((a) => canonicalIp(a.local));
    const reported = entries(att.result, 'ips').map((ip) =>
      canonicalIp(addressOf(String(ip.address))),
    );
    return [
      parseStdout(att.record.stdout).kind === 'one' ? undefined : 'stdout is not one JSON value',
      isUp(link) ? undefined : `${ifname} is not up (flags ${link.flags.join(',')})`,
      reported.length === 0 ? 'result has no ips' : undefined,
      ...reported.map((a) =>
        onLink.includes(a) ? undefined : `${a} not on ${ifname} (has ${onLink.join(', ')})`,
      ),
    ];
  });
}

/** D39: the result's cniVersion is the config's, at every version. */
function resultVersion(ctx: HarnessContext): Promise<Outcome> {
  return atEachVersion(ctx, (att, v) =>
    att.result.cniVersion === v ? [] : [`result cniVersion ${String(att.result.cniVersion)}`],
  );
}

/** D40: the container interface carries sandbox = CNI_NETNS verbatim; host ones none. */
function sandboxField(ctx: HarnessContext): Promise<Outcome> {
  return atEachVersion(ctx, (att) =>
    interfaceProblems(att.result, att.env.CNI_IFNAME ?? 'eth0', att.pod.path),
  );
}

/** D41: every reported MAC has the 17-character form and is the link's real MAC. */
function macs(ctx: HarnessContext): Promise<Outcome> {
  return onAttachment(ctx, async (att) => {
    const sandbox = ctx.sandbox;
    if (sandbox === undefined) return [NEEDS_ROOT];
    const podLinks = await sandbox.links(att.pod.name);
    const nodeLinks = await sandbox.links(sandbox.node);
    return entries(att.result, 'interfaces').flatMap((i) => {
      if (i.mac === undefined) return [];
      const name = String(i.name);
      const mac = i.mac;
      if (typeof mac !== 'string' || !isMac(mac)) {
        return [`${name} mac ${JSON.stringify(mac)} is not aa:bb:cc:dd:ee:ff`];
      }
      const inPod = i.sandbox !== undefined && i.sandbox !== '';
      const link = (inPod ? podLinks : nodeLinks).find((l) => l.ifname === name);
      if (link === undefined) return [`${name} not found in the ${inPod ? 'pod' : 'node'} netns`];
      return link.address?.toLowerCase() === mac.toLowerCase()
        ? []
        : [`${name} mac ${mac}, link has ${String(link.address)}`];
    });
  });
}

/** D42: ips[].interface points at the CNI_IFNAME entry or is omitted. */
function ipIndexes(ctx: HarnessContext): Promise<Outcome> {
  return atEachVersion(ctx, (att) =>
    ipIndexProblems(att.result, att.env.CNI_IFNAME ?? 'eth0', att.pod.path),
  );
}

/** D43: addresses are CIDRs and gateways IPs of their family. */
function ipFormats(ctx: HarnessContext): Promise<Outcome> {
  return atEachVersion(ctx, (att) => ipFormatProblems(att.result));
}

/** D44: 0.3.x/0.4.0 results carry ips[].version matching each address. */
function legacyIpVersions(ctx: HarnessContext): Promise<Outcome> {
  return atEachVersion(ctx, (att, v) =>
    atLeast(v, '1.0.0') ? [] : versionShapeProblems(att.result, v),
  );
}

/** D45: 1.0.0+ results carry no ips[].version. */
function noIpVersions(ctx: HarnessContext): Promise<Outcome> {
  return atEachVersion(ctx, (att, v) =>
    atLeast(v, '1.0.0') ? versionShapeProblems(att.result, v) : [],
  );
}

/** D46: routes are well formed and each is in the pod netns via CNI_IFNAME. */
function routes(ctx: HarnessContext): Promise<Outcome> {
  return onAttachment(ctx, async (att) => {
    const sandbox = ctx.sandbox;
    if (sandbox === undefined) return [NEEDS_ROOT];
    const dev = att.env.CNI_IFNAME ?? 'eth0';
    const inPod = await sandbox.routes(att.pod.name);
    const listed = entries(att.result, 'routes');
    const format = routeFormatProblems(att.result);
    if (format.length > 0) return format;
    return [
      listed.length === 0
        ? 'the result lists no routes to compare (the config asks for a default route)'
        : undefined,
      ...listed.map((r) => {
        const want = { dst: String(r.dst), gw: typeof r.gw === 'string' ? r.gw : undefined, dev };
        return hasRoute(inPod, want)
          ? undefined
          : `route ${want.dst}${want.gw === undefined ? '' : ` via ${want.gw}`} not in the pod via ${dev}`;
      }),
    ];
  });
}

/** D47: 1.1.0-only fields appear only in 1.1.0 results. */
function newFields(ctx: HarnessContext): Promise<Outcome> {
  return atEachVersion(ctx, (att, v) => newFieldProblems(att.result, v));
}

/** Checklist group D, result half (items 38–47). */
export const addResultChecks: readonly Check[] = [
  {
    id: 'D38',
    title: 'ADD creates CNI_IFNAME with the addresses',
    kinds: ['main'],
    run: createsInterface,
  },
  {
    id: 'D39',
    title: 'result cniVersion = config cniVersion',
    kinds: ['main'],
    run: resultVersion,
  },
  {
    id: 'D40',
    title: 'container interface sandbox = CNI_NETNS',
    kinds: ['main'],
    run: sandboxField,
  },
  { id: 'D41', title: "reported MACs are the links' MACs", kinds: ['main'], run: macs },
  { id: 'D42', title: 'ips[].interface points at CNI_IFNAME', kinds: ['main'], run: ipIndexes },
  { id: 'D43', title: 'addresses CIDR, gateways same family', kinds: ['main'], run: ipFormats },
  { id: 'D44', title: 'ips[].version below 1.0.0', kinds: ['main'], run: legacyIpVersions },
  { id: 'D45', title: 'no ips[].version from 1.0.0', kinds: ['main'], run: noIpVersions },
  {
    id: 'D46',
    title: 'routes well formed and present via CNI_IFNAME',
    kinds: ['main'],
    run: routes,
  },
  { id: 'D47', title: '1.1.0 fields only at 1.1.0', kinds: ['main'], run: newFields },
];
