import { attach, detach } from '../attach';
import {
  absentNetns,
  cniEnv,
  newContainerId,
  type Check,
  type ExecRecord,
  type HarnessContext,
} from '../context';
import { checkAnyError, checkExitZero, describeExec, resultOf } from '../expect';
import { describeAllocations } from '../allocations';
import type { NetConf } from '../netconf';
import { allocationsOf } from '../observe';
import { na, NEEDS_ROOT, verdict, type Outcome } from '../outcome';
import {
  abbreviatedProblems,
  addressOf,
  canonicalIp,
  entries,
  versionShapeProblems,
} from '../result-shape';
import { checkVersion, KNOWN_VERSIONS, REQUIRED_VERSIONS } from '../versions';
import { releaseProblem } from './del';

// Checklist H77–H85: an IPAM plugin driven as a main plugin drives it, its allocations read back
// from its own store (host-local's files, Calico's blocks in etcd).

/** n/a reason when the store cannot be read or widened (a user's --netconf). */
const OWN_STATE = "needs the harness's own IPAM state (--netconf given)";

/** One IPAM call without a netns (IPAM must not need one, item 83). */
function call(
  ctx: HarnessContext,
  command: string,
  opts: { conf: NetConf; cid: string; ifname?: string; note: string; prevResult?: unknown },
): Promise<ExecRecord> {
  const conf =
    opts.prevResult === undefined ? opts.conf : { ...opts.conf, prevResult: opts.prevResult };
  return ctx.runner.run({
    env: cniEnv(ctx, command, {
      CNI_CONTAINERID: opts.cid,
      CNI_IFNAME: opts.ifname ?? 'eth0',
      CNI_NETNS: absentNetns(),
    }),
    stdin: JSON.stringify(conf),
    note: opts.note,
  });
}

/** The addresses of an IPAM ADD result. */
function addresses(result: Record<string, unknown> | undefined): string[] {
  return entries(result ?? {}, 'ips').map((ip) => canonicalIp(addressOf(String(ip.address))));
}

/** The wide config at the version under test, or undefined (the item is then n/a). */
async function wide(ctx: HarnessContext): Promise<NetConf | undefined> {
  if (ctx.confs.variant === undefined || ctx.confs.allocations === undefined) return undefined;
  return ctx.confs.variant('wide', ctx.version);
}

/** H77: the whole main-plugin config on stdin is fine. */
async function fullConfig(ctx: HarnessContext): Promise<Outcome> {
  const conf = {
    ...ctx.confs.make(ctx.version),
    mtu: 1400,
    ipMasq: true,
    isGateway: true,
    dns: { nameservers: ['10.0.0.53'] },
  };
  const attempt = await attach(ctx, conf, { label: 'ADD with a full ptp config' });
  if (!attempt.ok) return attempt.outcome;
  await detach(ctx, attempt.att);
  return verdict([]);
}

/** H78: abbreviated results in the config's version. */
async function abbreviated(ctx: HarnessContext): Promise<Outcome> {
  const versions = KNOWN_VERSIONS.filter(
    (v) =>
      (REQUIRED_VERSIONS as readonly string[]).includes(v) ||
      (v === '1.1.0' && ctx.supported.includes(v)),
  );
  const problems: string[] = [];
  for (const v of versions) {
    await ctx.confs.reset?.();
    const conf = ctx.confs.make(v);
    const cid = newContainerId();
    const r = await call(ctx, 'ADD', { conf, cid, note: `ADD at ${v}` });
    const result = resultOf(r);
    if (result === undefined) problems.push(`ADD at ${v}: ${describeExec(r)}`);
    else
      problems.push(
        ...[...versionShapeProblems(result, v), ...abbreviatedProblems(result)].map(
          (p) => `${v}: ${p}`,
        ),
      );
    await call(ctx, 'DEL', { conf, cid, note: 'DEL' });
  }
  return verdict(problems);
}

