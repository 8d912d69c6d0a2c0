import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attach, checkReleased, type Attachment } from '../attach';
import {
  ANY_KIND,
  cniEnv,
  newContainerId,
  type Check,
  type ExecRecord,
  type HarnessContext,
} from '../context';
import { checkError, checkExitZero, describeExec } from '../expect';
import { installFixtureIpam } from '../fixture-ipam';
import { withPod } from '../leftovers';
import type { NetConf } from '../netconf';
import { leftoverAllocations, viewOf } from '../observe';
import { na, NEEDS_ROOT, verdict, type Outcome } from '../outcome';
import { addressOf, canonicalIp, entries } from '../result-shape';
import { parseStdout } from '../stdout';
import { checkVersion } from '../versions';

// Checklist F62–F70: DEL in every situation a runtime produces, judged by what is left in the
// pod and node namespaces and in the IPAM store.

/** A problem text unless `conf`'s IPAM holds nothing (store read, or a second ADD as proof). */
export async function releaseProblem(
  ctx: HarnessContext,
  conf: NetConf,
  label: string,
): Promise<string | undefined> {
  if (ctx.confs.allocations !== undefined) return leftoverAllocations(ctx, conf, label);
  const probe = await checkReleased(ctx, conf);
  return probe.status === 'fail' ? `${label}: ${probe.reason}` : undefined;
}

/** Run DEL for `att` with `overrides` (the pod stays; the caller removes it). */
function del(
  ctx: HarnessContext,
  att: Attachment,
  opts: { overrides?: Record<string, string | undefined>; stdin?: string; note: string },
): Promise<ExecRecord> {
  return ctx.runner.run({
    env: { ...att.env, CNI_COMMAND: 'DEL', ...opts.overrides },
    stdin: opts.stdin ?? att.stdin,
    note: opts.note,
  });
}

/** ADD, run `body`, then remove the pod and DEL once more whatever happened (the runtime's retry). */
export async function afterAdd(
  ctx: HarnessContext,
  conf: NetConf,
  body: (att: Attachment) => Promise<(string | undefined)[]>,
  env: Record<string, string> = {},
): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const attempt = await attach(ctx, conf, { env });
  if (!attempt.ok) return attempt.outcome;
  try {
    return verdict(await body(attempt.att));
  } finally {
    await ctx.sandbox.removePod(attempt.att.pod);
    await del(ctx, attempt.att, { note: 'cleanup DEL' });
  }
}

/** F62: after DEL the interface, host veth, host routes and allocation are gone. */
function delRemovesAll(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  const sandbox = ctx.sandbox;
  return afterAdd(ctx, conf, async (att) => {
    if (sandbox === undefined) return [NEEDS_ROOT];
    const before = ctx.kind === 'main' ? await viewOf(sandbox, att) : undefined;
    const r = await del(ctx, att, { note: 'DEL' });
    const problems = [checkExitZero(r, 'DEL'), await releaseProblem(ctx, conf, 'after DEL')];
    if (before === undefined) return problems;
    const after = await viewOf(sandbox, att);
    const hostName = before.host?.ifname;
    const addresses = entries(att.result, 'ips').map((ip) =>
      canonicalIp(addressOf(String(ip.address))),
    );
    return [
      ...problems,
      after.container === undefined ? undefined : `${after.container.ifname} still in the pod`,
      hostName !== undefined && after.nodeLinks.some((l) => l.ifname === hostName)
        ? `host veth ${hostName} still in the node netns`
        : undefined,
      ...addresses.map((a) =>
        after.nodeRoutes.some((rt) => rt.dst === a)
          ? `host route to ${a} still in the node netns`
          : undefined,
      ),
    ];
  });
}

/** F63: the same DEL twice exits 0 both times. */
function delTwice(ctx: HarnessContext): Promise<Outcome> {
  return afterAdd(ctx, ctx.confs.make(ctx.version), async (att) => [
    checkExitZero(await del(ctx, att, { note: 'DEL' }), 'first DEL'),
    checkExitZero(await del(ctx, att, { note: 'DEL again' }), 'second DEL'),
  ]);
}

/** F64: DEL of a container never added exits 0. */
async function delNeverAdded(ctx: HarnessContext): Promise<Outcome> {
  const stdin = JSON.stringify(ctx.confs.make(ctx.version));
  const problems = await withPod(ctx, async (pod) => {
    const netns = pod === undefined ? {} : { CNI_NETNS: pod.path };
    const r = await ctx.runner.run({
      env: cniEnv(ctx, 'DEL', { ...netns, CNI_CONTAINERID: newContainerId() }),
      stdin,
      note: 'DEL of a container never added',
    });
    return [checkExitZero(r, 'DEL of a container never added')];
  });
  return verdict(problems);
}

/** F65: DEL with CNI_NETNS="" releases and exits 0. */
function delEmptyNetns(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  return afterAdd(ctx, conf, async (att) => [
    checkExitZero(
      await del(ctx, att, { overrides: { CNI_NETNS: '' }, note: 'DEL, CNI_NETNS=""' }),
      'DEL with CNI_NETNS=""',
    ),
    await releaseProblem(ctx, conf, 'after DEL with CNI_NETNS=""'),
  ]);
}

