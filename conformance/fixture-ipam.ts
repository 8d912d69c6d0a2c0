import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HarnessContext } from './context';
import { ipamTypeOf, withIpamType, type NetConf } from './netconf';
import { isObject } from './stdout';

// Items 52–54, 69, 76 and 90 need an IPAM that fails, returns nothing, or reports what it was
// asked: a small node script in a scratch CNI_PATH directory put before the real one. Each call is
// appended to a log as one JSON line, then the verb's action runs.

/** What the fixture does for one verb. */
export type FixtureAction =
  /** Run the real IPAM binary with the same stdin and environment. */
  | { readonly delegate: true }
  /** Print `{code,msg}` (with the config's cniVersion) and exit 1. */
  | { readonly fail: { readonly code: number; readonly msg: string } }
  /** Print this result's ips/routes in the config's version (ips[].version below 1.0.0). */
  | { readonly result: { readonly ips: readonly string[]; readonly routes?: readonly string[] } }
  /** Exit 0 with empty stdout. */
  | { readonly ok: true };

/** Per-verb actions; verbs not listed delegate when `real` is set, else succeed silently. */
export type FixturePlan = Partial<Record<'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS', FixtureAction>>;

/** One call the fixture saw. */
export interface FixtureCall {
  readonly command: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: string;
}

/** A fixture IPAM installed for one item. */
export interface FixtureIpam {
  /** The base config with `ipam.type` pointing at the fixture. */
  readonly conf: NetConf;
  /** CNI_PATH with the fixture's directory first. */
  readonly cniPath: string;
  /** Calls so far, oldest first. */
  calls(): FixtureCall[];
}

/** The fixture program; `SPEC` is replaced by its JSON plan. */
const PROGRAM = `#!/usr/bin/env node
'use strict';
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const spec = SPEC;
const command = process.env.CNI_COMMAND || '';
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
const env = {};
for (const k of ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH', 'CNI_ARGS']) env[k] = process.env[k];
fs.appendFileSync(spec.log, JSON.stringify({ command, env, stdin }) + '\\n');
let version = '1.0.0';
try { version = JSON.parse(stdin).cniVersion || version; } catch {}
const legacy = /^0\\./.test(version);
const action = spec.plan[command] || (spec.real ? { delegate: true } : { ok: true });
if (action.delegate) {
  const r = spawnSync(spec.real, [], { input: stdin, stdio: ['pipe', 'inherit', 'inherit'] });
  process.exit(r.status === null ? 1 : r.status);
} else if (action.fail) {
  process.stdout.write(JSON.stringify({ cniVersion: version, code: action.fail.code, msg: action.fail.msg }));
  process.exit(1);
} else if (action.result) {
  const ips = action.result.ips.map((address) =>
    legacy ? { version: address.includes(':') ? '6' : '4', address } : { address });
  const routes = (action.result.routes || []).map((dst) => ({ dst }));
  process.stdout.write(JSON.stringify({ cniVersion: version, ips, routes, dns: {} }));
}
`;

/** The real IPAM binary of `conf` in CNI_PATH, if there is one. */
export function realIpam(ctx: HarnessContext, conf: NetConf): string | undefined {
  const type = ipamTypeOf(conf);
  if (type === undefined || type === '' || type.includes('/')) return undefined;
  return ctx.cniPath
    .split(':')
    .map((d) => join(d, type))
    .find((p) => existsSync(p));
}

/**
 * Install a fixture IPAM named `cnf-fixture-ipam` for `base` (a main-plugin config) that follows
 * `plan`, delegating the other verbs to the real IPAM of `base` when it is found in CNI_PATH.
 */
export function installFixtureIpam(
  ctx: HarnessContext,
  base: NetConf,
  plan: FixturePlan,
): FixtureIpam {
  const dir = ctx.tmp.dir('fixture-ipam');
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  const name = 'cnf-fixture-ipam';
  const spec = { log, plan, real: realIpam(ctx, base) ?? null };
  const file = join(dir, name);
  writeFileSync(file, PROGRAM.replace('SPEC', JSON.stringify(spec)));
  chmodSync(file, 0o755);
  return {
    conf: withIpamType(base, name),
    cniPath: `${dir}:${ctx.cniPath}`,
    calls: () => parseCalls(readFileSync(log, 'utf8')),
  };
}

/** The calls in a fixture log (one JSON object per line). */
export function parseCalls(text: string): FixtureCall[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown)
    .filter(isObject)
    .map((o) => ({
      command: typeof o.command === 'string' ? o.command : '',
      env: isObject(o.env) ? (o.env as Record<string, string | undefined>) : {},
      stdin: typeof o.stdin === 'string' ? o.stdin : '',
    }));
}
