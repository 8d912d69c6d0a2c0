import { ANY_KIND, cniEnv, type Check, type ExecRecord, type HarnessContext } from '../context';
import { checkAnyError, checkError, describeExec } from '../expect';
import { installFixtureIpam } from '../fixture-ipam';
import type { NetConf } from '../netconf';
import { na, NEEDS_ROOT, verdict, type Outcome } from '../outcome';
import { entries } from '../result-shape';
import { parseStdout } from '../stdout';
import { atLeast, checkVersion, KNOWN_VERSIONS } from '../versions';
import type { Attachment } from '../attach';
import { afterAdd } from './del';

// Checklist G71–G76: CHECK after ADD, with the ADD result as prevResult as libcni sends it, and
// after the harness broke what the ADD built.

/** n/a reason for plugins without a CHECK version. */
const NO_CHECK = 'plugin advertises no version >= 0.4.0, so it has no CHECK';

/** CHECK `att` with `prevResult` (undefined: none) and stdin config `conf`. */
function check(
  ctx: HarnessContext,
  att: Attachment,
  opts: { conf: NetConf; prevResult: unknown; note: string; env?: Record<string, string> },
): Promise<ExecRecord> {
  const stdin = JSON.stringify(
    opts.prevResult === undefined ? opts.conf : { ...opts.conf, prevResult: opts.prevResult },
  );
  return ctx.runner.run({
    env: { ...att.env, CNI_COMMAND: 'CHECK', ...opts.env },
    stdin,
    note: opts.note,
  });
}

/** G71: CHECK under a 0.3.x config → code 1. */
async function checkOldVersion(ctx: HarnessContext): Promise<Outcome> {
  const v = ['0.3.1', '0.3.0'].find((x) => ctx.supported.includes(x));
  if (v === undefined) return na('plugin advertises no 0.3.x version');
  const r = await ctx.runner.run({
    env: cniEnv(ctx, 'CHECK'),
    stdin: JSON.stringify(ctx.confs.make(v)),
    note: `CHECK at ${v}`,
  });
  return verdict([checkError(r, { code: 1 }, `CHECK at ${v}`)]);
}

/** G72: CHECK right after ADD at each 0.4.0+ version → exit 0, empty stdout. */
async function checkAfterAdd(ctx: HarnessContext): Promise<Outcome> {
  const versions = KNOWN_VERSIONS.filter((v) => atLeast(v, '0.4.0') && ctx.supported.includes(v));
  if (versions.length === 0) return na(NO_CHECK);
  const problems: string[] = [];
  for (const v of versions) {
    await ctx.confs.reset?.();
    const conf = ctx.confs.make(v);
    const outcome = await afterAdd(ctx, conf, async (att) => {
      const r = await check(ctx, att, { conf, prevResult: att.result, note: `CHECK at ${v}` });
      if (r.exitCode !== 0) return [`CHECK at ${v}: ${describeExec(r)}`];
      return [
        parseStdout(r.stdout).kind === 'empty'
          ? undefined
          : `CHECK at ${v} printed ${JSON.stringify(r.stdout.slice(0, 100))}`,
      ];
    });
    if (outcome.status === 'n/a') return outcome;
    if (outcome.status === 'fail') problems.push(outcome.reason);
  }
  return verdict(problems);
}

/** Run `body` on an attachment at the CHECK version (n/a without one). */
function atCheckVersion(
  ctx: HarnessContext,
  body: (att: Attachment, conf: NetConf) => Promise<(string | undefined)[]>,
): Promise<Outcome> {
  const v = checkVersion(ctx);
  if (v === undefined) return Promise.resolve(na(NO_CHECK));
  const conf = ctx.confs.make(v);
  return afterAdd(ctx, conf, (att) => body(att, conf));
}

/** G73: CHECK without prevResult → error. */
function checkNoPrev(ctx: HarnessContext): Promise<Outcome> {
  return atCheckVersion(ctx, async (att, conf) => [
    checkAnyError(
      await check(ctx, att, { conf, prevResult: undefined, note: 'CHECK without prevResult' }),
      'CHECK without prevResult',
    ),
  ]);
}

