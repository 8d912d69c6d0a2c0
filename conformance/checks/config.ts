import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { attach, detach, withAttachment, type Attempt } from '../attach';
import {
  ANY_KIND,
  cniEnv,
  confText,
  type Check,
  type ExecRecord,
  type HarnessContext,
} from '../context';
import { checkAnyError, checkError, describeExec, errorOf, isNotImplemented } from '../expect';
import { watchState, withPod } from '../leftovers';
import { canonicalJson, ipamTypeOf, withIpamType, type NetConf } from '../netconf';
import { fail, na, NEEDS_ROOT, NOT_IMPLEMENTED, pass, verdict, type Outcome } from '../outcome';
import { isObject } from '../stdout';
import { atLeast, BOGUS_VERSIONS, checkVersion, REQUIRED_VERSIONS } from '../versions';

/** Keys a runtime or user may add that a plugin must tolerate (checklist item 28). */
const TOLERATED_KEYS = {
  capabilities: { portMappings: true },
  runtimeConfig: { portMappings: [] },
  args: { 'org.example/note': 'x' },
  'cni.dev/example': 'x',
  cnfUnknownKey: { nested: [1, 2] },
};

/** `conf` minus `key`. */
function without(conf: NetConf, key: string): NetConf {
  return Object.fromEntries(Object.entries(structuredClone(conf)).filter(([k]) => k !== key));
}

/** Run `cmd` once per stdin text and expect each to fail with `want`. */
async function expectEach(
  ctx: HarnessContext,
  cases: readonly { cmd: string; stdin: string; label: string }[],
  want: Parameters<typeof checkError>[1],
): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  for (const c of cases) {
    const r = await ctx.runner.run({ env: cniEnv(ctx, c.cmd), stdin: c.stdin, note: c.label });
    problems.push(checkError(r, want, c.label));
  }
  return verdict(problems);
}

/** B21: stdin that is not JSON → code 6 on ADD/DEL/CHECK, and nothing changes. */
async function badJson(ctx: HarnessContext): Promise<Outcome> {
  const check = checkVersion(ctx);
  const problems: (string | undefined)[] = [];
  for (const cmd of ['ADD', 'DEL', ...(check === undefined ? [] : ['CHECK'])]) {
    for (const stdin of ['not json', `{"cniVersion":"${ctx.version}","name":`]) {
      const label = `${cmd} stdin ${JSON.stringify(stdin)}`;
      problems.push(
        await withPod(ctx, async (pod) => {
          const changed = await watchState(ctx, pod);
          const env = cniEnv(ctx, cmd, pod === undefined ? {} : { CNI_NETNS: pod.path });
          const r = await ctx.runner.run({ env, stdin, note: label });
          const diff = await changed();
          const changes = diff === undefined ? undefined : `${label}: changed ${diff}`;
          return checkError(r, { code: 6 }, label) ?? changes;
        }),
      );
    }
  }
  return verdict(problems);
}

/** B22: no `name` or an empty one → code 7. */
async function missingName(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  const cases = ['ADD', 'DEL'].flatMap((cmd) => [
    { cmd, stdin: JSON.stringify(without(conf, 'name')), label: `${cmd} without name` },
    { cmd, stdin: JSON.stringify({ ...conf, name: '' }), label: `${cmd} with name ""` },
  ]);
  return expectEach(ctx, cases, { code: 7 });
}

/** B23: names outside the spec regex → code 7. */
async function badNames(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  const cases = ['my net', 'te%%st', '-net'].map((name) => ({
    cmd: 'ADD',
    stdin: JSON.stringify({ ...conf, name }),
    label: `ADD name ${JSON.stringify(name)}`,
  }));
  return expectEach(ctx, cases, { code: 7 });
}

/** B24: unknown versions → code 1 with details naming the config version, on ADD and DEL. */
async function unknownVersions(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  for (const v of BOGUS_VERSIONS) {
    for (const cmd of ['ADD', 'DEL']) {
      const r = await ctx.runner.run({
        env: cniEnv(ctx, cmd),
        stdin: confText(ctx, v),
        note: `${cmd} cniVersion ${v}`,
      });
      problems.push(checkError(r, { code: 1, detailsHas: [v] }, `${cmd} cniVersion ${v}`));
    }
  }
  return verdict(problems);
}