/** F66: DEL after the netns is gone releases and exits 0. */
function delNetnsGone(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  return afterAdd(ctx, conf, async (att) => {
    await ctx.sandbox?.removePod(att.pod);
    return [
      checkExitZero(
        await del(ctx, att, { note: 'DEL, netns deleted' }),
        'DEL after the netns was deleted',
      ),
      await releaseProblem(ctx, conf, 'after DEL with the netns gone'),
    ];
  });
}

/** F67: DEL where CNI_NETNS is a regular file (stale bind mount) releases and exits 0. */
function delNetnsStale(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  const stale = join(ctx.tmp.dir('stale-netns'), 'netns');
  writeFileSync(stale, '');
  return afterAdd(ctx, conf, async (att) => [
    checkExitZero(
      await del(ctx, att, {
        overrides: { CNI_NETNS: stale },
        note: 'DEL, CNI_NETNS a regular file',
      }),
      'DEL with CNI_NETNS a regular file',
    ),
    await releaseProblem(ctx, conf, 'after DEL with a stale CNI_NETNS'),
  ]);
}

/** F68: DEL with prevResult (0.4.0+) and without it both succeed and release. */
async function delPrevResult(ctx: HarnessContext): Promise<Outcome> {
  const withPrev = checkVersion(ctx);
  const cases: [string, boolean][] = [
    ...(ctx.supported.includes('0.3.1') ? [['0.3.1', false] as [string, boolean]] : []),
    ...(withPrev === undefined
      ? []
      : ([
          [withPrev, true],
          [withPrev, false],
        ] as [string, boolean][])),
  ];
  const problems: string[] = [];
  for (const [v, prev] of cases) {
    await ctx.confs.reset?.();
    const conf = ctx.confs.make(v);
    const label = `DEL at ${v} ${prev ? 'with' : 'without'} prevResult`;
    const outcome = await afterAdd(ctx, conf, async (att) => {
      const stdin = prev ? JSON.stringify({ ...conf, prevResult: att.result }) : att.stdin;
      return [
        checkExitZero(await del(ctx, att, { stdin, note: label }), label),
        await releaseProblem(ctx, conf, `after ${label}`),
      ];
    });
    if (outcome.status === 'n/a') return outcome;
    if (outcome.status === 'fail') problems.push(outcome.reason);
  }
  return verdict(problems);
}

/** F69: IPAM DEL fails: the interface still goes, then the IPAM error is reported. */
function delIpamFails(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return Promise.resolve(na(NEEDS_ROOT));
  const base = ctx.confs.make(ctx.version);
  const msg = 'cnf fixture: datastore on fire';
  const fixture = installFixtureIpam(ctx, base, { DEL: { fail: { code: 118, msg } } });
  const env = { CNI_PATH: fixture.cniPath };
  return afterAdd(
    ctx,
    fixture.conf,
    async (att) => {
      const r = await del(ctx, att, { note: 'DEL with a failing IPAM DEL' });
      const after = await viewOf(sandbox, att);
      const problems = [
        checkError(r, { code: 118, msgHas: [msg] }, 'DEL with a failing IPAM DEL'),
        fixture.calls().some((c) => c.command === 'DEL') ? undefined : 'IPAM DEL was never called',
        after.container === undefined
          ? undefined
          : `${after.container.ifname} still in the pod after DEL`,
      ];
      // Release with the real IPAM, as a runtime's retry would once IPAM works again.
      await del(ctx, att, { stdin: JSON.stringify(base), note: 'DEL with the real IPAM' });
      return problems;
    },
    env,
  );
}

/** F70: a successful DEL prints nothing. */
function delQuiet(ctx: HarnessContext): Promise<Outcome> {
  return afterAdd(ctx, ctx.confs.make(ctx.version), async (att) => {
    const r = await del(ctx, att, { note: 'DEL' });
    if (r.exitCode !== 0) return [`DEL: ${describeExec(r)}`];
    return [
      parseStdout(r.stdout).kind === 'empty'
        ? undefined
        : `DEL printed ${JSON.stringify(r.stdout.slice(0, 120))}`,
    ];
  });
}

/** Checklist group F: DEL. */
export const delChecks: readonly Check[] = [
  {
    id: 'F62',
    title: 'DEL removes interface, veth, routes and IP',
    kinds: ANY_KIND,
    run: delRemovesAll,
  },
  { id: 'F63', title: 'DEL twice', kinds: ANY_KIND, run: delTwice },
  { id: 'F64', title: 'DEL of a container never added', kinds: ANY_KIND, run: delNeverAdded },
  { id: 'F65', title: 'DEL with an empty CNI_NETNS releases', kinds: ANY_KIND, run: delEmptyNetns },
  { id: 'F66', title: 'DEL after the netns is gone releases', kinds: ANY_KIND, run: delNetnsGone },
  { id: 'F67', title: 'DEL with a stale netns path releases', kinds: ['main'], run: delNetnsStale },
  { id: 'F68', title: 'DEL with and without prevResult', kinds: ANY_KIND, run: delPrevResult },
  { id: 'F69', title: 'DEL cleans up although IPAM DEL fails', kinds: ['main'], run: delIpamFails },
  { id: 'F70', title: 'successful DEL prints nothing', kinds: ANY_KIND, run: delQuiet },
];