/** G74: CHECK after the interface, its address or its routes were removed → error. */
async function checkBroken(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return na(NEEDS_ROOT);
  const breakers: [string, (att: Attachment) => Promise<unknown>][] = [
    [
      'interface deleted',
      (att) => sandbox.ip(att.pod.name, ['link', 'del', att.env.CNI_IFNAME ?? 'eth0']),
    ],
    [
      'address removed',
      async (att) => {
        const ifname = att.env.CNI_IFNAME ?? 'eth0';
        for (const ip of entries(att.result, 'ips')) {
          const link = (await sandbox.links(att.pod.name)).find((l) => l.ifname === ifname);
          const on = link?.addresses.find((a) => a.local === String(ip.address).split('/')[0]);
          if (on !== undefined) {
            await sandbox.ip(att.pod.name, [
              'addr',
              'del',
              `${on.local}/${String(on.prefixlen)}`,
              'dev',
              ifname,
            ]);
          }
        }
      },
    ],
    [
      'routes removed',
      async (att) => {
        for (const r of await sandbox.routes(att.pod.name)) {
          if (r.dst === 'default') {
            await sandbox.ip(att.pod.name, [
              r.family === 6 ? '-6' : '-4',
              'route',
              'del',
              'default',
              ...(r.dev === undefined ? [] : ['dev', r.dev]),
            ]);
          }
        }
      },
    ],
  ];
  const problems: string[] = [];
  for (const [what, breakIt] of breakers) {
    await ctx.confs.reset?.();
    const outcome = await atCheckVersion(ctx, async (att, conf) => {
      await breakIt(att);
      const r = await check(ctx, att, { conf, prevResult: att.result, note: `CHECK, ${what}` });
      return [checkAnyError(r, `CHECK with the ${what}`)];
    });
    if (outcome.status === 'n/a') return outcome;
    if (outcome.status === 'fail') problems.push(outcome.reason);
  }
  return verdict(problems);
}

/** G75: prevResult's container sandbox differs from CNI_NETNS → error. */
function checkSandboxMismatch(ctx: HarnessContext): Promise<Outcome> {
  return atCheckVersion(ctx, async (att, conf) => {
    const prev = structuredClone(att.result);
    for (const i of entries(prev, 'interfaces')) {
      if (i.sandbox === att.pod.path) i.sandbox = '/var/run/netns/cnf-another-pod';
    }
    const r = await check(ctx, att, { conf, prevResult: prev, note: 'CHECK, sandbox mismatch' });
    return [checkAnyError(r, 'CHECK with another sandbox in prevResult')];
  });
}

/** G76: main CHECKs its IPAM and passes its failure on. */
function checkIpamFails(ctx: HarnessContext): Promise<Outcome> {
  const v = checkVersion(ctx);
  if (v === undefined) return Promise.resolve(na(NO_CHECK));
  const msg = 'cnf fixture: allocation vanished';
  const fixture = installFixtureIpam(ctx, ctx.confs.make(v), {
    CHECK: { fail: { code: 119, msg } },
  });
  const env = { CNI_PATH: fixture.cniPath };
  return afterAdd(
    ctx,
    fixture.conf,
    async (att) => {
      const r = await check(ctx, att, {
        conf: fixture.conf,
        prevResult: att.result,
        note: 'CHECK, IPAM CHECK fails',
      });
      return [
        fixture.calls().some((c) => c.command === 'CHECK')
          ? undefined
          : 'IPAM CHECK was never called',
        checkError(r, { code: 119, msgHas: [msg] }, 'CHECK with a failing IPAM CHECK'),
      ];
    },
    env,
  );
}

/** Checklist group G: CHECK. */
export const checkVerbChecks: readonly Check[] = [
  { id: 'G71', title: 'CHECK refused below 0.4.0', kinds: ANY_KIND, run: checkOldVersion },
  { id: 'G72', title: 'CHECK right after ADD', kinds: ANY_KIND, run: checkAfterAdd },
  { id: 'G73', title: 'CHECK without prevResult', kinds: ['main'], run: checkNoPrev },
  {
    id: 'G74',
    title: 'CHECK notices removed interface, address, routes',
    kinds: ['main'],
    run: checkBroken,
  },
  {
    id: 'G75',
    title: 'CHECK notices a sandbox mismatch',
    kinds: ['main'],
    run: checkSandboxMismatch,
  },
  {
    id: 'G76',
    title: 'CHECK propagates an IPAM CHECK failure',
    kinds: ['main'],
    run: checkIpamFails,
  },
];