/** B25: cniVersion "abc" → ADD code 1; CHECK (and GC/STATUS when 1.1.0 is advertised) code 6. */
async function garbageVersion(ctx: HarnessContext): Promise<Outcome> {
  const verbs: [string, number][] = [['ADD', 1]];
  if (checkVersion(ctx) !== undefined) verbs.push(['CHECK', 6]);
  if (ctx.supported.includes('1.1.0')) verbs.push(['STATUS', 6], ['GC', 6]);
  const problems: (string | undefined)[] = [];
  for (const [cmd, code] of verbs) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, cmd),
      stdin: confText(ctx, 'abc'),
      note: `${cmd} cniVersion "abc"`,
    });
    problems.push(checkError(r, { code }, `${cmd} cniVersion "abc"`));
  }
  return verdict(problems);
}

/** B26: no cniVersion means 0.1.0: a 0.2.0-format result if advertised, else code 1. */
async function absentVersion(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(undefined);
  if (!ctx.supported.includes('0.1.0')) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, 'ADD'),
      stdin: JSON.stringify(conf),
      note: 'ADD without cniVersion',
    });
    return verdict([checkError(r, { code: 1 }, 'ADD without cniVersion (0.1.0 not advertised)')]);
  }
  return withAttachment(ctx, conf, { label: 'ADD without cniVersion' }, (att) => {
    const r = att.result;
    const problems = [
      isObject(r.ip4) || isObject(r.ip6) ? undefined : 'result has no ip4/ip6 object',
      'ips' in r || 'interfaces' in r ? 'result has 0.3.0+ keys (ips/interfaces)' : undefined,
      r.cniVersion === undefined || r.cniVersion === '0.1.0' || r.cniVersion === '0.2.0'
        ? undefined
        : `result cniVersion ${JSON.stringify(r.cniVersion)}, want 0.1.0 or 0.2.0`,
    ];
    return Promise.resolve(verdict(problems));
  });
}

/** Problems of `result` as an answer in exactly `version` (0.3.0 and later). */
function versionShapeProblems(result: Record<string, unknown>, version: string): string[] {
  const problems: string[] = [];
  if (result.cniVersion !== version) {
    problems.push(`cniVersion ${JSON.stringify(result.cniVersion)}`);
  }
  const ips = result.ips;
  if (!Array.isArray(ips)) return [...problems, 'no "ips" array'];
  const legacy = !atLeast(version, '1.0.0');
  for (const ip of ips as unknown[]) {
    const v = isObject(ip) ? ip.version : undefined;
    if (legacy && v !== '4' && v !== '6') problems.push(`ips[] version ${JSON.stringify(v)}`);
    if (!legacy && v !== undefined) problems.push(`ips[] carries version ${JSON.stringify(v)}`);
  }
  return problems;
}

/** B27: ADD succeeds at each required version (and 1.1.0 if advertised), answering in it. */
async function eachVersion(ctx: HarnessContext): Promise<Outcome> {
  const versions = [...REQUIRED_VERSIONS, ...(ctx.supported.includes('1.1.0') ? ['1.1.0'] : [])];
  const problems: string[] = [];
  for (const v of versions) {
    const attempt = await attach(ctx, ctx.confs.make(v), { label: `ADD at ${v}` });
    if (!attempt.ok) {
      if (attempt.outcome.status === 'n/a') return attempt.outcome;
      problems.push(attempt.outcome.status === 'fail' ? attempt.outcome.reason : `ADD at ${v}`);
      continue;
    }
    const shape = versionShapeProblems(attempt.att.result, v);
    if (shape.length > 0) problems.push(`ADD at ${v}: ${shape.join(', ')}`);
    await detach(ctx, attempt.att);
  }
  return verdict(problems);
}

/** Pass when `attempt` succeeded (then DEL it); otherwise its outcome. */
async function succeeded(ctx: HarnessContext, attempt: Attempt): Promise<Outcome> {
  if (!attempt.ok) return attempt.outcome;
  await detach(ctx, attempt.att);
  return pass();
}

/** B28: capabilities, runtimeConfig, args, cni.dev/* and unknown keys do not break ADD. */
async function toleratedKeys(ctx: HarnessContext): Promise<Outcome> {
  const conf = { ...ctx.confs.make(ctx.version), ...TOLERATED_KEYS };
  return succeeded(ctx, await attach(ctx, conf, { label: 'ADD with extra keys' }));
}

