import { attach, detach, type Attachment } from '../attach';
import {
  ANY_KIND,
  cniEnv,
  newContainerId,
  type Check,
  type ExecRecord,
  type HarnessContext,
} from '../context';
import { checkError, checkExitZero, describeExec, errorOf } from '../expect';
import { describeAllocations } from '../allocations';
import { installFixtureIpam } from '../fixture-ipam';
import type { NetConf } from '../netconf';
import { allocationsOf } from '../observe';
import { na, verdict, type Outcome } from '../outcome';
import { parseStdout } from '../stdout';

// Checklist I86–I91: GC and STATUS (spec 1.1.0), judged by the allocations left in the store.

/** The GC keys: `cni.dev/valid-attachments` and its legacy alias (contract §7.4). */
const VALID_KEY = 'cni.dev/valid-attachments';
const LEGACY_KEY = 'cni.dev/attachments';

/** n/a reason for plugins without 1.1.0. */
const NO_11 = 'plugin does not advertise 1.1.0: GC and STATUS are not its verbs';

/** GC or STATUS with the container variables empty, as libcni sends them. */
function runVerb(
  ctx: HarnessContext,
  command: string,
  conf: NetConf,
  note: string,
  env: Record<string, string> = {},
): Promise<ExecRecord> {
  return ctx.runner.run({
    env: cniEnv(ctx, command, { CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '', ...env }),
    stdin: JSON.stringify(conf),
    note,
  });
}

/** Undefined when `r` exited 0 with empty stdout. */
function quietSuccess(r: ExecRecord, label: string): string | undefined {
  return (
    checkExitZero(r, label) ??
    (parseStdout(r.stdout).kind === 'empty'
      ? undefined
      : `${label} printed ${JSON.stringify(r.stdout.slice(0, 100))}`)
  );
}

/** I86: GC and STATUS under a config below 1.1.0 → code 1. */
async function oldVersion(ctx: HarnessContext): Promise<Outcome> {
  if (!ctx.supported.includes('1.1.0')) return na(NO_11);
  const v = ['1.0.0', '0.4.0', '0.3.1'].find((x) => ctx.supported.includes(x));
  if (v === undefined) return na('plugin advertises no version below 1.1.0');
  const problems: (string | undefined)[] = [];
  for (const cmd of ['GC', 'STATUS']) {
    problems.push(
      checkError(
        await runVerb(ctx, cmd, ctx.confs.make(v), `${cmd} at ${v}`),
        { code: 1 },
        `${cmd} at ${v}`,
      ),
    );
  }
  return verdict(problems);
}

/** Two live attachments A and B of the wide config at 1.1.0, DELeted after `body`. */
async function withTwo(
  ctx: HarnessContext,
  body: (conf: NetConf, a: Attachment, b: Attachment) => Promise<(string | undefined)[]>,
): Promise<Outcome> {
  if (!ctx.supported.includes('1.1.0')) return na(NO_11);
  if (ctx.confs.variant === undefined || ctx.confs.allocations === undefined) {
    return na("needs the harness's own IPAM state (--netconf given)");
  }
  const conf = await ctx.confs.variant('wide', '1.1.0');
  const a = await attach(ctx, conf, { label: 'ADD of A' });
  if (!a.ok) return a.outcome;
  const b = await attach(ctx, conf, {
    env: { CNI_CONTAINERID: newContainerId() },
    label: 'ADD of B',
  });
  try {
    if (!b.ok) return b.outcome;
    return verdict(await body(conf, a.att, b.att));
  } finally {
    await detach(ctx, a.att);
    if (b.ok) await detach(ctx, b.att);
  }
}

/** GC naming A only under `keys`; `releasesB`: whether B's allocation must go. */
function gcCase(
  ctx: HarnessContext,
  keys: readonly string[],
  releasesB: boolean,
): Promise<Outcome> {
  return withTwo(ctx, async (conf, a, b) => {
    const valid = [{ containerID: a.env.CNI_CONTAINERID, ifname: a.env.CNI_IFNAME }];
    const label =
      keys.length === 0 ? 'GC without attachment keys' : `GC with ${keys.join(' and ')} = [A]`;
    const gcConf = { ...conf, ...Object.fromEntries(keys.map((k) => [k, valid])) };
    const r = await runVerb(ctx, 'GC', gcConf, label);
    const held = (await allocationsOf(ctx, conf)) ?? [];
    const has = (att: Attachment): boolean =>
      held.some((x) => x.containerId === att.env.CNI_CONTAINERID);
    return [
      quietSuccess(r, label),
      has(a)
        ? undefined
        : `${label}: A's allocation was released (store: ${describeAllocations(held)})`,
      has(b) === !releasesB
        ? undefined
        : `${label}: B's allocation ${releasesB ? 'kept' : 'released'} (store: ${describeAllocations(held)})`,
    ];
  });
}