/** H79: ADD twice for one attachment never hands out a second address. */
async function addTwice(ctx: HarnessContext): Promise<Outcome> {
  const conf = await wide(ctx);
  if (conf === undefined) return na(OWN_STATE);
  const cid = newContainerId();
  const first = resultOf(await call(ctx, 'ADD', { conf, cid, note: 'ADD' }));
  const again = await call(ctx, 'ADD', { conf, cid, note: 'ADD again, no DEL' });
  const held = ((await allocationsOf(ctx, conf)) ?? []).filter((a) => a.containerId === cid);
  await call(ctx, 'DEL', { conf, cid, note: 'DEL' });
  if (first === undefined) return verdict(['first ADD failed']);
  const second = resultOf(again);
  return verdict([
    second !== undefined && addresses(second).join() !== addresses(first).join()
      ? `second ADD answered ${addresses(second).join()} after ${addresses(first).join()}`
      : undefined,
    held.length === addresses(first).length
      ? undefined
      : `store holds ${describeAllocations(held)} for ${cid}`,
  ]);
}

/** H80: one container ID, two ifnames: two allocations, and DEL of one keeps the other. */
async function perIfname(ctx: HarnessContext): Promise<Outcome> {
  const conf = await wide(ctx);
  if (conf === undefined) return na(OWN_STATE);
  const cid = newContainerId();
  const a = resultOf(await call(ctx, 'ADD', { conf, cid, ifname: 'eth0', note: 'ADD eth0' }));
  const b = resultOf(
    await call(ctx, 'ADD', { conf, cid, ifname: 'eth1', note: 'ADD eth1, same container' }),
  );
  const both = (await allocationsOf(ctx, conf)) ?? [];
  await call(ctx, 'DEL', { conf, cid, ifname: 'eth0', note: 'DEL eth0' });
  const left = (await allocationsOf(ctx, conf)) ?? [];
  await call(ctx, 'DEL', { conf, cid, ifname: 'eth1', note: 'DEL eth1' });
  if (a === undefined || b === undefined)
    return verdict([`ADD eth0 ${a ? 'ok' : 'failed'}, ADD eth1 ${b ? 'ok' : 'failed'}`]);
  const [ipA, ipB] = [addresses(a).join(), addresses(b).join()];
  return verdict([
    ipA === ipB ? `eth0 and eth1 of one container both got ${ipA}` : undefined,
    both.length === 2 ? undefined : `store holds ${describeAllocations(both)} for eth0 and eth1`,
    left.some((x) => canonicalIp(x.ip) === ipB) && ipA !== ipB
      ? undefined
      : `after DEL of eth0 the store holds ${describeAllocations(left)}, want eth1's ${ipB}`,
  ]);
}

/** H81: DEL of an unknown attachment exits 0. */
async function delUnknown(ctx: HarnessContext): Promise<Outcome> {
  const r = await call(ctx, 'DEL', {
    conf: ctx.confs.make(ctx.version),
    cid: newContainerId(),
    note: 'DEL unknown',
  });
  return verdict([checkExitZero(r, 'DEL of an unknown container')]);
}

/** H82: DEL twice exits 0 twice. */
async function delTwice(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  const cid = newContainerId();
  const add = await call(ctx, 'ADD', { conf, cid, note: 'ADD' });
  if (resultOf(add) === undefined) return verdict([`ADD: ${describeExec(add)}`]);
  return verdict([
    checkExitZero(await call(ctx, 'DEL', { conf, cid, note: 'DEL' }), 'first DEL'),
    checkExitZero(await call(ctx, 'DEL', { conf, cid, note: 'DEL again' }), 'second DEL'),
  ]);
}

/** H83: with CNI_NETNS pointing nowhere, ADD allocates and DEL releases. */
async function noNetns(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  const cid = newContainerId();
  const add = await call(ctx, 'ADD', { conf, cid, note: 'ADD, CNI_NETNS nowhere' });
  const result = resultOf(add);
  const held = await allocationsOf(ctx, conf);
  const del = await call(ctx, 'DEL', { conf, cid, note: 'DEL, CNI_NETNS nowhere' });
  return verdict([
    result === undefined ? `ADD: ${describeExec(add)}` : undefined,
    held === undefined || held.some((a) => a.containerId === cid)
      ? undefined
      : `store holds no address for ${cid} after ADD`,
    checkExitZero(del, 'DEL'),
    await releaseProblem(ctx, conf, 'after DEL'),
  ]);
}