/** The parts of an ADD result that must not depend on how stdin was serialised. */
function digest(result: Record<string, unknown>, exact: boolean): string {
  const ips = Array.isArray(result.ips) ? (result.ips as unknown[]) : [];
  return canonicalJson({
    cniVersion: result.cniVersion,
    keys: Object.keys(result).sort(),
    ips: exact ? ips.map((ip) => (isObject(ip) ? [ip.address, ip.gateway] : ip)) : ips.length,
    routes: exact ? result.routes : undefined,
    dns: result.dns,
  });
}

/** B29: indented vs libcni-style (sorted keys, no whitespace) stdin → the same result. */
async function reserialised(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  const digests: string[] = [];
  for (const [label, stdin] of [
    ['ADD, indented stdin', JSON.stringify(conf, null, 2)],
    ['ADD, libcni-style stdin', canonicalJson(conf)],
  ] as const) {
    const attempt = await attach(ctx, conf, { stdin, label });
    if (!attempt.ok) return attempt.outcome;
    digests.push(digest(attempt.att.result, ctx.confs.harnessOwned));
    await detach(ctx, attempt.att);
  }
  return digests[0] === digests[1] ? pass() : fail(`results differ: ${digests.join(' vs ')}`);
}

/** B30: no runtimeConfig works, and unknown runtimeConfig keys are ignored. */
async function runtimeConfig(ctx: HarnessContext): Promise<Outcome> {
  const plain = without(ctx.confs.make(ctx.version), 'runtimeConfig');
  const first = await succeeded(
    ctx,
    await attach(ctx, plain, { label: 'ADD without runtimeConfig' }),
  );
  if (first.status !== 'pass') return first;
  const odd = { ...ctx.confs.make(ctx.version), runtimeConfig: { cnfUnknown: { a: 1 } } };
  return succeeded(ctx, await attach(ctx, odd, { label: 'ADD with unknown runtimeConfig' }));
}

/**
 * ADD `conf` into a fresh pod: it must fail with a JSON error and leave the node and pod netns
 * as they were. `extra` adds item-specific conditions on the error. 101 "not implemented" → n/a.
 */
async function mustFailCleanly(
  ctx: HarnessContext,
  cases: readonly { conf: NetConf; label: string; env?: Record<string, string> }[],
  extra: (r: ExecRecord, label: string) => string | undefined = () => undefined,
): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const problems: (string | undefined)[] = [];
  for (const c of cases) {
    const stdin = JSON.stringify(c.conf);
    const r = await withPod(ctx, async (pod) => {
      const changed = await watchState(ctx, pod);
      const netns = pod === undefined ? {} : { CNI_NETNS: pod.path };
      const env = cniEnv(ctx, 'ADD', { ...netns, ...c.env });
      const rec = await ctx.runner.run({ env, stdin, note: c.label });
      const diff = await changed();
      if (diff !== undefined) problems.push(`${c.label}: left ${diff}`);
      await ctx.runner.run({ env: { ...env, CNI_COMMAND: 'DEL' }, stdin, note: 'cleanup DEL' });
      return rec;
    });
    if (isNotImplemented(r)) return na(NOT_IMPLEMENTED);
    problems.push(checkAnyError(r, c.label) ?? extra(r, c.label));
  }
  return verdict(problems);
}

/** B31: no ipam, or an empty ipam.type → ADD fails and leaves nothing. */
async function noIpam(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  return mustFailCleanly(ctx, [
    { conf: without(conf, 'ipam'), label: 'ADD without ipam' },
    { conf: withIpamType(conf, ''), label: 'ADD with ipam.type ""' },
  ]);
}

/** B32: ipam.type not in CNI_PATH → ADD fails naming it and leaves nothing. */
async function missingIpam(ctx: HarnessContext): Promise<Outcome> {
  const name = `cnf-missing-ipam-${randomBytes(3).toString('hex')}`;
  const conf = withIpamType(ctx.confs.make(ctx.version), name);
  return mustFailCleanly(ctx, [{ conf, label: `ADD ipam.type ${name}` }], (r, label) =>
    errorOf(r)?.msg.includes(name) === true
      ? undefined
      : `${label}: msg does not name ${name}: ${describeExec(r)}`,
  );
}

/** Write an executable IPAM stand-in at `path` that records its run in `marker`, then execs `real`. */
function writeStandIn(path: string, marker: string, real: string | undefined): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tail =
    real === undefined ? 'echo \'{"code":100,"msg":"stand-in"}\'; exit 1' : `exec '${real}'`;
  writeFileSync(path, `#!/bin/sh\n: > '${marker}'\n${tail}\n`);
  chmodSync(path, 0o755);
}

