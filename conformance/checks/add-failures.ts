import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withAttachment } from '../attach';
import { cniEnv, type Check, type ExecRecord, type HarnessContext } from '../context';
import { checkAnyError, checkError, checkExitZero, describeExec } from '../expect';
import { installFixtureIpam, type FixtureIpam, type FixturePlan } from '../fixture-ipam';
import { watchState, withPod } from '../leftovers';
import { canonicalJson, ONLY_ADDRESS, ONLY_ADDRESS6, type NetConf } from '../netconf';
import { isUp, leftoverAllocations, viewOf } from '../observe';
import { fail, na, NEEDS_ROOT, pass, verdict, type Outcome } from '../outcome';
import { addressOf, canonicalIp, entries, versionShapeProblems } from '../result-shape';
import type { Pod } from '../sandbox';
import { atLeast, KNOWN_VERSIONS } from '../versions';

// Checklist D48–D57: ADDs that must fail without leaving anything, and what a good ADD leaves in
// the node netns. Leftovers are looked for where they would be: links, addresses and routes with
// `ip -j`, allocations in the IPAM's own store.

/** CNI_* of a fixture call that must match the ADD's for an IPAM DEL to be the same attachment. */
const ATTACHMENT_VARS = ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_NETNS'] as const;

/** Everything about a pod netns a failed ADD must not touch: links, addresses, routes. */
async function podSnapshot(ctx: HarnessContext, pod: Pod): Promise<string> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return '';
  const links = (await sandbox.links(pod.name)).map((l) => ({
    n: l.ifname,
    mac: l.address,
    up: l.flags.includes('UP'),
    a: l.addresses.map((a) => `${a.local}/${String(a.prefixlen)}`).sort(),
  }));
  const routes = (await sandbox.routes(pod.name)).map((r) => `${r.dst} ${r.dev ?? ''}`).sort();
  return canonicalJson({ links, routes });
}

/**
 * ADD into a fresh pod (set up by `prepare`) must fail with a JSON error and leave the pod and
 * node netns and the IPAM store as they were; then the runtime's DEL runs.
 */
async function mustFailLeavingNothing(
  ctx: HarnessContext,
  opts: {
    readonly conf: NetConf;
    readonly label: string;
    readonly env?: Record<string, string>;
    readonly prepare?: (pod: Pod) => Promise<void>;
    /** CNI_NETNS to pass instead of the pod's. */
    readonly netns?: string;
    readonly judge?: (r: ExecRecord) => string | undefined;
    /** False: only the error and `judge` count, not what the failed ADD left (item 52). */
    readonly leftoversMatter?: boolean;
  },
): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const problems = await withPod(ctx, async (pod) => {
    if (pod === undefined) return [NEEDS_ROOT];
    await opts.prepare?.(pod);
    const before = await podSnapshot(ctx, pod);
    const changed = await watchState(ctx, pod);
    const env = cniEnv(ctx, 'ADD', { CNI_NETNS: opts.netns ?? pod.path, ...opts.env });
    const stdin = JSON.stringify(opts.conf);
    const r = await ctx.runner.run({ env, stdin, note: opts.label });
    const after = await podSnapshot(ctx, pod);
    const found = [checkAnyError(r, opts.label), opts.judge?.(r)];
    if (opts.leftoversMatter !== false) {
      found.push(
        before === after ? undefined : `${opts.label}: pod netns changed: ${before} -> ${after}`,
        await changed().then((d) => (d === undefined ? undefined : `${opts.label}: ${d}`)),
        await leftoverAllocations(ctx, opts.conf, opts.label),
      );
    }
    await ctx.runner.run({ env: { ...env, CNI_COMMAND: 'DEL' }, stdin, note: 'runtime DEL' });
    return found;
  });
  return verdict(problems);
}