/** Concurrent ADDs of item 84. */
const CONCURRENT = 50;

/** H84: 50 concurrent ADDs: all succeed, distinct addresses, the store agrees; DELs empty it. */
async function concurrentAdds(ctx: HarnessContext): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const conf = await wide(ctx);
  if (conf === undefined) return na(OWN_STATE);
  const cids = Array.from({ length: CONCURRENT }, () => newContainerId());
  const adds = await Promise.all(
    cids.map((cid) => call(ctx, 'ADD', { conf, cid, note: 'concurrent ADD' })),
  );
  const held = (await allocationsOf(ctx, conf)) ?? [];
  const dels = await Promise.all(
    cids.map((cid) => call(ctx, 'DEL', { conf, cid, note: 'concurrent DEL' })),
  );
  const failed = adds.filter((r) => resultOf(r) === undefined);
  const ips = adds.flatMap((r) => addresses(resultOf(r)));
  const dupes = ips.filter((ip, i) => ips.indexOf(ip) !== i);
  const stored = held.map((a) => canonicalIp(a.ip)).sort();
  const first = failed[0];
  return verdict([
    first === undefined
      ? undefined
      : `${failed.length} of ${CONCURRENT} ADDs failed, e.g. ${describeExec(first)}`,
    dupes.length === 0
      ? undefined
      : `addresses handed out twice: ${[...new Set(dupes)].join(', ')}`,
    stored.join() === [...ips].sort().join()
      ? undefined
      : `store holds ${stored.length} addresses, ADDs answered ${ips.length}`,
    dels.every((r) => r.exitCode === 0) ? undefined : 'some concurrent DELs failed',
    await releaseProblem(ctx, conf, 'after the DELs'),
  ]);
}

/** H85: CHECK of a live allocation exits 0; of a released or unknown one fails. */
async function checkAllocation(ctx: HarnessContext): Promise<Outcome> {
  const v = checkVersion(ctx);
  if (v === undefined) return na('plugin advertises no version >= 0.4.0, so it has no CHECK');
  const conf = ctx.confs.make(v);
  const cid = newContainerId();
  const add = await call(ctx, 'ADD', { conf, cid, note: 'ADD' });
  const result = resultOf(add);
  if (result === undefined) return verdict([`ADD: ${describeExec(add)}`]);
  const live = await call(ctx, 'CHECK', {
    conf,
    cid,
    prevResult: result,
    note: 'CHECK, allocated',
  });
  await call(ctx, 'DEL', { conf, cid, note: 'DEL' });
  const gone = await call(ctx, 'CHECK', { conf, cid, prevResult: result, note: 'CHECK after DEL' });
  const never = await call(ctx, 'CHECK', {
    conf,
    cid: newContainerId(),
    prevResult: result,
    note: 'CHECK, never added',
  });
  return verdict([
    checkExitZero(live, 'CHECK of a live allocation'),
    checkAnyError(gone, 'CHECK after DEL'),
    checkAnyError(never, 'CHECK of a container never added'),
  ]);
}

/** Checklist group H: the IPAM plugin. */
export const ipamChecks: readonly Check[] = [
  { id: 'H77', title: 'whole main-plugin config on stdin', kinds: ['ipam'], run: fullConfig },
  {
    id: 'H78',
    title: 'abbreviated result in the config version',
    kinds: ['ipam'],
    run: abbreviated,
  },
  { id: 'H79', title: 'ADD twice gives no second address', kinds: ['ipam'], run: addTwice },
  {
    id: 'H80',
    title: 'allocations keyed by container ID and ifname',
    kinds: ['ipam'],
    run: perIfname,
  },
  { id: 'H81', title: 'DEL of an unknown attachment', kinds: ['ipam'], run: delUnknown },
  { id: 'H82', title: 'DEL twice', kinds: ['ipam'], run: delTwice },
  { id: 'H83', title: 'IPAM works without a netns', kinds: ['ipam'], run: noNetns },
  { id: 'H84', title: `${CONCURRENT} concurrent ADDs`, kinds: ['ipam'], run: concurrentAdds },
  {
    id: 'H85',
    title: 'CHECK of live and missing allocations',
    kinds: ['ipam'],
    run: checkAllocation,
  },
];