/** B33: ipam.type containing "/" → ADD fails without executing anything. */
async function slashIpam(ctx: HarnessContext): Promise<Outcome> {
  const dir = ctx.tmp.dir('slash-ipam');
  const marker = join(dir, 'ran');
  writeStandIn(join(dir, 'sub', 'cnf-ipam'), marker, undefined);
  const conf = ctx.confs.make(ctx.version);
  const env = { CNI_PATH: `${dir}:${ctx.cniPath}` };
  return mustFailCleanly(
    ctx,
    [
      { conf: withIpamType(conf, 'sub/cnf-ipam'), label: 'ADD ipam.type sub/cnf-ipam', env },
      {
        conf: withIpamType(conf, join(dir, 'sub', 'cnf-ipam')),
        label: 'ADD absolute ipam.type',
        env,
      },
    ],
    (_r, label) => (existsSync(marker) ? `${label}: the IPAM stand-in was executed` : undefined),
  );
}

/** The IPAM binary `type` found in the CNI_PATH directories, if any. */
function findIpam(ctx: HarnessContext, type: string | undefined): string | undefined {
  if (type === undefined || type === '' || type.includes('/')) return undefined;
  return ctx.cniPath
    .split(':')
    .map((d) => join(d, type))
    .find((p) => existsSync(p));
}

/** B34: CNI_PATH is searched in order: found in the second dir, and the first dir wins. */
async function searchOrder(ctx: HarnessContext): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const base = ctx.confs.make(ctx.version);
  const real = findIpam(ctx, ipamTypeOf(base));
  if (real === undefined)
    return na(`IPAM binary ${String(ipamTypeOf(base))} not found in CNI_PATH`);
  const name = `cnf-ipam-${randomBytes(3).toString('hex')}`;
  for (const both of [false, true]) {
    const [a, b] = [ctx.tmp.dir('path-a'), ctx.tmp.dir('path-b')];
    if (both) writeStandIn(join(a, name), join(a, 'ran'), real);
    writeStandIn(join(b, name), join(b, 'ran'), real);
    const label = both ? 'ADD, IPAM in both dirs' : 'ADD, IPAM only in the second dir';
    const attempt = await attach(ctx, withIpamType(ctx.confs.make(ctx.version), name), {
      env: { CNI_PATH: `${a}:${b}:${ctx.cniPath}` },
      label,
    });
    const outcome = await succeeded(ctx, attempt);
    if (outcome.status !== 'pass') return outcome;
    const ranA = existsSync(join(a, 'ran'));
    const ranB = existsSync(join(b, 'ran'));
    if (both && (!ranA || ranB)) return fail(`${label}: first dir ran ${ranA}, second ${ranB}`);
    if (!both && !ranB) return fail(`${label}: the stand-in in the second dir did not run`);
  }
  return pass();
}

/** Checklist group B: configuration parsing and version negotiation. */
export const configChecks: readonly Check[] = [
  { id: 'B21', title: 'stdin not JSON', kinds: ANY_KIND, run: badJson },
  { id: 'B22', title: 'missing or empty name', kinds: ANY_KIND, run: missingName },
  { id: 'B23', title: 'invalid network names', kinds: ANY_KIND, run: badNames },
  { id: 'B24', title: 'unknown cniVersion', kinds: ANY_KIND, run: unknownVersions },
  { id: 'B25', title: 'garbage cniVersion', kinds: ANY_KIND, run: garbageVersion },
  {
    id: 'B26',
    title: 'absent cniVersion means 0.1.0',
    kinds: ANY_KIND,
    run: absentVersion,
  },
  { id: 'B27', title: 'ADD at each spec version', kinds: ANY_KIND, run: eachVersion },
  { id: 'B28', title: 'extra config keys tolerated', kinds: ANY_KIND, run: toleratedKeys },
  { id: 'B29', title: 'libcni re-serialisation', kinds: ANY_KIND, run: reserialised },
  {
    id: 'B30',
    title: 'runtimeConfig absent or unknown',
    kinds: ANY_KIND,
    run: runtimeConfig,
  },
  { id: 'B31', title: 'no IPAM type', kinds: ['main'], run: noIpam },
  { id: 'B32', title: 'IPAM binary not found', kinds: ['main'], run: missingIpam },
  { id: 'B33', title: 'IPAM type with a slash', kinds: ['main'], run: slashIpam },
  { id: 'B34', title: 'CNI_PATH search order', kinds: ['main'], run: searchOrder },
];