/** D48: CNI_IFNAME already in the pod: fail, leave it as it was, allocate nothing. */
function ifnameExists(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  return mustFailLeavingNothing(ctx, {
    conf: ctx.confs.make(ctx.version),
    label: 'ADD onto an existing eth0',
    prepare: async (pod) => {
      if (sandbox === undefined) return;
      await sandbox.addLink(pod.name, 'eth0');
      await sandbox.ip(pod.name, ['addr', 'add', '10.251.9.9/24', 'dev', 'eth0']);
      await sandbox.ip(pod.name, ['link', 'set', 'eth0', 'up']);
    },
  });
}

/** D49: CNI_NETNS does not exist: fail, allocate nothing. */
function netnsMissing(ctx: HarnessContext): Promise<Outcome> {
  return mustFailLeavingNothing(ctx, {
    conf: ctx.confs.make(ctx.version),
    label: 'ADD with a missing CNI_NETNS',
    netns: '/var/run/netns/cnf-no-such-netns',
  });
}

/** D50: CNI_NETNS is a regular file: fail, allocate nothing. */
function netnsNotNetns(ctx: HarnessContext): Promise<Outcome> {
  const file = join(ctx.tmp.dir('not-a-netns'), 'netns');
  writeFileSync(file, '');
  return mustFailLeavingNothing(ctx, {
    conf: ctx.confs.make(ctx.version),
    label: 'ADD with CNI_NETNS a regular file',
    netns: file,
  });
}

/** D51: CNI_NETNS is the plugin's own netns: code 8 before anything is created. */
function ownNetns(ctx: HarnessContext): Promise<Outcome> {
  return mustFailLeavingNothing(ctx, {
    conf: ctx.confs.make(ctx.version),
    label: 'ADD with CNI_NETNS=/proc/self/ns/net',
    netns: '/proc/self/ns/net',
    judge: (r) => checkError(r, { code: 8 }, 'ADD into its own netns'),
  });
}

/** Run ADD with a fixture IPAM into a fresh pod; returns the record and the fixture. */
async function addWithFixture(
  ctx: HarnessContext,
  plan: FixturePlan,
  opts: { readonly label: string; readonly leftoversMatter?: boolean },
): Promise<{ problems: (string | undefined)[]; fixture: FixtureIpam; record: ExecRecord }> {
  const fixture = installFixtureIpam(ctx, ctx.confs.make(ctx.version), plan);
  let record: ExecRecord | undefined;
  const outcome = await mustFailLeavingNothing(ctx, {
    conf: fixture.conf,
    label: opts.label,
    env: { CNI_PATH: fixture.cniPath },
    leftoversMatter: opts.leftoversMatter !== false,
    judge: (r) => {
      record = r;
      return undefined;
    },
  });
  if (record === undefined) throw new Error('the ADD did not run');
  return {
    problems: [outcome.status === 'fail' ? outcome.reason : undefined],
    fixture,
    record,
  };
}

/** Problems unless the fixture saw ADD and then a DEL of the same attachment with the same config. */
function releasedProblems(fixture: FixtureIpam): string[] {
  const calls = fixture.calls();
  const add = calls.find((c) => c.command === 'ADD');
  if (add === undefined) return ['the plugin never called IPAM ADD (nothing to roll back)'];
  const del = calls.slice(calls.indexOf(add) + 1).find((c) => c.command === 'DEL');
  if (del === undefined)
    return ['IPAM ADD succeeded, the ADD failed, but IPAM DEL was never called'];
  const problems = ATTACHMENT_VARS.filter((k) => add.env[k] !== del.env[k]).map(
    (k) => `IPAM DEL had ${k}=${String(del.env[k])}, ADD had ${String(add.env[k])}`,
  );
  const same = (text: string): string => {
    try {
      return canonicalJson(JSON.parse(text));
    } catch {
      return text;
    }
  };
  if (same(add.stdin) !== same(del.stdin))
    problems.push('IPAM DEL got another stdin than IPAM ADD');
  return problems;
}

/** The address the D52 fixture hands out, routed elsewhere in the node netns beforehand. */
const TAKEN_ADDRESS = '10.250.2.7';

