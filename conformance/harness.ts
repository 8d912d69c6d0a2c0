import { accessSync, constants } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { invocationChecks } from './checks/invocation';
import { envValueChecks } from './checks/env-values';
import { configChecks } from './checks/config';
import { versionChecks } from './checks/version';
import { hygieneChecks } from './checks/hygiene';
import { addResultChecks } from './checks/add-result';
import { addFailureChecks } from './checks/add-failures';
import { chainingChecks } from './checks/chaining';
import { delChecks } from './checks/del';
import { checkVerbChecks } from './checks/check-verb';
import { ipamChecks } from './checks/ipam';
import { gcStatusChecks } from './checks/gc-status';
import { libcniChecks } from './checks/libcni';
import { Runner, type Check, type HarnessContext } from './context';
import { openEtcdConfs, type EtcdConfs, type OwnedEtcd } from './etcd-confs';
import {
  defaultConfSource,
  fileConfSource,
  TempArea,
  type NetConf,
  type PluginKind,
} from './netconf';
import { fail, na, type ItemResult, type Outcome } from './outcome';
import { findIp, isRoot, Sandbox } from './sandbox';
import { readVersionInfo } from './version-info';
import { versionUnderTest } from './versions';

/** Every checklist item the harness knows, in report order. */
export const ALL_CHECKS: readonly Check[] = [
  ...invocationChecks,
  ...envValueChecks,
  ...configChecks,
  ...versionChecks,
  ...addResultChecks,
  ...addFailureChecks,
  ...chainingChecks,
  ...delChecks,
  ...checkVerbChecks,
  ...ipamChecks,
  ...gcStatusChecks,
  ...hygieneChecks,
  ...libcniChecks,
];

/** What to test. */
export interface HarnessOptions {
  readonly plugin: string;
  readonly kind: PluginKind;
  /** Base config from `--netconf`; default: the harness's own host-local config. */
  readonly netconf?: NetConf;
  /**
   * An etcd the caller owns (and stops): configs then use Calico IPAM on it, with its one-address
   * pool reset before each item. Not with `netconf`.
   */
  readonly etcd?: OwnedEtcd;
  /** False runs every item without namespaces, as when not root (unit tests of the harness). */
  readonly useNamespaces?: boolean;
  /** Run only items whose id starts with one of these (e.g. `D`, `F63`); default all. */
  readonly only?: readonly string[];
  /** Log how long each item took. */
  readonly timings?: boolean;
  /** Called as each item finishes (for streaming output). */
  readonly onItem?: (item: ItemResult) => void;
  /** Diagnostics (version under test, root or not) for stderr. */
  readonly log?: (line: string) => void;
}

/** CNI_PATH for a plugin: its own directory, then /usr/lib/cni. */
function cniPathFor(plugin: string): string {
  return [...new Set([dirname(plugin), '/usr/lib/cni'])].join(':');
}

/** Run one check, turning a harness exception into a fail that says so. */
async function runCheck(ctx: HarnessContext, check: Check): Promise<Outcome> {
  if (!check.kinds.includes(ctx.kind)) {
    return na(`applies to ${check.kinds.join('/')} plugins only`);
  }
  try {
    await ctx.confs.reset?.();
    return await check.run(ctx);
  } catch (e) {
    return fail(`harness error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Run every checklist item against one plugin binary. Namespaces and scratch directories are
 * removed before this returns, whatever happens.
 */
export async function runHarness(opts: HarnessOptions): Promise<ItemResult[]> {
  if (opts.netconf !== undefined && opts.etcd !== undefined) {
    throw new Error('a --netconf file and a harness-owned etcd exclude each other');
  }
  const plugin = resolve(opts.plugin);
  accessSync(plugin, constants.X_OK);
  const log = opts.log ?? (() => undefined);
  const tmp = new TempArea();
  const ip = findIp();
  const wanted = opts.useNamespaces !== false && isRoot();
  const pluginName = basename(plugin);
  let sandbox: Sandbox | undefined;
  let etcd: EtcdConfs | undefined;
  try {
    sandbox = wanted && ip !== undefined ? await Sandbox.create(ip) : undefined;
    if (opts.etcd !== undefined) {
      etcd = await openEtcdConfs({
        kind: opts.kind,
        pluginName,
        tmp,
        etcd: opts.etcd,
        netns: sandbox?.node,
      });
    }
    const runner = new Runner(plugin, sandbox);
    const probe = readVersionInfo(await runner.run({ env: { CNI_COMMAND: 'VERSION' }, stdin: '' }));
    const supported = typeof probe === 'string' ? [] : probe.supportedVersions;
    const ctx: HarnessContext = {
      plugin,
      kind: opts.kind,
      runner,
      sandbox,
      confs:
        etcd?.confs ??
        (opts.netconf === undefined
          ? defaultConfSource({ kind: opts.kind, pluginName, tmp })
          : fileConfSource(opts.netconf)),
      tmp,
      cniPath: cniPathFor(plugin),
      supported,
      version: versionUnderTest(supported),
    };
    log(
      `conformance: ${plugin} as ${opts.kind} plugin, cniVersion ${ctx.version}` +
        (typeof probe === 'string' ? ` (VERSION failed: ${probe})` : '') +
        (sandbox !== undefined
          ? `, node netns ${sandbox.node}`
          : wanted
            ? ', iproute2 `ip` not found: items needing namespaces are n/a'
            : ', not root or namespaces disabled: items needing namespaces are n/a') +
        (etcd === undefined
          ? ''
          : `, IPAM state in etcd ${opts.etcd?.endpoint ?? ''}` +
            (sandbox === undefined ? '' : ` (relayed into the node netns)`)),
    );
    const results: ItemResult[] = [];
    const only = opts.only;
    const chosen =
      only === undefined
        ? ALL_CHECKS
        : ALL_CHECKS.filter((c) => only.some((p) => c.id.startsWith(p)));
    for (const check of chosen) {
      runner.item = check.id;
      const started = Date.now();
      const item = { id: check.id, title: check.title, outcome: await runCheck(ctx, check) };
      if (opts.timings === true) log(`${check.id}: ${String(Date.now() - started)} ms`);
      results.push(item);
      opts.onItem?.(item);
    }
    return results;
  } finally {
    await etcd?.close();
    await sandbox?.dispose();
    tmp.dispose();
  }
}