/** I87: GC with valid-attachments [A] releases B and keeps A. */
function gcValid(ctx: HarnessContext): Promise<Outcome> {
  return gcCase(ctx, [VALID_KEY], true);
}

/** I88: the legacy key alone works the same. */
function gcLegacy(ctx: HarnessContext): Promise<Outcome> {
  return gcCase(ctx, [LEGACY_KEY], true);
}

/** I89: GC with neither key releases nothing. */
function gcNoKeys(ctx: HarnessContext): Promise<Outcome> {
  return gcCase(ctx, [], false);
}

/** I90: main forwards GC (with the attachment list) to its IPAM. */
async function gcForwarded(ctx: HarnessContext): Promise<Outcome> {
  if (!ctx.supported.includes('1.1.0')) return na(NO_11);
  const fixture = installFixtureIpam(ctx, ctx.confs.make('1.1.0'), { GC: { ok: true } });
  const conf = { ...fixture.conf, [VALID_KEY]: [], [LEGACY_KEY]: [] };
  const r = await runVerb(ctx, 'GC', conf, 'GC with a recording IPAM', {
    CNI_PATH: fixture.cniPath,
  });
  const gc = fixture.calls().find((c) => c.command === 'GC');
  const forwarded = gc !== undefined && gc.stdin.includes(VALID_KEY);
  return verdict([
    quietSuccess(r, 'GC'),
    gc === undefined ? 'GC never reached the IPAM plugin' : undefined,
    gc !== undefined && !forwarded ? `IPAM GC stdin lacks ${VALID_KEY}` : undefined,
  ]);
}

/** I91: STATUS healthy → 0 and quiet; exhausted → 50/51; main forwards STATUS to IPAM. */
async function status(ctx: HarnessContext): Promise<Outcome> {
  if (!ctx.supported.includes('1.1.0')) return na(NO_11);
  const conf = ctx.confs.make('1.1.0');
  const problems: (string | undefined)[] = [
    quietSuccess(
      await runVerb(ctx, 'STATUS', conf, 'STATUS, healthy'),
      'STATUS with a free address',
    ),
  ];
  if (ctx.confs.harnessOwned) {
    // The harness's store holds one address: after this ADD nothing is left to hand out.
    const att = await attach(ctx, conf, { label: 'ADD taking the only address' });
    if (!att.ok) return att.outcome;
    const full = await runVerb(ctx, 'STATUS', conf, 'STATUS, pool exhausted');
    await detach(ctx, att.att);
    const code = errorOf(full)?.code;
    problems.push(
      code === 50 || code === 51
        ? undefined
        : `STATUS with the pool exhausted: want code 50 or 51, got ${describeExec(full)}`,
    );
  }
  if (ctx.kind === 'main') {
    const fixture = installFixtureIpam(ctx, conf, {
      STATUS: { fail: { code: 50, msg: 'cnf fixture: not ready' } },
    });
    const r = await runVerb(ctx, 'STATUS', fixture.conf, 'STATUS with an IPAM that is not ready', {
      CNI_PATH: fixture.cniPath,
    });
    problems.push(
      fixture.calls().some((c) => c.command === 'STATUS')
        ? undefined
        : 'STATUS never reached the IPAM plugin',
      checkError(r, { code: 50 }, 'STATUS with an IPAM answering 50'),
    );
  }
  return verdict(problems);
}

/** Checklist group I: GC and STATUS. */
export const gcStatusChecks: readonly Check[] = [
  { id: 'I86', title: 'GC and STATUS refused below 1.1.0', kinds: ANY_KIND, run: oldVersion },
  { id: 'I87', title: 'GC releases what valid-attachments omits', kinds: ANY_KIND, run: gcValid },
  { id: 'I88', title: 'GC with the legacy attachments key', kinds: ANY_KIND, run: gcLegacy },
  {
    id: 'I89',
    title: 'GC without attachment keys releases nothing',
    kinds: ANY_KIND,
    run: gcNoKeys,
  },
  { id: 'I90', title: 'main forwards GC to IPAM', kinds: ['main'], run: gcForwarded },
  { id: 'I91', title: 'STATUS healthy, exhausted, forwarded', kinds: ANY_KIND, run: status },
];