/**
 * D52: IPAM ADD succeeds, then the host route to the address cannot be added (the node netns
 * already routes it through another link): IPAM DEL must follow.
 */
async function rollsBackIpam(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return na(NEEDS_ROOT);
  const [blocker, peer] = ['cnfblk0', 'cnfblk1'];
  await sandbox.ip(sandbox.node, ['link', 'add', blocker, 'type', 'veth', 'peer', 'name', peer]);
  try {
    await sandbox.ip(sandbox.node, ['link', 'set', blocker, 'up']);
    await sandbox.ip(sandbox.node, ['route', 'add', `${TAKEN_ADDRESS}/32`, 'dev', blocker]);
    const { problems, fixture } = await addWithFixture(
      ctx,
      {
        ADD: { result: { ips: [`${TAKEN_ADDRESS}/32`], routes: ['0.0.0.0/0'] } },
        DEL: { ok: true },
      },
      {
        label: `ADD of ${TAKEN_ADDRESS}, already routed via another link in the node netns`,
        // Item 52 is about the IPAM release; what the failed ADD left is D48–D51's subject.
        leftoversMatter: false,
      },
    );
    return verdict([...problems, ...releasedProblems(fixture)]);
  } finally {
    await sandbox.ip(sandbox.node, ['link', 'del', blocker]).catch(() => undefined);
  }
}

/** D53: IPAM fails with a CNI error: ADD fails with that code and msg. */
async function ipamErrorPassesThrough(ctx: HarnessContext): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const msg = 'cnf fixture: no addresses today';
  const { problems, record } = await addWithFixture(
    ctx,
    { ADD: { fail: { code: 117, msg } } },
    { label: 'ADD with an IPAM failing with code 117' },
  );
  return verdict([
    ...problems,
    checkError(record, { code: 117, msgHas: [msg] }, 'ADD with a failing IPAM'),
  ]);
}

/** D54: IPAM returns no IPs: ADD fails and releases. */
async function noIps(ctx: HarnessContext): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const { problems, fixture } = await addWithFixture(
    ctx,
    { ADD: { result: { ips: [] } }, DEL: { ok: true } },
    { label: 'ADD with an IPAM result without IPs' },
  );
  return verdict([...problems, ...releasedProblems(fixture)]);
}

/** D55: host veth up with a host route per container address; default route(s) in the pod. */
function hostSide(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return Promise.resolve(na(NEEDS_ROOT));
  return withAttachment(ctx, ctx.confs.make(ctx.version), {}, async (att) => {
    const view = await viewOf(sandbox, att);
    if (view.container === undefined) return fail('no container link');
    const host = view.host;
    if (host === undefined) return fail('the container link has no veth peer in the node netns');
    const addresses = entries(att.result, 'ips').map((ip) => addressOf(String(ip.address)));
    const families = new Set(addresses.map((a) => (a.includes(':') ? 6 : 4)));
    return verdict([
      isUp(host) ? undefined : `host veth ${host.ifname} is not up`,
      ...addresses.map((a) =>
        view.nodeRoutes.some((r) => r.dst === canonicalIp(a) && r.dev === host.ifname)
          ? undefined
          : `no host route to ${a} via ${host.ifname}`,
      ),
      ...[...families].map((f) =>
        view.podRoutes.some((r) => r.dst === 'default' && r.family === f)
          ? undefined
          : `no IPv${f} default route in the pod`,
      ),
    ]);
  });
}

/** D56: dual-stack IPAM output: both addresses configured and reported with their versions. */
async function dualStack(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return na(NEEDS_ROOT);
  if (ctx.confs.variant === undefined)
    return na("needs the harness's own IPAM configs (--netconf given)");
  const version =
    KNOWN_VERSIONS.filter(
      (v) => !atLeast(v, '1.0.0') && atLeast(v, '0.3.0') && ctx.supported.includes(v),
    ).pop() ?? ctx.version;
  const conf = await ctx.confs.variant('dual', version);
  return withAttachment(ctx, conf, { label: `dual-stack ADD at ${version}` }, async (att) => {
    const view = await viewOf(sandbox, att);
    const onLink = (view.container?.addresses ?? []).map((a) => canonicalIp(a.local));
    const reported = entries(att.result, 'ips').map((ip) =>
      canonicalIp(addressOf(String(ip.address))),
    );
    return verdict([
      ...[ONLY_ADDRESS, ONLY_ADDRESS6].map((a) =>
        reported.includes(canonicalIp(a)) ? undefined : `${a} not reported`,
      ),
      ...[ONLY_ADDRESS, ONLY_ADDRESS6].map((a) =>
        onLink.includes(canonicalIp(a)) ? undefined : `${a} not on the container link`,
      ),
      ...versionShapeProblems(att.result, version),
    ]);
  });
}

/** D57: ADD killed at a random point; DEL with the same parameters leaves nothing. */
async function killedAdd(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return na(NEEDS_ROOT);
  const conf = ctx.confs.make(ctx.version);
  const stdin = JSON.stringify(conf);
  // How long a whole ADD takes here, so the kill lands inside one.
  const started = Date.now();
  const full = await withAttachment(ctx, conf, { label: 'timed ADD' }, () =>
    Promise.resolve(pass()),
  );
  if (full.status !== 'pass') return full;
  const duration = Date.now() - started;
  const problems: (string | undefined)[] = [];
  for (const fraction of [0.2 + Math.random() * 0.3, 0.5 + Math.random() * 0.4]) {
    const delay = Math.max(5, Math.round(duration * fraction * 0.6));
    problems.push(
      ...(await withPod(ctx, async (pod) => {
        if (pod === undefined) return [NEEDS_ROOT];
        const changed = await watchState(ctx, pod);
        const env = cniEnv(ctx, 'ADD', { CNI_NETNS: pod.path });
        const label = `ADD killed after ${delay} ms`;
        const r = await ctx.runner.run({ env, stdin, note: label, timeoutMs: delay });
        const del = await ctx.runner.run({
          env: { ...env, CNI_COMMAND: 'DEL' },
          stdin,
          note: `DEL after ${label}`,
        });
        const podLink = (await sandbox.links(pod.name)).find((l) => l.ifname === env.CNI_IFNAME);
        const what = r.timedOut ? label : `${label} (it finished first: ${describeExec(r)})`;
        return [
          checkExitZero(del, `DEL after ${what}`),
          podLink === undefined
            ? undefined
            : `${what}: ${podLink.ifname} still in the pod after DEL`,
          await changed().then((d) => (d === undefined ? undefined : `${what}, DEL: ${d}`)),
          await leftoverAllocations(ctx, conf, `${what}, DEL`),
        ];
      })),
    );
  }
  return verdict(problems);
}

/** Checklist group D, failure and host-side half (items 48–57). */
export const addFailureChecks: readonly Check[] = [
  { id: 'D48', title: 'CNI_IFNAME already exists', kinds: ['main'], run: ifnameExists },
  { id: 'D49', title: 'CNI_NETNS does not exist', kinds: ['main'], run: netnsMissing },
  { id: 'D50', title: 'CNI_NETNS is not a netns', kinds: ['main'], run: netnsNotNetns },
  { id: 'D51', title: "CNI_NETNS is the plugin's own netns", kinds: ['main'], run: ownNetns },
  {
    id: 'D52',
    title: 'IPAM rolled back when a later step fails',
    kinds: ['main'],
    run: rollsBackIpam,
  },
  { id: 'D53', title: 'IPAM error passed through', kinds: ['main'], run: ipamErrorPassesThrough },
  { id: 'D54', title: 'IPAM result without IPs', kinds: ['main'], run: noIps },
  {
    id: 'D55',
    title: 'host veth up, host routes, pod default route',
    kinds: ['main'],
    run: hostSide,
  },
  { id: 'D56', title: 'dual-stack addresses', kinds: ['main'], run: dualStack },
  { id: 'D57', title: 'DEL cleans up an ADD killed halfway', kinds: ['main'], run: killedAdd },
];
